/* Phase steps and their runner; see phase_engine.h. */
#include "phase_engine.h"

#include "tandem_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- planning ---- */

static struct phase_step *add(struct step_list *l, enum step_kind k, int domain, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));

static struct phase_step *add(struct step_list *l, enum step_kind k, int domain, const char *fmt,
                              ...)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct phase_step *ns = realloc(l->s, cap * sizeof(*ns));
                if (!ns)
                        return NULL;
                l->s = ns;
                l->cap = cap;
        }
        struct phase_step *s = &l->s[l->n++];
        memset(s, 0, sizeof(*s));
        s->kind = k;
        s->domain = domain;
        s->device = s->sync = -1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->text, sizeof(s->text), fmt, ap);
        va_end(ap);
        return s;
}

void step_list_free(struct step_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->s[i].config);
        free(l->s);
        memset(l, 0, sizeof(*l));
}

static bool dom_live(const char *name)
{
        struct domain *d = domain_find(name);
        return d && d->state != DS_STOPPED && d->state != DS_CRASHED;
}

static bool file_exists(const char *path)
{
        struct stat st;
        return path && stat(path, &st) == 0;
}

static const char *owner_of(json_object *owners, const char *dev)
{
        json_object *v;
        return owners && json_object_object_get_ex(owners, dev, &v) ? json_object_get_string(v)
                                                                    : NULL;
}

static struct phase_step *add_usb(struct step_list *l, enum step_kind k, int domain, int device,
                                  const char *dev, const char *dom)
{
        struct phase_step *s =
            add(l, k, domain, "%s %s %s %s", k == STEP_USB_ATTACH ? "usb-attach" : "usb-detach",
                dev, k == STEP_USB_ATTACH ? "to" : "from", dom);
        if (s)
                s->device = device;
        return s;
}

/* Pause, copy the disk, unpause, extract: the copy is what tandem-extract
 * reads, so the running guest's disk is never read while it writes. */
static int add_sync(const struct plan *p, int j, bool live, struct step_list *l)
{
        const struct plan_sync *s = &p->syncs[j];
        const char *dn = p->domains[s->from].name;
        struct phase_step *st;
        if (live) {
                if (!add(l, STEP_PAUSE, s->from, "pause %s for a disk snapshot", dn))
                        return -1;
                if (!(st =
                          add(l, STEP_SNAPSHOT, s->from, "snapshot %s's disk into %s", dn, s->out)))
                        return -1;
                st->sync = j;
                if (!add(l, STEP_UNPAUSE, s->from, "unpause %s", dn))
                        return -1;
        }
        if (!(st = add(l, STEP_EXTRACT, s->from, "sync %s: extract new records from %s%s into %s",
                       s->name, dn, live ? "'s snapshot" : "'s disk (final)", s->out)))
                return -1;
        st->sync = j;
        return 0;
}

