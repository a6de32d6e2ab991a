#include "sinks.h"

#include <errno.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *ticket_event(const struct extraction *x, size_t i)
{
        if (!x->incremental || x->tickets[i].offset >= x->tickets_from)
                return "new";
        return x->status_changed[i] ? "status" : NULL;
}

/* RFC 4180 field: quoted when it holds a comma, quote or line break. */
static void csv_text(FILE *f, const char *s)
{
        if (!strpbrk(s, ",\"\r\n")) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static void jsonl(FILE *f, json_object *o)
{
        fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
              f);
        fputc('\n', f);
        json_object_put(o);
}

static FILE *open_out(const char *dir, const char *name, char *err, size_t errlen)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        if (!f)
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return f;
}

#define J_INT(o, k, v) json_object_object_add(o, k, json_object_new_int64(v))
#define J_STR(o, k, v) json_object_object_add(o, k, json_object_new_string(v))

/* The ticket table is the big one (a million lines on a busy terminal's
 * disk), so its lines are formatted by hand into one buffer: json-c and
 * stdio's printf per field cost ten times the decoding. The bytes are the
 * ones json-c writes (JSON_C_TO_STRING_PLAIN | NOSLASHESCAPE). */
static char *put_str(char *p, const char *s)
{
        memcpy(p, s, strlen(s));
        return p + strlen(s);
}

static char *put_uint(char *p, uint32_t v)
{
        char tmp[10];
        int n = 0;
        do
                tmp[n++] = (char)('0' + v % 10);
        while ((v /= 10));
        while (n)
                *p++ = tmp[--n];
        return p;
}

/* A JSON string: '"', '\\' and control characters escaped as json-c does. */
static char *put_json_str(char *p, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        *p++ = '"';
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                const char *esc = ch == '"'    ? "\\\""
                                  : ch == '\\' ? "\\\\"
                                  : ch == '\b' ? "\\b"
                                  : ch == '\f' ? "\\f"
                                  : ch == '\n' ? "\\n"
                                  : ch == '\r' ? "\\r"
                                  : ch == '\t' ? "\\t"
                                               : NULL;
                if (esc) {
                        p = put_str(p, esc);
                } else if (ch < 0x20) {
                        p = put_str(p, "\\u00");
                        *p++ = hex[ch >> 4];
                        *p++ = hex[ch & 15];
                } else {
                        *p++ = (char)ch;
                }
        }
        *p++ = '"';
        return p;
}

/* An RFC 4180 field: quoted when it holds a comma, quote or line break. */
static char *put_csv_str(char *p, const char *s)
{
        if (!strpbrk(s, ",\"\r\n"))
                return put_str(p, s);
        *p++ = '"';
        for (; *s; s++) {
                if (*s == '"')
                        *p++ = '"';
                *p++ = *s;
        }
        *p++ = '"';
        return p;
}

static int write_tickets(const char *dir, const struct extraction *x, char *err, size_t errlen)
{
        FILE *j = open_out(dir, "tickets.jsonl", err, errlen);
        FILE *c = j ? open_out(dir, "tickets.csv", err, errlen) : NULL;
        if (!c) {
                if (j)
                        fclose(j);
                return -1;
        }
        static char jbuf[1 << 16], cbuf[1 << 16];
        setvbuf(j, NULL, _IOFBF, 1 << 20);
        setvbuf(c, NULL, _IOFBF, 1 << 20);
        fputs(
            "event,offset,number,sold_at,operator_id,race,runner,stake_ore,status,runner_name\r\n",
            c);
        for (size_t i = 0; i < x->ntickets; i++) {
                const struct ticket *t = &x->tickets[i];
                const char *ev = ticket_event(x, i);
                if (!ev)
                        continue;
                /* Each field is bounded (name: 55 bytes, 330 escaped). */
                char *p = put_str(jbuf, "{\"event\":\"");
                p = put_str(p, ev);
                p = put_uint(put_str(p, "\",\"offset\":"), t->offset);
                p = put_uint(put_str(p, ",\"number\":"), t->number);
                p = put_json_str(put_str(p, ",\"sold_at\":"), t->sold_at);
                p = put_uint(put_str(p, ",\"operator_id\":"), t->operator_id);
                p = put_uint(put_str(p, ",\"race\":"), t->race);
                p = put_uint(put_str(p, ",\"runner\":"), t->runner);
                p = put_uint(put_str(p, ",\"stake_ore\":"), t->stake_ore);
                p = put_str(p, t->status == 'S' ? ",\"status\":\"S\"" : ",\"status\":\"C\"");
                p = put_json_str(put_str(p, ",\"runner_name\":"), t->name);
                p = put_str(p, "}\n");
                fwrite(jbuf, 1, (size_t)(p - jbuf), j);
                char *q = put_str(cbuf, ev);
                q = put_uint(put_str(q, ","), t->offset);
                q = put_uint(put_str(q, ","), t->number);
                q = put_str(put_str(q, ","), t->sold_at);
                q = put_uint(put_str(q, ","), t->operator_id);
                q = put_uint(put_str(q, ","), t->race);
                q = put_uint(put_str(q, ","), t->runner);
                q = put_uint(put_str(q, ","), t->stake_ore);
                *q++ = ',';
                *q++ = t->status;
                *q++ = ',';
                q = put_str(put_csv_str(q, t->name), "\r\n");
                fwrite(cbuf, 1, (size_t)(q - cbuf), c);
        }
        int bad = ferror(j) | ferror(c);
        bad |= fclose(j) | fclose(c);
        if (bad)
                snprintf(err, errlen, "%s: write error on tickets output", dir);
        return bad ? -1 : 0;
}

