#include "report.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks.h"

struct day_total {
        char day[9];
        long long sold, cancelled, stake;
};

struct totals {
        long long sold, cancelled, stake, cancelled_stake;
        long long race_sold[100], race_stake[100];
        struct day_total *days;
        size_t ndays;
};

static void add_up(const struct extraction *x, struct totals *t)
{
        memset(t, 0, sizeof(*t));
        for (size_t i = 0; i < x->ntickets; i++) {
                const struct ticket *k = &x->tickets[i];
                char day[9];
                ticket_day(k, day);
                size_t d = 0;
                while (d < t->ndays && strcmp(t->days[d].day, day))
                        d++;
                if (d == t->ndays) {
                        t->days = realloc(t->days, (t->ndays + 1) * sizeof(*t->days));
                        if (!t->days)
                                abort();
                        memset(&t->days[d], 0, sizeof(t->days[d]));
                        memcpy(t->days[d].day, day, 9);
                        t->ndays++;
                }
                if (k->status == 'S') {
                        t->sold++;
                        t->stake += k->stake_ore;
                        t->race_sold[k->race]++;
                        t->race_stake[k->race] += k->stake_ore;
                        t->days[d].sold++;
                        t->days[d].stake += k->stake_ore;
                } else {
                        t->cancelled++;
                        t->cancelled_stake += k->stake_ore;
                        t->days[d].cancelled++;
                }
        }
}

static int cmp_day(const void *a, const void *b)
{
        return strcmp(((const struct day_total *)a)->day, ((const struct day_total *)b)->day);
}

static size_t decoded(const struct extraction *x, int k)
{
        return k == SRC_TICKETS ? x->ntickets : k == SRC_RACECARD ? x->nrunners : x->noperators;
}

static size_t bad_in(const struct extraction *x, const char *file, uint64_t *bytes)
{
        size_t n = 0;
        *bytes = 0;
        for (size_t i = 0; i < x->nbad; i++)
                if (!strcmp(x->bad[i].file, file)) {
                        n++;
                        *bytes += x->bad[i].len;
                }
        return n;
}

static void sek(char *buf, size_t len, long long ore)
{
        snprintf(buf, len, "%lld.%02lld", ore / 100, ore % 100);
}

#define J_INT(o, k, v)  json_object_object_add(o, k, json_object_new_int64(v))
#define J_STR(o, k, v)  json_object_object_add(o, k, json_object_new_string(v))
#define J_BOOL(o, k, v) json_object_object_add(o, k, json_object_new_boolean(v))