int phase_steps(const struct plan *p, int to, json_object *owners, struct step_list *l, char *err,
                size_t errlen)
{
        static const struct plan_phase none = {0};
        const struct plan_phase *ph = to > 0 ? &p->phases[to - 1] : &none;
        memset(l, 0, sizeof(*l));
        char *want[PLAN_MAX_ITEMS] = {0};
        bool restart[PLAN_MAX_ITEMS] = {0}, live[PLAN_MAX_ITEMS] = {0};
        int rc = -1;
        for (size_t i = 0; i < p->n_domains; i++) {
                live[i] = dom_live(p->domains[i].name);
                if (!plan_phase_runs(ph, (int)i))
                        continue;
                want[i] = plan_domain_config(p, ph, (int)i);
                if (!want[i]) {
                        snprintf(err, errlen, "out of memory");
                        goto out;
                }
                struct domain *d = domain_find(p->domains[i].name);
                restart[i] = live[i] && d->config_text && strcmp(d->config_text, want[i]);
        }
        /* 0. A domain left paused (by a sync that failed) runs again first. */
        for (size_t i = 0; i < p->n_domains; i++) {
                struct domain *d = domain_find(p->domains[i].name);
                if (d && d->state == DS_PAUSED &&
                    !add(l, STEP_UNPAUSE, (int)i, "unpause %s (left paused)", d->name))
                        goto oom;
        }
        /* 1. USB devices leave owners that stop, or that keep nothing. An
         * owner that keeps running gives its device up only in step 4, right
         * before the new owner takes it, so a failed start on the way
         * leaves it where it was. */
        for (size_t k = 0; k < p->n_devices; k++) {
                const char *cur = owner_of(owners, p->devices[k].name);
                int nw = plan_phase_owner(ph, p, (int)k);
                int ci = cur ? plan_domain_index(p, cur) : -1;
                if (strcmp(p->devices[k].kind, "usb") || !cur ||
                    (nw >= 0 && !strcmp(cur, p->domains[nw].name)) ||
                    (nw >= 0 && ci >= 0 && want[ci]))
                        continue;
                if (!add_usb(l, STEP_USB_DETACH, ci, (int)k, p->devices[k].name, cur))
                        goto oom;
        }
        /* 2. Domains that stop (retiring ones get a final sync and an archive)
         * or restart with other devices. */
        for (size_t i = 0; i < p->n_domains; i++) {
                const struct plan_domain *d = &p->domains[i];
                bool retire = plan_phase_retires(ph, (int)i);
                if (live[i] && (!want[i] || restart[i])) {
                        if (!add(l, STEP_SHUTDOWN, (int)i, "shut down %s%s", d->name,
                                 restart[i] ? " (its devices change)" : ""))
                                goto oom;
                        if (!add(l, STEP_DESTROY, (int)i, "remove %s", d->name))
                                goto oom;
                }
                if (!retire || file_exists(d->archive))
                        continue;
                for (size_t k = 0; k < ph->n_syncs; k++)
                        if (p->syncs[ph->syncs[k]].from == (int)i &&
                            add_sync(p, ph->syncs[k], false, l) < 0)
                                goto oom;
                if (!add(l, STEP_ARCHIVE, (int)i, "archive %s's disk and config into %s", d->name,
                         d->archive))
                        goto oom;
        }
        /* 3. Domains that start, their disk restored from the retirement
         * archive when it is gone. */
        for (size_t i = 0; i < p->n_domains; i++) {
                const struct plan_domain *d = &p->domains[i];
                if (!want[i] || (live[i] && !restart[i]))
                        continue;
                if (d->disk && !file_exists(d->disk)) {
                        if (!file_exists(d->archive)) {
                                snprintf(err, errlen, "%s cannot run: its disk %s is gone and %s",
                                         d->name, d->disk,
                                         d->archive ? "its archive is purged too"
                                                    : "the plan names no archive for it");
                                goto out;
                        }
                        if (!add(l, STEP_RESTORE, (int)i, "restore %s from %s", d->name,
                                 d->archive))
                                goto oom;
                }
                struct phase_step *s =
                    add(l, STEP_CREATE, (int)i, "start %s from %s", d->name, d->config_path);
                if (!s)
                        goto oom;
                s->config = want[i];
                want[i] = NULL;
        }
        /* 4. USB devices go to their new owners: detached from an owner
         * that keeps running, then attached (never two owners at once). */
        for (size_t k = 0; k < p->n_devices; k++) {
                const char *cur = owner_of(owners, p->devices[k].name);
                int nw = plan_phase_owner(ph, p, (int)k);
                int ci = cur ? plan_domain_index(p, cur) : -1;
                if (strcmp(p->devices[k].kind, "usb") || nw < 0 ||
                    (cur && !strcmp(cur, p->domains[nw].name)))
                        continue;
                if (cur && ci >= 0 && want[ci] &&
                    !add_usb(l, STEP_USB_DETACH, ci, (int)k, p->devices[k].name, cur))
                        goto oom;
                if (!add_usb(l, STEP_USB_ATTACH, nw, (int)k, p->devices[k].name,
                             p->domains[nw].name))
                        goto oom;
        }
        /* 5. The phase's sync jobs from domains that run in it. */
        for (size_t k = 0; k < ph->n_syncs; k++)
                if (plan_phase_runs(ph, p->syncs[ph->syncs[k]].from) &&
                    add_sync(p, ph->syncs[k], true, l) < 0)
                        goto oom;
        rc = 0;
        goto out;
oom:
        snprintf(err, errlen, "out of memory");
out:
        for (size_t i = 0; i < p->n_domains; i++)
                free(want[i]);
        if (rc < 0)
                step_list_free(l);
        return rc;
}

/* ---- running ---- */

/* A migration tool (cp, tandem-extract, tandem-archive) runs under a
 * runner process: tandemd ignores SIGCHLD, so it cannot wait for a child
 * of its own, but the runner can. The runner execs nothing itself; it
 * forks the tool, keeps the tail of its stderr, waits for it and writes
 * "STATUS\nLAST-STDERR-LINE" into a pipe that tandemd's event loop watches
 * until EOF. tandemd never blocks on a tool. */
