/* SQLite store; see store.h. */
#include "store.h"

#include <stdio.h>
#include <string.h>

/* Migration N brings the schema from user_version N to N+1. Append only. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE domains ("
    "  name TEXT PRIMARY KEY,"
    "  config TEXT NOT NULL,"
    "  config_path TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  monitor_pid INTEGER NOT NULL DEFAULT 0,"
    "  vmm_pid INTEGER NOT NULL DEFAULT 0,"
    "  restarts INTEGER NOT NULL DEFAULT 0,"
    "  created REAL NOT NULL,"
    "  reason TEXT);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time REAL NOT NULL,"
    "  domain TEXT,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT);"
    "CREATE INDEX events_domain ON events(domain, id);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time REAL NOT NULL,"
    "  uid INTEGER NOT NULL,"
    "  method TEXT NOT NULL,"
    "  domain TEXT,"
    "  ok INTEGER NOT NULL);"
    "CREATE TABLE metrics ("
    "  domain TEXT NOT NULL,"
    "  res INTEGER NOT NULL,"
    "  t INTEGER NOT NULL,"
    "  cpu REAL, mem INTEGER, disk_rd REAL, disk_wr REAL, net_rx REAL, net_tx REAL,"
    "  PRIMARY KEY (domain, res, t)) WITHOUT ROWID;",
    /* 1 -> 2: audit detail (phase-apply steps); phase state and history
     * (hv/control/phase_store.c) */
    "ALTER TABLE audit ADD COLUMN detail TEXT;"
    "CREATE TABLE phase_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE phase_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time REAL NOT NULL,"
    "  action TEXT NOT NULL,"
    "  from_phase INTEGER NOT NULL,"
    "  to_phase INTEGER NOT NULL,"
    "  ok INTEGER NOT NULL,"
    "  detail TEXT);",
    /* 2 -> 3: tandemd's USB rules and focused domain (hv/control/api_usb.c) */
    "CREATE TABLE usb_policy (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static int exec(struct store *s, const char *sql, char *err, size_t errlen)
{
        char *msg = NULL;
        if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                if (err)
                        snprintf(err, errlen, "%s", msg ? msg : "sqlite error");
                sqlite3_free(msg);
                return -1;
        }
        return 0;
}

int store_schema_version(struct store *s)
{
        sqlite3_stmt *st;
        int v = -1;
        if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
                return -1;
        if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return v;
}

int store_open(struct store *s, const char *path, char *err, size_t errlen)
{
        char e[256];
        memset(s, 0, sizeof(*s));
        if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK) {
                snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db));
                sqlite3_close(s->db);
                s->db = NULL;
                return -1;
        }
        sqlite3_busy_timeout(s->db, 5000);
        if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                 e, sizeof(e)) < 0)
                goto fail;
        int v = store_schema_version(s);
        if (v < 0 || v > N_MIGRATIONS) {
                snprintf(e, sizeof(e), "schema version %d is newer than this tandemd (%d)", v,
                         N_MIGRATIONS);
                goto fail;
        }
        for (; v < N_MIGRATIONS; v++) {
                char sql[64];
                snprintf(sql, sizeof(sql), "PRAGMA user_version=%d;", v + 1);
                if (exec(s, "BEGIN IMMEDIATE;", e, sizeof(e)) < 0)
                        goto fail;
                if (exec(s, migrations[v], e, sizeof(e)) < 0 || exec(s, sql, e, sizeof(e)) < 0) {
                        exec(s, "ROLLBACK;", NULL, 0);
                        goto fail;
                }
                if (exec(s, "COMMIT;", e, sizeof(e)) < 0)
                        goto fail;
        }
        return 0;
fail:
        snprintf(err, errlen, "%s: %s", path, e);
        sqlite3_close(s->db);
        s->db = NULL;
        return -1;
}

void store_close(struct store *s)
{
        if (s->db)
                sqlite3_close(s->db);
        s->db = NULL;
}

int store_begin(struct store *s)
{
        return exec(s, "BEGIN;", NULL, 0);
}

int store_commit(struct store *s)
{
        return exec(s, "COMMIT;", NULL, 0);
}

static sqlite3_stmt *prep(struct store *s, const char *sql)
{
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
                fprintf(stderr, "tandemd: sqlite: %s: %s\n", sqlite3_errmsg(s->db), sql);
                return NULL;
        }
        return st;
}

