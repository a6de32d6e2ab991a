/* tandemd's phase methods: phase-status, phase-plan, phase-apply,
 * phase-rollback, phase-history (docs/api.md, docs/phase-plan.md). The
 * applied phase, its plan text and the device owners live in the store's
 * phase_state table, so a restarted tandemd knows where it stands. */
#include "daemon.h"
#include "phase_engine.h"
#include "phase_plan.h"
#include "tandem_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- persisted state ---- */

static json_object *state_load(void)
{
        json_object *o = NULL;
        store_doc_get(&g_store, STORE_DOC_PHASE_STATE, "state", &o);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                o = json_object_new_object();
                json_object_object_add(o, "phase", json_object_new_int(0));
        }
        return o;
}

static void state_save(json_object *o)
{
        store_doc_put(&g_store, STORE_DOC_PHASE_STATE, "state", o);
}

static void history_add(const char *action, int from, int to, bool ok, const char *detail)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(g_store.db,
                               "INSERT INTO phase_history(time, action, from_phase, to_phase, ok,"
                               " detail) VALUES (?, ?, ?, ?, ?, ?)",
                               -1, &st, NULL) != SQLITE_OK)
                return;
        sqlite3_bind_double(st, 1, now_wall());
        sqlite3_bind_text(st, 2, action, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, from);
        sqlite3_bind_int(st, 4, to);
        sqlite3_bind_int(st, 5, ok);
        if (detail)
                sqlite3_bind_text(st, 6, detail, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_finalize(st);
}

static int state_int(json_object *s, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(s, k, &v) ? json_object_get_int(v) : 0;
}

static const char *state_str(json_object *s, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(s, k, &v) && json_object_is_type(v, json_type_string)
                   ? json_object_get_string(v)
                   : NULL;
}

static void set_str(json_object *s, const char *k, const char *v)
{
        json_object_object_add(s, k, v ? json_object_new_string(v) : NULL);
}

/* ---- one run (apply or rollback) ---- */

struct job {
        struct plan plan;
        char *plan_text, *plan_path;
        struct pending_reply reply;
        const char *action; /* "apply" or "rollback" */
        int from, to;
        bool rolling_back; /* undoing a failed apply */
        char *error;       /* the failure being undone */
};

static void job_free(struct job *j)
{
        plan_free(&j->plan);
        free(j->plan_text);
        free(j->plan_path);
        free(j->error);
        free(j);
}

static json_object *owners_of(const struct plan *p, int phase)
{
        json_object *o = json_object_new_object();
        if (phase < 1)
                return o;
        const struct plan_phase *ph = &p->phases[phase - 1];
        for (size_t i = 0; i < ph->n_owners; i++)
                json_object_object_add(
                    o, ph->owners[i].left,
                    json_object_new_string(p->domains[ph->owners[i].domain].name));
        return o;
}

/* Records the domains a phase retires with their archives, so a rollback
 * can bring back a config file that was purged with the disk. */
static json_object *retired_of(const struct plan *p, int phase)
{
        json_object *a = json_object_new_array();
        for (int k = 1; k <= phase; k++) {
                const struct plan_phase *ph = &p->phases[k - 1];
                for (size_t i = 0; i < ph->n_retire; i++) {
                        const struct plan_domain *d = &p->domains[ph->retire[i]];
                        json_object *r = json_object_new_object();
                        json_object_object_add(r, "domain", json_object_new_string(d->name));
                        json_object_object_add(r, "archive", json_object_new_string(d->archive));
                        json_object_object_add(r, "config", json_object_new_string(d->config_path));
                        json_object_array_add(a, r);
                }
        }
        return a;
}

static void job_done(void *opaque, bool ok, const char *error, json_object *owners);

static int start_steps(struct job *j, int to, json_object *owners, char *err, size_t errlen)
{
        struct step_list steps;
        if (phase_steps(&j->plan, to, owners, &steps, err, errlen) < 0)
                return -1;
        char what[32];
        snprintf(what, sizeof(what), "phase-%s", j->rolling_back ? "undo" : j->action);
        phase_run(&j->plan, &steps, what, j->rolling_back ? j->to : j->from,
                  j->rolling_back ? j->from : to, owners, job_done, j);
        return 0;
}