struct tool_run {
        struct watch w; /* the runner's result pipe */
        pid_t runner;
        char buf[1024];
        size_t n;
        phase_tool_fn done;
        void *opaque;
};

static struct {
        bool active;
        struct plan *plan;
        struct step_list steps;
        size_t next;
        char what[32];
        int from, to;
        phase_done_fn done;
        void *opaque;
        json_object *owners; /* device -> domain, as the steps leave them */
        struct watch w;      /* the connection to our own API socket */
        char *in;
        size_t in_len;
        int64_t req_id;
        uintptr_t gen; /* counts runs, so a tool outliving its run is ignored */
} run = {.w.fd = -1};

bool phase_running(void)
{
        return run.active;
}

const char *phase_current_step(void)
{
        return run.active && run.next < run.steps.n ? run.steps.s[run.next].text : NULL;
}

void phase_progress(size_t *step, size_t *steps)
{
        *step = run.active ? run.next + 1 : 0;
        *steps = run.active ? run.steps.n : 0;
}

/* Subscribers of the event topic see every step start and the end of the
 * run (docs/api.md, "phase-progress"). */
static void progress_event(const char *state, const char *text)
{
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "event", json_object_new_string("phase-progress"));
        json_object_object_add(ev, "action", json_object_new_string(run.what));
        json_object_object_add(ev, "from", json_object_new_int(run.from));
        json_object_object_add(ev, "to", json_object_new_int(run.to));
        json_object_object_add(ev, "state", json_object_new_string(state));
        json_object_object_add(ev, "step", json_object_new_int64((int64_t)run.next + 1));
        json_object_object_add(ev, "steps", json_object_new_int64((int64_t)run.steps.n));
        json_object_object_add(ev, "text", text ? json_object_new_string(text) : NULL);
        json_object_object_add(ev, "time", json_object_new_double(now_wall()));
        api_broadcast(TOPIC_EVENT, NULL, ev);
}

static void next_step(void);

static void tool_close(struct tool_run *t)
{
        loop_del(&t->w);
        close(t->w.fd);
        free(t);
}

static void finish(bool ok, const char *error)
{
        if (run.w.fd >= 0) {
                loop_del(&run.w);
                close(run.w.fd);
                run.w.fd = -1;
        }
        free(run.in);
        run.in = NULL;
        run.in_len = 0;
        progress_event(ok ? "done" : "failed", ok ? NULL : error);
        step_list_free(&run.steps);
        run.active = false;
        json_object *owners = run.owners;
        run.owners = NULL;
        run.done(run.opaque, ok, error, owners);
        json_object_put(owners);
}

static const char *step_domain(const struct phase_step *s)
{
        return s->domain >= 0 ? run.plan->domains[s->domain].name : NULL;
}

