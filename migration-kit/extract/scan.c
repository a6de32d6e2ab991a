#include "extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fat16.h"

/* Room for element n of an array holding n: the capacity doubles (16, 32,
 * 64...), so a million tickets cost 17 reallocs, not a million copies. */
static void *grow(void *arr, size_t n, size_t size)
{
        if (n > 0 && (n < 16 || (n & (n - 1))))
                return arr;
        void *p = realloc(arr, (n ? 2 * n : 16) * size);
        if (!p)
                abort();
        return p;
}

static void add_bad(struct extraction *x, const char *file, uint32_t off, const uint8_t *p,
                    uint32_t len, const char *reason)
{
        struct bad_record *b = grow(x->bad, x->nbad, sizeof(*b));
        if (!b)
                abort();
        x->bad = b;
        b += x->nbad++;
        memset(b, 0, sizeof(*b));
        b->file = file;
        b->offset = off;
        b->len = len;
        snprintf(b->reason, sizeof(b->reason), "%s", reason);
        for (uint32_t i = 0; i < len && i < TICKET_LEN; i++)
                snprintf(b->hex + 2 * i, 3, "%02x", p[i]);
}

/* Decodes every whole record of one file; a partial tail is reported, not
 * dropped (the terminal never writes one, so it means a torn write). */
static void decode_file(struct extraction *x, enum source_kind k)
{
        struct source *s = &x->src[k];
        uint32_t whole = s->size - s->size % s->reclen;
        for (uint32_t off = 0; off < whole; off += s->reclen) {
                const uint8_t *rec = s->data + off;
                const char *why = NULL;
                if (k == SRC_TICKETS) {
                        x->tickets = grow(x->tickets, x->ntickets, sizeof(struct ticket));
                        struct ticket *t = &x->tickets[x->ntickets];
                        if (ticket_decode(rec, t, &why) == 0) {
                                t->offset = off;
                                x->ntickets++;
                        }
                } else if (k == SRC_RACECARD) {
                        x->runners = grow(x->runners, x->nrunners, sizeof(struct runner));
                        struct runner *r = &x->runners[x->nrunners];
                        if (runner_decode(rec, r, &why) == 0) {
                                r->offset = off;
                                x->nrunners++;
                        }
                } else {
                        x->operators = grow(x->operators, x->noperators, sizeof(struct operator));
                        struct operator* o = & x->operators[x->noperators];
                        if (operator_decode(rec, o, &why) == 0) {
                                o->offset = off;
                                x->noperators++;
                        }
                }
                if (why)
                        add_bad(x, s->name, off, rec, s->reclen, why);
        }
        if (whole < s->size) {
                char why[96];
                snprintf(why, sizeof(why), "partial record: %u of %u bytes (torn write)",
                         s->size - whole, s->reclen);
                add_bad(x, s->name, whole, s->data + whole, s->size - whole, why);
        }
}

int extract_scan(int fd, struct extraction *x, char *err, size_t errlen)
{
        static const struct {
                const char *name;
                unsigned reclen;
        } known[SRC_COUNT] = {
            [SRC_TICKETS] = {"TICKETS.DAT", TICKET_LEN},
            [SRC_RACECARD] = {"RACECARD.DAT", RUNNER_LEN},
            [SRC_OPERATORS] = {"OPERATOR.DAT", OPERATOR_LEN},
        };
        memset(x, 0, sizeof(*x));
        for (int k = 0; k < SRC_COUNT; k++) {
                x->src[k].name = known[k].name;
                x->src[k].reclen = known[k].reclen;
        }
        struct fat16 fs;
        if (fat16_open(&fs, fd, err, errlen) < 0)
                return -1;
        snprintf(x->label, sizeof(x->label), "%s", fs.label);
        x->fat_mismatches = fs.fat_mismatches;
        struct fat16_file *files = NULL;
        int n = fat16_list_root(&fs, &files, &x->nsubdirs, err, errlen);
        int rc = n < 0 ? -1 : 0;
        for (int i = 0; i < n && rc == 0; i++) {
                int k = 0;
                while (k < SRC_COUNT && strcasecmp(files[i].name, known[k].name))
                        k++;
                if (k == SRC_COUNT) {
                        x->unknown = grow(x->unknown, x->nunknown, sizeof(*x->unknown));
                        snprintf(x->unknown[x->nunknown++], 13, "%s", files[i].name);
                        continue;
                }
                struct source *s = &x->src[k];
                if (s->present) {
                        snprintf(err, errlen, "root directory lists %s twice", s->name);
                        rc = -1;
                        break;
                }
                if (fat16_read(&fs, &files[i], &s->data, err, errlen) < 0) {
                        rc = -1;
                        break;
                }
                s->present = true;
                s->moved = true; /* a full run moves everything; state.c narrows it */
                s->size = files[i].size;
                sha256_hex(s->data, s->size, s->sha256);
        }
        free(files);
        fat16_close(&fs);
        if (rc == 0)
                for (int k = 0; k < SRC_COUNT; k++)
                        if (x->src[k].present)
                                decode_file(x, k);
        return rc;
}

void extract_free(struct extraction *x)
{
        for (int k = 0; k < SRC_COUNT; k++)
                free(x->src[k].data);
        free(x->tickets);
        free(x->runners);
        free(x->operators);
        free(x->bad);
        free(x->unknown);
        free(x->status_changed);
}