static void job_done(void *opaque, bool ok, const char *error, json_object *live_owners)
{
        struct job *j = opaque;
        json_object *st = state_load();
        if (!j->rolling_back && ok) {
                json_object_object_add(st, "phase", json_object_new_int(j->to));
                set_str(st, "plan_text", j->plan_text);
                set_str(st, "plan_path", j->plan_path);
                set_str(st, "last_error", NULL);
                json_object_object_add(st, "owners", owners_of(&j->plan, j->to));
                json_object_object_add(st, "retired", retired_of(&j->plan, j->to));
                state_save(st);
                history_add(j->action, j->from, j->to, true, NULL);
                json_object *r = json_object_new_object();
                json_object_object_add(r, "phase", json_object_new_int(j->to));
                json_object_object_add(r, "from", json_object_new_int(j->from));
                pending_ok(&j->reply, r);
                json_object_put(st);
                job_free(j);
                return;
        }
        char msg[2048];
        if (!j->rolling_back) {
                /* Undo: converge back on the phase we started from. */
                j->error = strdup(error ? error : "failed");
                j->rolling_back = true;
                char err[512];
                /* Undo from where the devices are now, not from where the
                 * target phase would have put them. */
                json_object_put(st);
                st = NULL;
                if (start_steps(j, j->from, live_owners, err, sizeof(err)) == 0)
                        return;
                snprintf(msg, sizeof(msg), "%s phase %d failed: %s; undo failed too: %s", j->action,
                         j->to, j->error, err);
        } else if (ok) {
                snprintf(msg, sizeof(msg), "%s phase %d failed: %s; back in phase %d", j->action,
                         j->to, j->error, j->from);
        } else {
                snprintf(msg, sizeof(msg), "%s phase %d failed: %s; undo failed too: %s", j->action,
                         j->to, j->error, error ? error : "failed");
        }
        if (!st)
                st = state_load();
        set_str(st, "last_error", msg);
        if (live_owners)
                json_object_object_add(st, "owners", json_object_get(live_owners));
        state_save(st);
        json_object_put(st);
        history_add(j->action, j->from, j->to, false, msg);
        pending_error(&j->reply, TANDEM_E_STATE, "%s", msg);
        job_free(j);
}

/* ---- parameters ---- */

static bool get_str(json_object *p, const char *k, const char **out)
{
        json_object *v;
        if (!p || !json_object_object_get_ex(p, k, &v)) {
                *out = NULL;
                return true;
        }
        if (!json_object_is_type(v, json_type_string))
                return false;
        *out = json_object_get_string(v);
        return true;
}

/* Parses the request's plan (or the stored one) and picks the target
 * phase. Replies with the error and returns NULL when that fails. */