static void step_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void step_failed(const char *fmt, ...)
{
        char msg[1024], full[1400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        struct phase_step *s = &run.steps.s[run.next];
        snprintf(full, sizeof(full), "%s: %s", s->text, msg);
        store_audit_detail(&g_store, now_wall(), (unsigned)getuid(), run.what, step_domain(s), 0,
                           full);
        finish(false, full);
}

static void step_ok(void)
{
        struct phase_step *s = &run.steps.s[run.next];
        const char *dev = s->device >= 0 ? run.plan->devices[s->device].name : NULL;
        if (s->kind == STEP_USB_DETACH)
                json_object_object_del(run.owners, dev);
        else if (s->kind == STEP_USB_ATTACH)
                json_object_object_add(run.owners, dev, json_object_new_string(step_domain(s)));
        store_audit_detail(&g_store, now_wall(), (unsigned)getuid(), run.what, step_domain(s), 1,
                           s->text);
        run.next++;
        next_step();
}

static void runner_main(char *const argv[], int result_fd)
{
        /* A phase dies with tandemd: its tool is stopped, not orphaned. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGCHLD, SIG_DFL);
        /* Nothing of tandemd's (clients, sockets, the store) stays open in
         * the runner or the tool. */
        if (dup2(result_fd, 3) < 0)
                _exit(126);
        close_range(4, ~0u, 0);
        int epipe[2];
        if (pipe(epipe) < 0)
                _exit(126);
        pid_t pid = fork();
        if (pid < 0)
                _exit(126);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                int nul = open("/dev/null", O_RDWR);
                dup2(nul, 0);
                dup2(nul, 1);
                dup2(epipe[1], 2);
                close(epipe[0]);
                close(epipe[1]);
                close(3);
                close(nul);
                execvp(argv[0], argv);
                fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(epipe[1]);
        char buf[4096];
        size_t n = 0;
        ssize_t r;
        while ((r = read(epipe[0], buf + n, sizeof(buf) - 1 - n)) > 0 ||
               (r < 0 && errno == EINTR)) {
                if (r > 0)
                        n += (size_t)r;
                if (n == sizeof(buf) - 1) /* keep the tail */
                        memmove(buf, buf + n / 2, n - n / 2), n -= n / 2;
        }
        buf[n] = '\0';
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        char *last = strrchr(buf, '\n');
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        dprintf(3, "%d\n%.900s", rc, last ? last + 1 : buf);
        _exit(0);
}

static void tool_output(struct watch *w, uint32_t events)
{
        (void)events;
        struct tool_run *t = (struct tool_run *)w; /* w is its first member */
        ssize_t r = read(w->fd, t->buf + t->n, sizeof(t->buf) - 1 - t->n);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (r > 0) {
                t->n += (size_t)r;
                if (t->n < sizeof(t->buf) - 1)
                        return;
        }
        /* EOF: the runner has exited (the kernel reaps it). */
        t->buf[t->n] = '\0';
        char *nl = strchr(t->buf, '\n');
        phase_tool_fn done = t->done;
        void *opaque = t->opaque;
        char msg[sizeof(t->buf)];
        int rc = -1;
        if (nl) {
                *nl = '\0';
                rc = atoi(t->buf);
                snprintf(msg, sizeof(msg), "%s", nl + 1);
        } else {
                snprintf(msg, sizeof(msg), "the tool's runner ended without a result");
        }
        tool_close(t);
        done(opaque, rc, msg);
}

int phase_tool_start(char *const argv[], phase_tool_fn done, void *opaque, char *msg, size_t msglen)
{
        struct tool_run *t = calloc(1, sizeof(*t));
        int pfd[2];
        if (!t || pipe2(pfd, O_CLOEXEC) < 0) {
                snprintf(msg, msglen, "%s", t ? strerror(errno) : "out of memory");
                free(t);
                return -1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                snprintf(msg, msglen, "fork: %s", strerror(errno));
                close(pfd[0]);
                close(pfd[1]);
                free(t);
                return -1;
        }
        if (pid == 0) {
                close(pfd[0]);
                runner_main(argv, pfd[1]);
        }
        close(pfd[1]);
        t->runner = pid;
        t->done = done;
        t->opaque = opaque;
        t->w.fd = pfd[0];
        t->w.ready = tool_output;
        if (fcntl(pfd[0], F_SETFL, O_NONBLOCK) < 0 || loop_add(&t->w, EPOLLIN) < 0) {
                snprintf(msg, msglen, "cannot watch the tool: %s", strerror(errno));
                close(pfd[0]);
                kill(pid, SIGKILL);
                free(t);
                return -1;
        }
        return 0;
}

static void tool_done(void *opaque, int rc, const char *msg);

/* The step's tool: tool_done follows from the event loop. */
static int tool_start(char *const argv[], char *msg, size_t msglen)
{
        return phase_tool_start(argv, tool_done, (void *)run.gen, msg, msglen);
}

static const char *tool(const char *env, const char *dflt)
{
        const char *v = getenv(env);
        return v && *v ? v : dflt;
}

static void snapshot_path(const struct plan_sync *s, char *buf, size_t len)
{
        snprintf(buf, len, "%s/snapshot.img", s->out);
}

static bool extract_is_live(const struct phase_step *s)
{
        return s > run.steps.s && s[-1].kind == STEP_UNPAUSE;
}

static void local_step(struct phase_step *s)
{
        const struct plan_domain *d = &run.plan->domains[s->domain];
        char msg[512] = "", snap[4200];
        int rc;
        switch (s->kind) {
        case STEP_SNAPSHOT: {
                const struct plan_sync *j = &run.plan->syncs[s->sync];
                if (mkdir(j->out, 0755) < 0 && errno != EEXIST) {
                        step_failed("%s: %s", j->out, strerror(errno));
                        return;
                }
                snapshot_path(j, snap, sizeof(snap));
                char *argv[] = {"cp", "--sparse=always", d->disk, snap, NULL};
                rc = tool_start(argv, msg, sizeof(msg));
                break;
        }
        case STEP_EXTRACT: {
                const struct plan_sync *j = &run.plan->syncs[s->sync];
                snapshot_path(j, snap, sizeof(snap));
                char *argv[] = {(char *)tool("TANDEM_EXTRACT", "tandem-extract"),
                                "--since",
                                j->state,
                                "--out",
                                j->out,
                                extract_is_live(s) ? snap : d->disk,
                                NULL};
                rc = tool_start(argv, msg, sizeof(msg));
                break;
        }
        case STEP_ARCHIVE: {
                char *argv[] = {(char *)tool("TANDEM_ARCHIVE", "tandem-archive"),
                                "create",
                                "--name",
                                (char *)d->name,
                                "--disk",
                                d->disk,
                                "--config",
                                d->config_path,
                                d->archive,
                                NULL};
                if (!d->disk) {
                        step_failed("%s has no disk", d->name);
                        return;
                }
                rc = tool_start(argv, msg, sizeof(msg));
                break;
        }
        case STEP_RESTORE: {
                char *argv[] = {(char *)tool("TANDEM_ARCHIVE", "tandem-archive"), "restore",
                                d->archive, NULL};
                rc = tool_start(argv, msg, sizeof(msg));
                break;
        }
        default:
                snprintf(msg, sizeof(msg), "not a local step");
                rc = -1;
        }
        if (rc != 0)
                step_failed("%s", msg[0] ? msg : "failed");
}

static void tool_done(void *opaque, int rc, const char *msg)
{
        if (!run.active || (uintptr_t)opaque != run.gen)
                return; /* its run ended (the API connection failed) */
        struct phase_step *s = &run.steps.s[run.next];
        if (s->kind == STEP_EXTRACT) {
                const struct plan_sync *j = &run.plan->syncs[s->sync];
                if (extract_is_live(s)) {
                        char snap[4200];
                        snapshot_path(j, snap, sizeof(snap));
                        unlink(snap);
                }
                if (rc == 1) {
                        step_failed("records do not reconcile (see %s/report.txt)", j->out);
                        return;
                }
        }
        if (rc != 0)
                step_failed("%s", msg[0] ? msg : "failed");
        else
                step_ok();
}

static void api_ready(struct watch *w, uint32_t events);

static int api_send(const char *method, json_object *params)
{
        if (run.w.fd < 0) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un a = {.sun_family = AF_UNIX};
                snprintf(a.sun_path, sizeof(a.sun_path), "%s", g_cfg.socket_path);
                if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
                    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                        if (fd >= 0)
                                close(fd);
                        json_object_put(params);
                        return -1;
                }
                run.w.fd = fd;
                run.w.ready = api_ready;
                if (loop_add(&run.w, EPOLLIN) < 0) {
                        close(fd);
                        run.w.fd = -1;
                        json_object_put(params);
                        return -1;
                }
        }
        json_object *req = json_object_new_object();
        json_object_object_add(req, "v", json_object_new_int(1));
        json_object_object_add(req, "id", json_object_new_int64(++run.req_id));
        json_object_object_add(req, "method", json_object_new_string(method));
        json_object_object_add(req, "params", params);
        const char *txt = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(txt);
        char *line = malloc(len + 1);
        int rc = -1;
        if (line) {
                memcpy(line, txt, len);
                line[len] = '\n';
                /* Requests are small and the socket buffer is empty: one write. */
                rc = write(run.w.fd, line, len + 1) == (ssize_t)(len + 1) ? 0 : -1;
                free(line);
        }
        json_object_put(req);
        return rc;
}