static int step_done(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

int store_domain_insert(struct store *s, const char *name, const char *config,
                        const char *config_path, const char *state, double created)
{
        sqlite3_stmt *st = prep(s, "INSERT INTO domains(name, config, config_path, state, created)"
                                   " VALUES (?, ?, ?, ?, ?)");
        if (!st)
                return -1;
        bind_text(st, 1, name);
        bind_text(st, 2, config);
        bind_text(st, 3, config_path);
        bind_text(st, 4, state);
        sqlite3_bind_double(st, 5, created);
        return step_done(st);
}

int store_domain_update(struct store *s, const char *name, const char *state, int64_t monitor_pid,
                        int64_t vmm_pid, int64_t restarts, const char *reason)
{
        sqlite3_stmt *st = prep(s, "UPDATE domains SET state=?, monitor_pid=?, vmm_pid=?,"
                                   " restarts=?, reason=? WHERE name=?");
        if (!st)
                return -1;
        bind_text(st, 1, state);
        sqlite3_bind_int64(st, 2, monitor_pid);
        sqlite3_bind_int64(st, 3, vmm_pid);
        sqlite3_bind_int64(st, 4, restarts);
        bind_text(st, 5, reason);
        bind_text(st, 6, name);
        return step_done(st);
}

int store_domain_delete(struct store *s, const char *name)
{
        sqlite3_stmt *st = prep(s, "DELETE FROM domains WHERE name=?");
        if (!st)
                return -1;
        bind_text(st, 1, name);
        if (step_done(st) < 0)
                return -1;
        st = prep(s, "DELETE FROM metrics WHERE domain=?");
        if (!st)
                return -1;
        bind_text(st, 1, name);
        return step_done(st);
}

int store_domain_each(struct store *s, store_domain_fn fn, void *opaque)
{
        sqlite3_stmt *st = prep(s, "SELECT name, config, config_path, state, monitor_pid, vmm_pid,"
                                   " restarts, created, reason FROM domains ORDER BY created");
        if (!st)
                return -1;
        while (sqlite3_step(st) == SQLITE_ROW)
                fn(opaque, (const char *)sqlite3_column_text(st, 0),
                   (const char *)sqlite3_column_text(st, 1),
                   (const char *)sqlite3_column_text(st, 2),
                   (const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4),
                   sqlite3_column_int64(st, 5), sqlite3_column_int64(st, 6),
                   sqlite3_column_double(st, 7), (const char *)sqlite3_column_text(st, 8));
        sqlite3_finalize(st);
        return 0;
}

int64_t store_event_add(struct store *s, double t, const char *domain, const char *kind,
                        const char *detail)
{
        sqlite3_stmt *st =
            prep(s, "INSERT INTO events(time, domain, kind, detail) VALUES (?, ?, ?, ?)");
        if (!st)
                return -1;
        sqlite3_bind_double(st, 1, t);
        bind_text(st, 2, domain);
        bind_text(st, 3, kind);
        bind_text(st, 4, detail);
        if (step_done(st) < 0)
                return -1;
        return sqlite3_last_insert_rowid(s->db);
}

json_object *store_events(struct store *s, const char *domain, int64_t after_id, int limit)
{
        sqlite3_stmt *st =
            prep(s, "SELECT id, time, domain, kind, detail FROM"
                    " (SELECT * FROM events WHERE id > ?1 AND (?2 IS NULL OR domain = ?2)"
                    "  ORDER BY id DESC LIMIT ?3)"
                    " ORDER BY id");
        json_object *arr = json_object_new_array();
        if (!st)
                return arr;
        sqlite3_bind_int64(st, 1, after_id);
        bind_text(st, 2, domain);
        sqlite3_bind_int(st, 3, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
                json_object_object_add(e, "time",
                                       json_object_new_double(sqlite3_column_double(st, 1)));
                if (sqlite3_column_type(st, 2) != SQLITE_NULL)
                        json_object_object_add(
                            e, "domain",
                            json_object_new_string((const char *)sqlite3_column_text(st, 2)));
                json_object_object_add(
                    e, "kind", json_object_new_string((const char *)sqlite3_column_text(st, 3)));
                if (sqlite3_column_type(st, 4) != SQLITE_NULL)
                        json_object_object_add(
                            e, "detail",
                            json_object_new_string((const char *)sqlite3_column_text(st, 4)));
                json_object_array_add(arr, e);
        }
        sqlite3_finalize(st);
        return arr;
}

int store_audit(struct store *s, double t, unsigned uid, const char *method, const char *domain,
                int ok)
{
        return store_audit_detail(s, t, uid, method, domain, ok, NULL);
}

int store_audit_detail(struct store *s, double t, unsigned uid, const char *method,
                       const char *domain, int ok, const char *detail)
{
        sqlite3_stmt *st = prep(s, "INSERT INTO audit(time, uid, method, domain, ok, detail)"
                                   " VALUES (?, ?, ?, ?, ?, ?)");
        if (!st)
                return -1;
        sqlite3_bind_double(st, 1, t);
        sqlite3_bind_int64(st, 2, uid);
        bind_text(st, 3, method);
        bind_text(st, 4, domain);
        sqlite3_bind_int(st, 5, ok);
        bind_text(st, 6, detail);
        return step_done(st);
}

int store_metric_add(struct store *s, const char *domain, int64_t t, const struct metric_sample *m)
{
        sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO metrics(domain, res, t, cpu, mem,"
                                   " disk_rd, disk_wr, net_rx, net_tx) VALUES (?,1,?,?,?,?,?,?,?)");
        if (!st)
                return -1;
        bind_text(st, 1, domain);
        sqlite3_bind_int64(st, 2, t);
        sqlite3_bind_double(st, 3, m->cpu_pct);
        sqlite3_bind_int64(st, 4, m->mem_bytes);
        sqlite3_bind_double(st, 5, m->disk_rd_bps);
        sqlite3_bind_double(st, 6, m->disk_wr_bps);
        sqlite3_bind_double(st, 7, m->net_rx_bps);
        sqlite3_bind_double(st, 8, m->net_tx_bps);
        return step_done(st);
}

int store_metrics_downsample(struct store *s, int res, int64_t from, int64_t to)
{
        int src = res == METRICS_RES_HOUR ? METRICS_RES_MINUTE : METRICS_RES_SECOND;
        sqlite3_stmt *st =
            prep(s, "INSERT OR REPLACE INTO metrics(domain, res, t, cpu, mem, disk_rd, disk_wr,"
                    " net_rx, net_tx) SELECT domain, ?1, (t / ?1) * ?1, avg(cpu), CAST(avg(mem) AS"
                    " INTEGER), avg(disk_rd), avg(disk_wr), avg(net_rx), avg(net_tx) FROM metrics"
                    " WHERE res = ?2 AND t >= ?3 AND t < ?4 GROUP BY domain, t / ?1");
        if (!st)
                return -1;
        sqlite3_bind_int(st, 1, res);
        sqlite3_bind_int(st, 2, src);
        sqlite3_bind_int64(st, 3, from);
        sqlite3_bind_int64(st, 4, to);
        if (step_done(st) < 0)
                return -1;
        /* Bounded history: each resolution keeps a fixed window. */
        static const struct {
                int res, keep;
        } windows[] = {{METRICS_RES_SECOND, METRICS_KEEP_SECONDS},
                       {METRICS_RES_MINUTE, METRICS_KEEP_MINUTES * 60},
                       {METRICS_RES_HOUR, METRICS_KEEP_HOURS * 3600}};
        for (size_t i = 0; i < 3; i++) {
                st = prep(s, "DELETE FROM metrics WHERE res = ? AND t < ?");
                if (!st)
                        return -1;
                sqlite3_bind_int(st, 1, windows[i].res);
                sqlite3_bind_int64(st, 2, to - windows[i].keep);
                if (step_done(st) < 0)
                        return -1;
        }
        return 0;
}

static const char *doc_table_name(enum store_doc_table t)
{
        return t == STORE_DOC_USB_POLICY ? "usb_policy" : "phase_state";
}

int store_doc_get(struct store *s, enum store_doc_table t, const char *key, json_object **out)
{
        char sql[96];
        snprintf(sql, sizeof(sql), "SELECT value FROM %s WHERE key = ?", doc_table_name(t));
        *out = NULL;
        sqlite3_stmt *st = prep(s, sql);
        if (!st)
                return -1;
        bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
        if (found == 1)
                *out = json_tokener_parse((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return found;
}

int store_doc_put(struct store *s, enum store_doc_table t, const char *key, json_object *doc)
{
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(key, value) VALUES (?, ?)",
                 doc_table_name(t));
        sqlite3_stmt *st = prep(s, sql);
        if (!st)
                return -1;
        bind_text(st, 1, key);
        bind_text(st, 2, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
        return step_done(st);
}

json_object *store_metrics(struct store *s, const char *domain, int res, int64_t since, int limit)
{
        sqlite3_stmt *st = prep(s, "SELECT t, cpu, mem, disk_rd, disk_wr, net_rx, net_tx FROM"
                                   " (SELECT * FROM metrics WHERE domain = ? AND res = ? AND t >= ?"
                                   "  ORDER BY t DESC LIMIT ?) ORDER BY t");
        json_object *arr = json_object_new_array();
        if (!st)
                return arr;
        bind_text(st, 1, domain);
        sqlite3_bind_int(st, 2, res);
        sqlite3_bind_int64(st, 3, since);
        sqlite3_bind_int(st, 4, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "t", json_object_new_int64(sqlite3_column_int64(st, 0)));
                json_object_object_add(r, "cpu",
                                       json_object_new_double(sqlite3_column_double(st, 1)));
                json_object_object_add(r, "mem",
                                       json_object_new_int64(sqlite3_column_int64(st, 2)));
                json_object_object_add(r, "disk_rd",
                                       json_object_new_double(sqlite3_column_double(st, 3)));
                json_object_object_add(r, "disk_wr",
                                       json_object_new_double(sqlite3_column_double(st, 4)));
                json_object_object_add(r, "net_rx",
                                       json_object_new_double(sqlite3_column_double(st, 5)));
                json_object_object_add(r, "net_tx",
                                       json_object_new_double(sqlite3_column_double(st, 6)));
                json_object_array_add(arr, r);
        }
        sqlite3_finalize(st);
        return arr;
}