static struct job *job_from_request(struct client *c, json_object *id, json_object *params,
                                    const char *action)
{
        const char *text, *path;
        json_object *pv = NULL;
        if (!get_str(params, "plan", &text) || !get_str(params, "path", &path) ||
            (params && json_object_object_get_ex(params, "phase", &pv) &&
             !json_object_is_type(pv, json_type_int))) {
                api_reply_error(c, id, TANDEM_E_INVALID,
                                "plan, path: expected strings; phase: expected an integer");
                return NULL;
        }
        json_object *st = state_load();
        int cur = state_int(st, "phase");
        if (!text) {
                text = state_str(st, "plan_text");
                path = state_str(st, "plan_path");
                if (!text) {
                        api_reply_error(c, id, TANDEM_E_INVALID,
                                        "plan: no plan given and none applied yet");
                        json_object_put(st);
                        return NULL;
                }
        }
        struct job *j = calloc(1, sizeof(*j));
        char err[1024];
        if (!j || !(j->plan_text = strdup(text)) ||
            !(j->plan_path = strdup(path ? path : "plan"))) {
                api_reply_error(c, id, TANDEM_E_VMM, "out of memory");
                json_object_put(st);
                if (j)
                        job_free(j);
                return NULL;
        }
        if (plan_parse(&j->plan, j->plan_text, j->plan_path, err, sizeof(err)) < 0) {
                api_reply_error(c, id, TANDEM_E_CONFIG, "%s", err);
                json_object_put(st);
                job_free(j);
                return NULL;
        }
        int n = (int)j->plan.n_phases;
        j->action = action;
        j->from = cur;
        j->to = !strcmp(action, "rollback") ? cur - 1 : pv ? json_object_get_int(pv) : cur + 1;
        json_object_put(st);
        const char *why = NULL;
        char buf[256];
        if (!strcmp(action, "rollback") && cur == 0)
                why = "no phase is applied; nothing to roll back";
        else if (j->to < 1 && strcmp(action, "rollback")) {
                why = "phase must be 1 or more";
        } else if (j->to > n) {
                snprintf(buf, sizeof(buf), "%s has %d phases; phase %d is past the last",
                         j->plan_path, n, j->to);
                why = buf;
        } else if (strcmp(action, "rollback") && (j->to > cur + 1 || j->to < cur)) {
                snprintf(buf, sizeof(buf),
                         "cannot go from phase %d to phase %d: phases go one at a time (%s)", cur,
                         j->to, j->to > cur ? "apply the next one first" : "use rollback");
                why = buf;
        }
        if (why) {
                api_reply_error(c, id, TANDEM_E_STATE, "%s", why);
                job_free(j);
                return NULL;
        }
        return j;
}

static json_object *steps_json(const struct step_list *l)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < l->n; i++)
                json_object_array_add(a, json_object_new_string(l->s[i].text));
        return a;
}

/* What changes besides the steps: routes, kiosk and device owners. */
static json_object *changes_json(const struct plan *p, int from, int to)
{
        json_object *o = json_object_new_array();
        const struct plan_phase *a = from > 0 ? &p->phases[from - 1] : NULL;
        const struct plan_phase *b = to > 0 ? &p->phases[to - 1] : NULL;
        char line[256];
        for (size_t k = 0; k < p->n_devices; k++) {
                int x = a ? plan_phase_owner(a, p, (int)k) : -1;
                int y = b ? plan_phase_owner(b, p, (int)k) : -1;
                if (x == y)
                        continue;
                snprintf(line, sizeof(line), "device %s: %s -> %s", p->devices[k].name,
                         x >= 0 ? p->domains[x].name : "(none)",
                         y >= 0 ? p->domains[y].name : "(none)");
                json_object_array_add(o, json_object_new_string(line));
        }
        /* Routes: every function named in either phase. */
        const struct plan_phase *ph[2] = {a, b};
        for (int w = 0; w < 2; w++) {
                if (!ph[w])
                        continue;
                for (size_t i = 0; i < ph[w]->n_routes; i++) {
                        const char *f = ph[w]->routes[i].left;
                        int x = -1, y = -1;
                        bool seen_before = false;
                        for (size_t q = 0; a && q < a->n_routes; q++)
                                if (!strcmp(a->routes[q].left, f))
                                        x = a->routes[q].domain;
                        for (size_t q = 0; b && q < b->n_routes; q++)
                                if (!strcmp(b->routes[q].left, f))
                                        y = b->routes[q].domain;
                        for (size_t q = 0; w == 1 && a && q < a->n_routes; q++)
                                seen_before |= !strcmp(a->routes[q].left, f);
                        if (x == y || seen_before)
                                continue;
                        snprintf(line, sizeof(line), "route %s: %s -> %s", f,
                                 x >= 0 ? p->domains[x].name : "(none)",
                                 y >= 0 ? p->domains[y].name : "(none)");
                        json_object_array_add(o, json_object_new_string(line));
                }
        }
        json_object *ka = a ? plan_phase_to_json(p, a) : NULL,
                    *kb = b ? plan_phase_to_json(p, b) : NULL;
        json_object *x, *y;
        const char *sa = ka && json_object_object_get_ex(ka, "kiosk", &x)
                             ? json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN)
                             : "{}";
        const char *sb = kb && json_object_object_get_ex(kb, "kiosk", &y)
                             ? json_object_to_json_string_ext(y, JSON_C_TO_STRING_PLAIN)
                             : "{}";
        if (strcmp(sa, sb)) {
                snprintf(line, sizeof(line), "kiosk: %s -> %s", sa, sb);
                json_object_array_add(o, json_object_new_string(line));
        }
        json_object_put(ka);
        json_object_put(kb);
        return o;
}