static void api_reply(json_object *msg)
{
        struct phase_step *s = &run.steps.s[run.next];
        json_object *ok, *e, *m;
        if (json_object_object_get_ex(msg, "ok", &ok) && json_object_get_boolean(ok)) {
                step_ok();
                return;
        }
        const char *code = "", *text = "failed";
        if (json_object_object_get_ex(msg, "error", &e)) {
                if (json_object_object_get_ex(e, "message", &m))
                        text = json_object_get_string(m);
                if (json_object_object_get_ex(e, "code", &m))
                        code = json_object_get_string(m);
        }
        /* A domain already gone is where a destroy wanted it; a device
         * tandemd holds nowhere (its owner's VMM ended, or tandemd was
         * restarted) is where a detach wanted it. */
        if ((s->kind == STEP_DESTROY && !strcmp(code, TANDEM_E_NOT_FOUND)) ||
            (s->kind == STEP_USB_DETACH && !strcmp(code, "not-found"))) {
                step_ok();
                return;
        }
        step_failed("%s", text);
}

static void api_ready(struct watch *w, uint32_t events)
{
        (void)events;
        char buf[65536];
        ssize_t r = read(w->fd, buf, sizeof(buf));
        if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                        return;
                step_failed("tandemd's own API connection closed");
                return;
        }
        char *n = realloc(run.in, run.in_len + (size_t)r + 1);
        if (!n) {
                step_failed("out of memory");
                return;
        }
        run.in = n;
        memcpy(run.in + run.in_len, buf, (size_t)r);
        run.in_len += (size_t)r;
        run.in[run.in_len] = '\0';
        char *nl;
        while (run.active && run.in && (nl = memchr(run.in, '\n', run.in_len))) {
                *nl = '\0';
                json_object *msg = json_tokener_parse(run.in);
                size_t used = (size_t)(nl + 1 - run.in);
                memmove(run.in, nl + 1, run.in_len - used);
                run.in_len -= used;
                json_object *id;
                if (msg && json_object_object_get_ex(msg, "id", &id) &&
                    json_object_get_int64(id) == run.req_id)
                        api_reply(msg);
                json_object_put(msg);
        }
}

