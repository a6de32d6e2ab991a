/* tandemd's SQLite store: domain registry, event log, audit log and the
 * bounded metrics history. Schema changes are numbered migrations applied
 * in order and recorded in PRAGMA user_version. */
#ifndef TANDEM_STORE_H
#define TANDEM_STORE_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdint.h>

struct store {
        sqlite3 *db;
};

struct metric_sample {
        double cpu_pct;
        int64_t mem_bytes;
        double disk_rd_bps, disk_wr_bps, net_rx_bps, net_tx_bps;
};

/* Metrics resolutions (seconds per row) and how many rows each keeps. */
#define METRICS_RES_SECOND   1
#define METRICS_RES_MINUTE   60
#define METRICS_RES_HOUR     3600
#define METRICS_KEEP_SECONDS 600  /* 10 minutes of 1 s rows */
#define METRICS_KEEP_MINUTES 1440 /* a day of minute rows */
#define METRICS_KEEP_HOURS   720  /* 30 days of hour rows */

int store_open(struct store *s, const char *path, char *err, size_t errlen);
void store_close(struct store *s);
int store_schema_version(struct store *s);

int store_begin(struct store *s);
int store_commit(struct store *s);

/* Domain rows. fields is an object of column -> value; see store.c. */
int store_domain_insert(struct store *s, const char *name, const char *config,
                        const char *config_path, const char *state, double created);
int store_domain_update(struct store *s, const char *name, const char *state, int64_t monitor_pid,
                        int64_t vmm_pid, int64_t restarts, const char *reason);
int store_domain_delete(struct store *s, const char *name);
/* Calls fn for each domain row. */
typedef void (*store_domain_fn)(void *opaque, const char *name, const char *config,
                                const char *config_path, const char *state, int64_t monitor_pid,
                                int64_t vmm_pid, int64_t restarts, double created,
                                const char *reason);
int store_domain_each(struct store *s, store_domain_fn fn, void *opaque);

int64_t store_event_add(struct store *s, double t, const char *domain, const char *kind,
                        const char *detail);
/* Newest-last array of {id,time,domain,kind,detail}; domain may be NULL. */
json_object *store_events(struct store *s, const char *domain, int64_t after_id, int limit);

int store_audit(struct store *s, double t, unsigned uid, const char *method, const char *domain,
                int ok);
/* The same with a free-text detail (e.g. one step of a phase apply). */
int store_audit_detail(struct store *s, double t, unsigned uid, const char *method,
                       const char *domain, int ok, const char *detail);

int store_metric_add(struct store *s, const char *domain, int64_t t, const struct metric_sample *m);
/* Folds [from, to) 1 s rows into res rows (60 or 3600) and prunes old rows. */
int store_metrics_downsample(struct store *s, int res, int64_t from, int64_t to);
/* Key-value tables whose values are JSON documents (tandemd state that is
 * one object: the phase engine's state, the USB policy). */
enum store_doc_table { STORE_DOC_PHASE_STATE, STORE_DOC_USB_POLICY };
/* 1 when the key has a row (*out is its JSON, or NULL if it does not
 * parse), 0 when it has none, -1 on a database error. */
int store_doc_get(struct store *s, enum store_doc_table t, const char *key, json_object **out);
int store_doc_put(struct store *s, enum store_doc_table t, const char *key, json_object *doc);

json_object *store_metrics(struct store *s, const char *domain, int res, int64_t since, int limit);

#endif