/* ---- methods ---- */

static void m_phase_plan(struct client *c, json_object *id, json_object *params)
{
        struct job *j = job_from_request(c, id, params, "plan");
        if (!j)
                return;
        json_object *st = state_load();
        json_object *owners = json_object_object_get(st, "owners");
        struct step_list steps;
        char err[512];
        if (phase_steps(&j->plan, j->to, owners, &steps, err, sizeof(err)) < 0) {
                api_reply_error(c, id, TANDEM_E_STATE, "phase %d: %s", j->to, err);
        } else {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "from", json_object_new_int(j->from));
                json_object_object_add(r, "phase", json_object_new_int(j->to));
                json_object_object_add(r, "title",
                                       json_object_new_string(j->plan.phases[j->to - 1].title
                                                                  ? j->plan.phases[j->to - 1].title
                                                                  : ""));
                json_object_object_add(r, "steps", steps_json(&steps));
                json_object_object_add(r, "changes", changes_json(&j->plan, j->from, j->to));
                json_object_object_add(r, "target",
                                       plan_phase_to_json(&j->plan, &j->plan.phases[j->to - 1]));
                api_reply_ok(c, id, r);
                step_list_free(&steps);
        }
        json_object_put(st);
        job_free(j);
}

static bool restoring; /* a rollback waits for a restore (m_phase_rollback) */

static void start_job(struct client *c, json_object *id, struct job *j)
{
        if (phase_running() || restoring) {
                api_reply_error(c, id, TANDEM_E_STATE, "a phase change is in progress (%s)",
                                phase_current_step() ? phase_current_step() : "finishing");
                job_free(j);
                return;
        }
        json_object *st = state_load();
        json_object *owners = json_object_get(json_object_object_get(st, "owners"));
        json_object_put(st);
        char err[512];
        j->reply.client_serial = c->serial;
        j->reply.id = json_object_get(id);
        store_audit_detail(&g_store, now_wall(), c->uid, "phase-apply", NULL, 1,
                           j->to > j->from ? "begin apply" : "begin rollback");
        if (start_steps(j, j->to, owners, err, sizeof(err)) < 0) {
                char msg[700];
                snprintf(msg, sizeof(msg), "%s phase %d refused: %s", j->action, j->to, err);
                history_add(j->action, j->from, j->to, false, msg);
                pending_error(&j->reply, TANDEM_E_STATE, "%s", msg);
                j->reply.id = NULL;
                job_free(j);
        }
        json_object_put(owners);
}

static void m_phase_apply(struct client *c, json_object *id, json_object *params)
{
        struct job *j = job_from_request(c, id, params, "apply");
        if (j)
                start_job(c, id, j);
}

/* Before the stored plan can be read again, the configs of domains it
 * retired must exist: a purge deletes them with the disk. Restoring runs
 * tandem-archive as a child; the rollback goes on when it is done (a
 * restore that fails is reported; after one restore the plan is parsed
 * as it is, so a config the archive lacks is a plan error). */

struct restore_wait {
        uint64_t client_serial;
        json_object *id;
};

/* The archive of a retired domain whose config is gone, or NULL. */
static char *purged_archive(void)
{
        json_object *st = state_load(), *ret;
        char *found = NULL;
        if (json_object_object_get_ex(st, "retired", &ret))
                for (size_t i = 0; !found && i < json_object_array_length(ret); i++) {
                        json_object *r = json_object_array_get_idx(ret, i);
                        const char *cfg = state_str(r, "config"), *arch = state_str(r, "archive");
                        struct stat sb;
                        if (cfg && arch && stat(cfg, &sb) < 0 && stat(arch, &sb) == 0)
                                found = strdup(arch);
                }
        json_object_put(st);
        return found;
}