static void next_step(void)
{
        if (run.next == run.steps.n) {
                finish(true, NULL);
                return;
        }
        struct phase_step *s = &run.steps.s[run.next];
        progress_event("running", s->text);
        const struct plan_domain *d = s->domain >= 0 ? &run.plan->domains[s->domain] : NULL;
        json_object *p = json_object_new_object();
        const char *method = NULL;
        switch (s->kind) {
        case STEP_USB_DETACH:
                method = "usb-detach";
                json_object_object_add(p, "device",
                                       json_object_new_string(run.plan->devices[s->device].usb));
                break;
        case STEP_USB_ATTACH:
                method = "usb-attach";
                json_object_object_add(p, "device",
                                       json_object_new_string(run.plan->devices[s->device].usb));
                json_object_object_add(p, "domain", json_object_new_string(d->name));
                break;
        case STEP_SHUTDOWN:
                if (!dom_live(d->name)) {
                        json_object_put(p);
                        step_ok();
                        return;
                }
                method = "shutdown";
                json_object_object_add(p, "domain", json_object_new_string(d->name));
                json_object_object_add(p, "wait", json_object_new_boolean(1));
                json_object_object_add(p, "timeout", json_object_new_int(d->stop_timeout));
                break;
        case STEP_DESTROY:
        case STEP_PAUSE:
        case STEP_UNPAUSE:
                if (s->kind == STEP_DESTROY && !domain_find(d->name)) {
                        json_object_put(p);
                        step_ok();
                        return;
                }
                method = s->kind == STEP_DESTROY ? "destroy"
                         : s->kind == STEP_PAUSE ? "pause"
                                                 : "unpause";
                json_object_object_add(p, "domain", json_object_new_string(d->name));
                break;
        case STEP_CREATE:
                method = "create";
                json_object_object_add(p, "config", json_object_new_string(s->config));
                json_object_object_add(p, "path", json_object_new_string(d->config_path));
                json_object_object_add(p, "wait", json_object_new_boolean(1));
                break;
        default:
                json_object_put(p);
                local_step(s);
                return;
        }
        if (api_send(method, p) < 0)
                step_failed("cannot reach tandemd's own socket %s: %s", g_cfg.socket_path,
                            strerror(errno));
}

int phase_run(struct plan *p, struct step_list *steps, const char *what, int from, int to,
              json_object *owners, phase_done_fn done, void *opaque)
{
        if (run.active)
                return -1;
        run.active = true;
        run.gen++;
        run.plan = p;
        run.steps = *steps;
        memset(steps, 0, sizeof(*steps));
        run.next = 0;
        snprintf(run.what, sizeof(run.what), "%s", what);
        run.from = from;
        run.to = to;
        /* A private copy: the steps edit it as devices move. */
        run.owners = json_tokener_parse(
            owners ? json_object_to_json_string_ext(owners, JSON_C_TO_STRING_PLAIN) : "{}");
        if (!run.owners)
                run.owners = json_object_new_object();
        run.done = done;
        run.opaque = opaque;
        next_step();
        return 0;
}