static int write_tables(const char *dir, const struct extraction *x, char *err, size_t errlen)
{
        FILE *f[4] = {open_out(dir, "racecard.jsonl", err, errlen),
                      open_out(dir, "racecard.csv", err, errlen),
                      open_out(dir, "operators.jsonl", err, errlen),
                      open_out(dir, "operators.csv", err, errlen)};
        int bad = 0;
        for (int i = 0; i < 4; i++)
                bad |= !f[i];
        if (!bad) {
                fputs("offset,race,track,post,number,name\r\n", f[1]);
                fputs("offset,id,name\r\n", f[3]);
                for (size_t i = 0; x->src[SRC_RACECARD].moved && i < x->nrunners; i++) {
                        const struct runner *r = &x->runners[i];
                        json_object *o = json_object_new_object();
                        J_INT(o, "offset", r->offset);
                        J_INT(o, "race", r->race);
                        J_STR(o, "track", r->track);
                        J_STR(o, "post", r->post);
                        J_INT(o, "number", r->number);
                        J_STR(o, "name", r->name);
                        jsonl(f[0], o);
                        fprintf(f[1], "%u,%u,", r->offset, r->race);
                        csv_text(f[1], r->track);
                        fprintf(f[1], ",%s,%u,", r->post, r->number);
                        csv_text(f[1], r->name);
                        fputs("\r\n", f[1]);
                }
                for (size_t i = 0; x->src[SRC_OPERATORS].moved && i < x->noperators; i++) {
                        const struct operator* op = & x->operators[i];
                        json_object *o = json_object_new_object();
                        J_INT(o, "offset", op->offset);
                        J_INT(o, "id", op->id);
                        J_STR(o, "name", op->name);
                        jsonl(f[2], o);
                        fprintf(f[3], "%u,%u,", op->offset, op->id);
                        csv_text(f[3], op->name);
                        fputs("\r\n", f[3]);
                }
        }
        for (int i = 0; i < 4; i++)
                if (f[i])
                        bad |= ferror(f[i]) | fclose(f[i]);
        if (bad && !*err)
                snprintf(err, errlen, "%s: write error on racecard/operators output", dir);
        return bad ? -1 : 0;
}

int sinks_write_text(const char *dir, const struct extraction *x, char *err, size_t errlen)
{
        err[0] = 0;
        return write_tickets(dir, x, err, errlen) < 0 ? -1 : write_tables(dir, x, err, errlen);
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS tickets(offset INTEGER PRIMARY KEY, number INTEGER, "
    "sold_at TEXT, day TEXT, operator_id INTEGER, race INTEGER, runner INTEGER, "
    "stake_ore INTEGER, status TEXT, runner_name TEXT);"
    "CREATE TABLE IF NOT EXISTS racecard(offset INTEGER PRIMARY KEY, race INTEGER, track TEXT, "
    "post TEXT, number INTEGER, name TEXT);"
    "CREATE TABLE IF NOT EXISTS operators(offset INTEGER PRIMARY KEY, id INTEGER, name TEXT);"
    "CREATE TABLE IF NOT EXISTS undecodable(file TEXT, offset INTEGER, length INTEGER, "
    "reason TEXT, hex TEXT, PRIMARY KEY(file, offset));"
    "CREATE TABLE IF NOT EXISTS sources(name TEXT PRIMARY KEY, size INTEGER, sha256 TEXT);";

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
        char *msg = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                snprintf(err, errlen, "sqlite: %s", msg ? msg : "error");
                sqlite3_free(msg);
                return -1;
        }
        return 0;
}