static void rollback_continue(struct client *c, json_object *id, bool restore);

static void restored(void *opaque, int rc, const char *msg)
{
        struct restore_wait *w = opaque;
        restoring = false;
        struct client *c = api_client_find(w->client_serial);
        if (c && rc != 0)
                api_reply_error(c, w->id, TANDEM_E_STATE,
                                "rollback: restoring a retired domain: %s",
                                msg[0] ? msg : "tandem-archive restore failed");
        else if (c)
                rollback_continue(c, w->id, false);
        json_object_put(w->id);
        free(w);
}

static void m_phase_rollback(struct client *c, json_object *id, json_object *params)
{
        (void)params;
        if (phase_running() || restoring) {
                api_reply_error(c, id, TANDEM_E_STATE, "a phase change is in progress");
                return;
        }
        json_object *st = state_load();
        int cur = state_int(st, "phase");
        json_object_put(st);
        if (cur == 0) {
                api_reply_error(c, id, TANDEM_E_STATE, "no phase is applied; nothing to roll back");
                return;
        }
        rollback_continue(c, id, true);
}

static void rollback_continue(struct client *c, json_object *id, bool restore)
{
        char *arch = restore ? purged_archive() : NULL;
        if (arch) {
                struct restore_wait *w = calloc(1, sizeof(*w));
                char msg[512];
                const char *t = getenv("TANDEM_ARCHIVE");
                char *argv[] = {(char *)(t && *t ? t : "tandem-archive"), "restore", arch, NULL};
                if (w) {
                        w->client_serial = c->serial;
                        w->id = json_object_get(id);
                }
                if (!w || phase_tool_start(argv, restored, w, msg, sizeof(msg)) < 0) {
                        api_reply_error(c, id, TANDEM_E_STATE, "rollback: restoring %s: %s", arch,
                                        w ? msg : "out of memory");
                        if (w)
                                json_object_put(w->id);
                        free(w);
                } else {
                        restoring = true;
                }
                free(arch);
                return;
        }
        struct job *j = job_from_request(c, id, NULL, "rollback");
        if (j)
                start_job(c, id, j);
}

static void m_phase_status(struct client *c, json_object *id, json_object *params)
{
        (void)params;
        json_object *st = state_load(), *r = json_object_new_object();
        int cur = state_int(st, "phase");
        json_object_object_add(r, "phase", json_object_new_int(cur));
        set_str(r, "plan_path", state_str(st, "plan_path"));
        set_str(r, "last_error", state_str(st, "last_error"));
        set_str(r, "applying", phase_current_step());
        size_t step, steps;
        phase_progress(&step, &steps);
        json_object_object_add(r, "step", json_object_new_int64((int64_t)step));
        json_object_object_add(r, "steps", json_object_new_int64((int64_t)steps));
        json_object *own = json_object_object_get(st, "owners");
        json_object_object_add(r, "owners", own ? json_object_get(own) : json_object_new_object());
        const char *text = state_str(st, "plan_text");
        struct plan p;
        char err[512];
        if (text &&
            plan_parse(&p, text, state_str(st, "plan_path") ? state_str(st, "plan_path") : "plan",
                       err, sizeof(err)) == 0) {
                set_str(r, "title", p.title);
                json_object_object_add(r, "phases", json_object_new_int((int)p.n_phases));
                if (cur >= 1) {
                        json_object *cp = plan_phase_to_json(&p, &p.phases[cur - 1]);
                        json_object *k;
                        if (json_object_object_get_ex(cp, "kiosk", &k))
                                json_object_object_add(r, "kiosk", json_object_get(k));
                        json_object_object_add(r, "current", cp);
                }
                if ((size_t)cur < p.n_phases)
                        json_object_object_add(r, "next", plan_phase_to_json(&p, &p.phases[cur]));
                json_object *doms = json_object_new_array();
                for (size_t i = 0; i < p.n_domains; i++) {
                        struct domain *d = domain_find(p.domains[i].name);
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "name",
                                               json_object_new_string(p.domains[i].name));
                        json_object_object_add(
                            o, "state",
                            json_object_new_string(d ? dom_state_name(d->state) : "absent"));
                        json_object_array_add(doms, o);
                }
                json_object_object_add(r, "domains", doms);
                plan_free(&p);
        } else if (text) {
                set_str(r, "plan_error", err);
        }
        json_object_put(st);
        api_reply_ok(c, id, r);
}