int report_write(const char *dir, const char *image, const struct extraction *x,
                 const struct db_check *db, bool *reconciled, char *err, size_t errlen)
{
        struct totals t;
        add_up(x, &t);
        qsort(t.days, t.ndays, sizeof(*t.days), cmp_day);

        json_object *r = json_object_new_object();
        J_STR(r, "image", image);
        J_STR(r, "label", x->label);
        bool accounted = true;
        json_object *srcs = json_object_new_array();
        for (int k = 0; k < SRC_COUNT; k++) {
                const struct source *s = &x->src[k];
                json_object *o = json_object_new_object();
                J_STR(o, "name", s->name);
                J_BOOL(o, "present", s->present);
                uint64_t bad_bytes;
                size_t nbad = bad_in(x, s->name, &bad_bytes);
                if (s->present) {
                        J_INT(o, "size", s->size);
                        J_STR(o, "sha256", s->sha256);
                        J_INT(o, "records", (int64_t)decoded(x, k));
                        J_INT(o, "undecodable", (int64_t)nbad);
                        uint64_t covered = decoded(x, k) * s->reclen + bad_bytes;
                        J_BOOL(o, "all_bytes_accounted", covered == s->size);
                        accounted &= covered == s->size;
                }
                json_object_array_add(srcs, o);
        }
        json_object_object_add(r, "sources", srcs);

        json_object *tk = json_object_new_object();
        J_INT(tk, "records", (int64_t)x->ntickets);
        J_INT(tk, "sold", t.sold);
        J_INT(tk, "cancelled", t.cancelled);
        J_INT(tk, "stake_total_ore", t.stake);
        J_INT(tk, "cancelled_stake_ore", t.cancelled_stake);
        json_object *races = json_object_new_array();
        for (int i = 1; i < 100; i++) {
                if (!t.race_sold[i])
                        continue;
                json_object *o = json_object_new_object();
                J_INT(o, "race", i);
                J_INT(o, "sold", t.race_sold[i]);
                J_INT(o, "stake_ore", t.race_stake[i]);
                json_object_array_add(races, o);
        }
        json_object_object_add(tk, "by_race", races);
        json_object *days = json_object_new_array();
        for (size_t i = 0; i < t.ndays; i++) {
                json_object *o = json_object_new_object();
                J_STR(o, "day", t.days[i].day);
                J_INT(o, "sold", t.days[i].sold);
                J_INT(o, "cancelled", t.days[i].cancelled);
                J_INT(o, "stake_ore", t.days[i].stake);
                json_object_array_add(days, o);
        }
        json_object_object_add(tk, "by_day", days);
        json_object *cancelled = json_object_new_array();
        for (size_t i = 0; i < x->ntickets; i++)
                if (x->tickets[i].status == 'C')
                        json_object_array_add(cancelled,
                                              json_object_new_int64(x->tickets[i].number));
        json_object_object_add(tk, "cancelled_numbers", cancelled);
        json_object_object_add(r, "tickets", tk);

        json_object *bad = json_object_new_array();
        for (size_t i = 0; i < x->nbad; i++) {
                json_object *o = json_object_new_object();
                J_STR(o, "file", x->bad[i].file);
                J_INT(o, "offset", x->bad[i].offset);
                J_INT(o, "length", x->bad[i].len);
                J_STR(o, "reason", x->bad[i].reason);
                J_STR(o, "hex", x->bad[i].hex);
                json_object_array_add(bad, o);
        }
        json_object_object_add(r, "undecodable", bad);
        json_object *unk = json_object_new_array();
        for (size_t i = 0; i < x->nunknown; i++)
                json_object_array_add(unk, json_object_new_string(x->unknown[i]));
        json_object_object_add(r, "unknown_files", unk);
        J_INT(r, "subdirectories", x->nsubdirs);
        J_INT(r, "fat_copies_differ", x->fat_mismatches);

        size_t moved_new = 0;
        for (size_t i = 0; i < x->ntickets; i++)
                moved_new += ticket_event(x, i) && !strcmp(ticket_event(x, i), "new");
        json_object *run = json_object_new_object();
        J_STR(run, "mode", x->incremental ? "incremental" : "full");
        J_INT(run, "tickets_new", (int64_t)moved_new);
        J_INT(run, "tickets_status_changed", (int64_t)x->nstatus_changed);
        J_BOOL(run, "racecard_moved", x->src[SRC_RACECARD].moved);
        J_BOOL(run, "operators_moved", x->src[SRC_OPERATORS].moved);
        json_object_object_add(r, "this_run", run);

        bool db_ok = db->tickets == (long long)x->ntickets && db->sold_stakes == t.stake;
        json_object *dbo = json_object_new_object();
        J_INT(dbo, "tickets", db->tickets);
        J_INT(dbo, "stake_total_ore", db->sold_stakes);
        J_BOOL(dbo, "matches_records", db_ok);
        json_object_object_add(r, "database", dbo);
        *reconciled = db_ok && accounted && x->nbad == 0 && x->fat_mismatches == 0;
        J_BOOL(r, "all_bytes_accounted", accounted);
        J_BOOL(r, "reconciled", *reconciled);

        char path[4096];
        snprintf(path, sizeof(path), "%s/report.json", dir);
        int rc = json_object_to_file_ext(path, r,
                                         JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        json_object_put(r);
        snprintf(path, sizeof(path), "%s/report.txt", dir);
        FILE *f = rc == 0 ? fopen(path, "w") : NULL;
        if (!f) {
                snprintf(err, errlen, "%s: cannot write report: %s", dir, strerror(errno));
                free(t.days);
                return -1;
        }
        char a[32], b[32];
        fprintf(f, "Legacy data extraction report\nimage: %s (label %s)\n\n", image, x->label);
        for (int k = 0; k < SRC_COUNT; k++) {
                const struct source *s = &x->src[k];
                uint64_t bb;
                if (s->present)
                        fprintf(f, "%-12s %8u bytes  %6zu records  %3zu undecodable  sha256 %s\n",
                                s->name, s->size, decoded(x, k), bad_in(x, s->name, &bb),
                                s->sha256);
                else
                        fprintf(f, "%-12s missing\n", s->name);
        }
        sek(a, sizeof(a), t.stake);
        sek(b, sizeof(b), t.cancelled_stake);
        fprintf(f, "\nTickets: %zu records, %lld sold, %lld cancelled\n", x->ntickets, t.sold,
                t.cancelled);
        fprintf(f, "Total stakes (sold): SEK %s   cancelled stakes: SEK %s\n", a, b);
        for (int i = 1; i < 100; i++)
                if (t.race_sold[i]) {
                        sek(a, sizeof(a), t.race_stake[i]);
                        fprintf(f, "  race %02d: %lld sold, SEK %s\n", i, t.race_sold[i], a);
                }
        for (size_t i = 0; i < t.ndays; i++) {
                sek(a, sizeof(a), t.days[i].stake);
                fprintf(f, "  day %s: %lld sold, %lld cancelled, SEK %s\n", t.days[i].day,
                        t.days[i].sold, t.days[i].cancelled, a);
        }
        if (t.cancelled) {
                fputs("Cancelled tickets:", f);
                for (size_t i = 0; i < x->ntickets; i++)
                        if (x->tickets[i].status == 'C')
                                fprintf(f, " %06u", x->tickets[i].number);
                fputc('\n', f);
        }
        fprintf(f, "\nUndecodable records: %zu\n", x->nbad);
        for (size_t i = 0; i < x->nbad; i++)
                fprintf(f, "  %s at byte %u (%u bytes): %s\n", x->bad[i].file, x->bad[i].offset,
                        x->bad[i].len, x->bad[i].reason);
        for (size_t i = 0; i < x->nunknown; i++)
                fprintf(f, "Other file in the root directory (not extracted): %s\n", x->unknown[i]);
        if (x->nsubdirs)
                fprintf(f, "Subdirectories (not extracted): %u\n", x->nsubdirs);
        if (x->fat_mismatches)
                fprintf(f, "FAT 2 differs from FAT 1 in %u entries (FAT 1 was used)\n",
                        x->fat_mismatches);
        fprintf(f, "\nThis run (%s): %zu new tickets, %zu cancellations of earlier tickets\n",
                x->incremental ? "incremental" : "full", moved_new, x->nstatus_changed);
        fprintf(f, "Database: %lld tickets, SEK %lld.%02lld sold: %s\n", db->tickets,
                db->sold_stakes / 100, db->sold_stakes % 100,
                db_ok ? "matches the records" : "DOES NOT MATCH the records");
        fprintf(f, "Reconciled: %s\n", *reconciled ? "yes" : "NO");
        free(t.days);
        return fclose(f) == 0 ? 0 : -1;
}