static int fill(sqlite3 *db, const struct extraction *x)
{
        sqlite3_stmt *st = NULL;
        int rc = 0;
        sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO tickets VALUES(?1,?2,?3,substr(?3,1,8),?4,?5,"
                           "?6,?7,?8,?9)",
                           -1, &st, NULL);
        for (size_t i = 0; i < x->ntickets && rc == 0; i++) {
                const struct ticket *t = &x->tickets[i];
                if (!ticket_event(x, i))
                        continue;
                char status[2] = {t->status, 0};
                sqlite3_bind_int64(st, 1, t->offset);
                sqlite3_bind_int64(st, 2, t->number);
                sqlite3_bind_text(st, 3, t->sold_at, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 4, t->operator_id);
                sqlite3_bind_int64(st, 5, t->race);
                sqlite3_bind_int64(st, 6, t->runner);
                sqlite3_bind_int64(st, 7, t->stake_ore);
                sqlite3_bind_text(st, 8, status, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(st, 9, t->name, -1, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        if (x->src[SRC_RACECARD].moved) {
                sqlite3_exec(db, "DELETE FROM racecard", NULL, NULL, NULL);
                sqlite3_prepare_v2(db, "INSERT INTO racecard VALUES(?1,?2,?3,?4,?5,?6)", -1, &st,
                                   NULL);
                for (size_t i = 0; i < x->nrunners && rc == 0; i++) {
                        const struct runner *r = &x->runners[i];
                        sqlite3_bind_int64(st, 1, r->offset);
                        sqlite3_bind_int64(st, 2, r->race);
                        sqlite3_bind_text(st, 3, r->track, -1, SQLITE_STATIC);
                        sqlite3_bind_text(st, 4, r->post, -1, SQLITE_STATIC);
                        sqlite3_bind_int64(st, 5, r->number);
                        sqlite3_bind_text(st, 6, r->name, -1, SQLITE_STATIC);
                        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
                        sqlite3_reset(st);
                }
                sqlite3_finalize(st);
        }
        if (x->src[SRC_OPERATORS].moved) {
                sqlite3_exec(db, "DELETE FROM operators", NULL, NULL, NULL);
                sqlite3_prepare_v2(db, "INSERT INTO operators VALUES(?1,?2,?3)", -1, &st, NULL);
                for (size_t i = 0; i < x->noperators && rc == 0; i++) {
                        sqlite3_bind_int64(st, 1, x->operators[i].offset);
                        sqlite3_bind_int64(st, 2, x->operators[i].id);
                        sqlite3_bind_text(st, 3, x->operators[i].name, -1, SQLITE_STATIC);
                        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
                        sqlite3_reset(st);
                }
                sqlite3_finalize(st);
        }
        sqlite3_exec(db, "DELETE FROM undecodable; DELETE FROM sources", NULL, NULL, NULL);
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO undecodable VALUES(?1,?2,?3,?4,?5)", -1, &st,
                           NULL);
        for (size_t i = 0; i < x->nbad && rc == 0; i++) {
                sqlite3_bind_text(st, 1, x->bad[i].file, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, x->bad[i].offset);
                sqlite3_bind_int64(st, 3, x->bad[i].len);
                sqlite3_bind_text(st, 4, x->bad[i].reason, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 5, x->bad[i].hex, -1, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db, "INSERT INTO sources VALUES(?1,?2,?3)", -1, &st, NULL);
        for (int k = 0; k < SRC_COUNT && rc == 0; k++) {
                if (!x->src[k].present)
                        continue;
                sqlite3_bind_text(st, 1, x->src[k].name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, x->src[k].size);
                sqlite3_bind_text(st, 3, x->src[k].sha256, -1, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
                sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        return rc;
}

int sinks_write_sqlite(const char *dir, const struct extraction *x, long long *count,
                       long long *sold_stakes, char *err, size_t errlen)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/legacy.sqlite", dir);
        if (!x->incremental && unlink(path) < 0 && errno != ENOENT) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        sqlite3 *db;
        if (sqlite3_open(path, &db) != SQLITE_OK) {
                snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
                sqlite3_close(db);
                return -1;
        }
        int rc = exec(db, schema, err, errlen);
        if (rc == 0)
                rc = exec(db, "BEGIN", err, errlen);
        if (rc == 0 && fill(db, x) < 0) {
                snprintf(err, errlen, "%s: insert failed: %s", path, sqlite3_errmsg(db));
                rc = -1;
        }
        if (rc == 0)
                rc = exec(db, "COMMIT", err, errlen);
        sqlite3_stmt *st;
        if (rc == 0 &&
            sqlite3_prepare_v2(db,
                               "SELECT count(*), coalesce(sum(CASE status WHEN 'S' THEN stake_ore "
                               "END), 0) FROM tickets",
                               -1, &st, NULL) == SQLITE_OK) {
                if (sqlite3_step(st) == SQLITE_ROW) {
                        *count = sqlite3_column_int64(st, 0);
                        *sold_stakes = sqlite3_column_int64(st, 1);
                }
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return rc;
}