static void m_phase_history(struct client *c, json_object *id, json_object *params)
{
        json_object *lv;
        int limit = 100;
        if (params && json_object_object_get_ex(params, "limit", &lv)) {
                if (!json_object_is_type(lv, json_type_int) || json_object_get_int(lv) < 1 ||
                    json_object_get_int(lv) > 10000) {
                        api_reply_error(c, id, TANDEM_E_INVALID, "limit: expected 1..10000");
                        return;
                }
                limit = json_object_get_int(lv);
        }
        json_object *r = json_object_new_object(), *h = json_object_new_array(),
                    *steps = json_object_new_array();
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(g_store.db,
                               "SELECT time, action, from_phase, to_phase, ok, detail FROM "
                               "(SELECT * FROM phase_history ORDER BY id DESC LIMIT ?) ORDER BY id",
                               -1, &st, NULL) == SQLITE_OK) {
                sqlite3_bind_int(st, 1, limit);
                while (sqlite3_step(st) == SQLITE_ROW) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(
                            e, "time", json_object_new_double(sqlite3_column_double(st, 0)));
                        json_object_object_add(
                            e, "action",
                            json_object_new_string((const char *)sqlite3_column_text(st, 1)));
                        json_object_object_add(e, "from",
                                               json_object_new_int(sqlite3_column_int(st, 2)));
                        json_object_object_add(e, "to",
                                               json_object_new_int(sqlite3_column_int(st, 3)));
                        json_object_object_add(e, "ok",
                                               json_object_new_boolean(sqlite3_column_int(st, 4)));
                        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
                                json_object_object_add(
                                    e, "detail",
                                    json_object_new_string(
                                        (const char *)sqlite3_column_text(st, 5)));
                        json_object_array_add(h, e);
                }
                sqlite3_finalize(st);
        }
        if (sqlite3_prepare_v2(g_store.db,
                               "SELECT time, method, domain, ok, detail FROM (SELECT * FROM audit "
                               "WHERE method LIKE 'phase-%' ORDER BY id DESC LIMIT ?) ORDER BY id",
                               -1, &st, NULL) == SQLITE_OK) {
                sqlite3_bind_int(st, 1, limit);
                while (sqlite3_step(st) == SQLITE_ROW) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(
                            e, "time", json_object_new_double(sqlite3_column_double(st, 0)));
                        json_object_object_add(
                            e, "method",
                            json_object_new_string((const char *)sqlite3_column_text(st, 1)));
                        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
                                json_object_object_add(
                                    e, "domain",
                                    json_object_new_string(
                                        (const char *)sqlite3_column_text(st, 2)));
                        json_object_object_add(e, "ok",
                                               json_object_new_boolean(sqlite3_column_int(st, 3)));
                        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
                                json_object_object_add(
                                    e, "detail",
                                    json_object_new_string(
                                        (const char *)sqlite3_column_text(st, 4)));
                        json_object_array_add(steps, e);
                }
                sqlite3_finalize(st);
        }
        json_object_object_add(r, "history", h);
        json_object_object_add(r, "steps", steps);
        api_reply_ok(c, id, r);
}

TANDEM_API_METHOD(phase_status, "phase-status", m_phase_status, false)
TANDEM_API_METHOD(phase_plan, "phase-plan", m_phase_plan, false)
TANDEM_API_METHOD(phase_apply, "phase-apply", m_phase_apply, true)
TANDEM_API_METHOD(phase_rollback, "phase-rollback", m_phase_rollback, true)
TANDEM_API_METHOD(phase_history, "phase-history", m_phase_history, false)
