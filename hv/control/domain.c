/* The VMM supervisor: one tandem-vmm per domain, started under a small
 * monitor process in its own session so that tandemd can die and come back
 * without touching running guests. The monitor waits for the VMM and
 * writes its exit status to run_dir/<name>/exit; tandemd learns of the exit
 * through the monitor's pidfd, even after a restart re-attached it. */
#include "daemon.h"
#include "net_bridge.h"
#include "tandem_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MONITOR_COMM          "tandem-mon"
#define START_TIMEOUT         60.0 /* VMM to answer on its control socket */
#define RESTART_WINDOW        60.0 /* restarts counted within this window */
#define RESTART_MAX_IN_WINDOW 5

struct domain *g_domains;
static struct domain *graveyard;

static const char *const state_names[] = {
    [DS_STARTING] = TANDEM_STATE_STARTING, [DS_RUNNING] = TANDEM_STATE_RUNNING,
    [DS_PAUSED] = TANDEM_STATE_PAUSED,     [DS_SHUTTING_DOWN] = TANDEM_STATE_SHUTDOWN,
    [DS_STOPPED] = TANDEM_STATE_STOPPED,   [DS_CRASHED] = TANDEM_STATE_CRASHED,
};

const char *dom_state_name(enum dom_state s)
{
        return state_names[s];
}

static bool has_vmm(const struct domain *d)
{
        return d->state == DS_STARTING || d->state == DS_RUNNING || d->state == DS_PAUSED ||
               d->state == DS_SHUTTING_DOWN;
}

struct domain *domain_find(const char *name)
{
        for (struct domain *d = g_domains; d; d = d->next)
                if (!strcmp(d->name, name))
                        return d;
        return NULL;
}

static void persist(struct domain *d)
{
        store_domain_update(&g_store, d->name, dom_state_name(d->state), d->monitor_pid, d->vmm_pid,
                            d->restarts, d->reason);
}

static json_object *event_obj(const char *event, const char *domain)
{
        json_object *e = json_object_new_object();
        json_object_object_add(e, "event", json_object_new_string(event));
        if (domain)
                json_object_object_add(e, "domain", json_object_new_string(domain));
        json_object_object_add(e, "time", json_object_new_double(now_wall()));
        return e;
}

static void log_event(const char *domain, const char *kind, const char *detail)
{
        double t = now_wall();
        int64_t id = store_event_add(&g_store, t, domain, kind, detail);
        json_object *e = event_obj("log", domain);
        json_object_object_add(e, "id", json_object_new_int64(id));
        json_object_object_add(e, "kind", json_object_new_string(kind));
        if (detail)
                json_object_object_add(e, "detail", json_object_new_string(detail));
        api_broadcast(TOPIC_EVENT, domain, e);
}

void domain_log(struct domain *d, const char *kind, const char *fmt, ...)
{
        char detail[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        log_event(d->name, kind, detail);
}

/* Every state change goes through here: stored, logged, broadcast. */
static void set_state(struct domain *d, enum dom_state st, const char *reason)
{
        d->state = st;
        if (reason) {
                free(d->reason);
                d->reason = strdup(reason);
        }
        persist(d);
        log_event(d->name, "state", reason ? reason : dom_state_name(st));
        json_object *e = event_obj("state", d->name);
        json_object_object_add(e, "state", json_object_new_string(dom_state_name(st)));
        if (reason)
                json_object_object_add(e, "reason", json_object_new_string(reason));
        api_broadcast(TOPIC_STATE, d->name, e);
}

json_object *domain_to_json(const struct domain *d, bool full)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(d->name));
        json_object_object_add(o, "state", json_object_new_string(dom_state_name(d->state)));
        json_object_object_add(o, "type", json_object_new_string(dom_type_name(d->cfg.type)));
        json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)d->cfg.memory_mib));
        json_object_object_add(o, "vcpus", json_object_new_int((int)d->cfg.vcpus));
        json_object_object_add(o, "pid", json_object_new_int(has_vmm(d) ? d->vmm_pid : 0));
        json_object_object_add(o, "restarts", json_object_new_int64(d->restarts));
        json_object_object_add(
            o, "uptime",
            json_object_new_double(has_vmm(d) && d->started ? now_mono() - d->started : 0));
        json_object_object_add(o, "cpu", json_object_new_double(d->last.cpu_pct));
        json_object_object_add(o, "mem", json_object_new_int64(d->last.mem_bytes));
        if (!full)
                return o;
        json_object_object_add(o, "config_path", json_object_new_string(d->config_path));
        json_object_object_add(o, "created", json_object_new_double(d->created));
        if (d->reason)
                json_object_object_add(o, "reason", json_object_new_string(d->reason));
        json_object_object_add(o, "kernel", json_object_new_string(d->cfg.kernel));
        if (d->cfg.ramdisk)
                json_object_object_add(o, "ramdisk", json_object_new_string(d->cfg.ramdisk));
        if (d->cfg.cmdline)
                json_object_object_add(o, "cmdline", json_object_new_string(d->cfg.cmdline));
        json_object *disks = json_object_new_array();
        for (size_t i = 0; i < d->cfg.n_disks; i++) {
                json_object *k = json_object_new_object();
                json_object_object_add(k, "target", json_object_new_string(d->cfg.disks[i].target));
                json_object_object_add(k, "vdev", json_object_new_string(d->cfg.disks[i].vdev));
                json_object_object_add(k, "format", json_object_new_string(d->cfg.disks[i].format));
                json_object_object_add(
                    k, "access", json_object_new_string(d->cfg.disks[i].readonly ? "ro" : "rw"));
                json_object_array_add(disks, k);
        }
        json_object_object_add(o, "disks", disks);
        json_object_object_add(o, "on_poweroff",
                               json_object_new_string(dom_action_name(d->cfg.on_poweroff)));
        json_object_object_add(o, "on_reboot",
                               json_object_new_string(dom_action_name(d->cfg.on_reboot)));
        json_object_object_add(o, "on_crash",
                               json_object_new_string(dom_action_name(d->cfg.on_crash)));
        char path[256];
        if (vmmconn_path(d, "vmm.log", path, sizeof(path)) == 0)
                json_object_object_add(o, "log", json_object_new_string(path));
        return o;
}

/* ---- waiters: API replies owed when a domain starts or stops ---- */

static void add_waiter(struct domain *d, struct client *c, json_object *id)
{
        struct pending_reply *n = realloc(d->waiters, (d->n_waiters + 1) * sizeof(*n));
        if (!n) {
                api_reply_error(c, id, TANDEM_E_VMM, "out of memory");
                return;
        }
        d->waiters = n;
        d->waiters[d->n_waiters].client_serial = c->serial;
        d->waiters[d->n_waiters].id = json_object_get(id);
        d->n_waiters++;
}

static void waiters_ok(struct domain *d)
{
        for (size_t i = 0; i < d->n_waiters; i++)
                pending_ok(&d->waiters[i], domain_to_json(d, false));
        free(d->waiters);
        d->waiters = NULL;
        d->n_waiters = 0;
}

static void waiters_error(struct domain *d, const char *code, const char *msg)
{
        for (size_t i = 0; i < d->n_waiters; i++)
                pending_error(&d->waiters[i], code, "%s", msg);
        free(d->waiters);
        d->waiters = NULL;
        d->n_waiters = 0;
}

/* ---- domain records ---- */

static void domain_free(struct domain *d)
{
        vmmconn_close(d);
        if (d->pidfd.fd >= 0) {
                loop_del(&d->pidfd);
                close(d->pidfd.fd);
        }
        waiters_error(d, TANDEM_E_STATE, "domain was removed");
        domcfg_free(&d->cfg);
        free(d->config_text);
        free(d->config_path);
        free(d->reason);
        json_object_put(d->last_vmm_stats);
        /* Freed after the current epoll batch, which may still name it. */
        d->next = graveyard;
        graveyard = d;
}

void domains_reap(void)
{
        while (graveyard) {
                struct domain *d = graveyard;
                graveyard = d->next;
                free(d);
        }
}

static void remove_rundir(struct domain *d)
{
        static const char *const leaves[] = {"control.sock", "console.sock", "exit", "exit.tmp"};
        char path[256];
        for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++)
                if (vmmconn_path(d, leaves[i], path, sizeof(path)) == 0)
                        unlink(path);
}

static void domain_remove(struct domain *d, const char *why)
{
        for (struct domain **pp = &g_domains; *pp; pp = &(*pp)->next) {
                if (*pp == d) {
                        *pp = d->next;
                        break;
                }
        }
        store_domain_delete(&g_store, d->name);
        log_event(d->name, "state", why);
        json_object *e = event_obj("state", d->name);
        json_object_object_add(e, "state", json_object_new_string("destroyed"));
        json_object_object_add(e, "reason", json_object_new_string(why));
        api_broadcast(TOPIC_STATE, d->name, e);
        remove_rundir(d);
        char path[256];
        if (vmmconn_path(d, "vmm.log", path, sizeof(path)) == 0)
                unlink(path);
        if (vmmconn_path(d, "", path, sizeof(path)) == 0)
                rmdir(path);
        waiters_ok(d);
        domain_free(d);
}

/* ---- spawning ---- */

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void monitor_exited(struct watch *w, uint32_t events);

static void write_file(const char *dir, const char *leaf, const char *text)
{
        char tmp[300], path[300];
        snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, leaf);
        snprintf(path, sizeof(path), "%s/%s", dir, leaf);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        ssize_t n = write(fd, text, strlen(text));
        fsync(fd);
        close(fd);
        if (n == (ssize_t)strlen(text))
                rename(tmp, path);
}

/* The monitor: runs in the child of fork(), never returns. */
static void monitor_main(const char *dir, char **argv, int report_fd)
{
        setsid();
        prctl(PR_SET_NAME, MONITOR_COMM);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGCHLD, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        /* Keep the monitor alive through terminal and group signals; only
         * SIGKILL stops it, and then the domain is reported lost. */
        signal(SIGHUP, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);

        char log[300];
        snprintf(log, sizeof(log), "%s/vmm.log", dir);
        int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        pid_t vmm = fork();
        if (vmm == 0) {
                signal(SIGHUP, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                if (nfd >= 0)
                        dup2(nfd, 0);
                if (lfd >= 0) {
                        dup2(lfd, 1);
                        dup2(lfd, 2);
                }
                close_range(3, ~0U, 0);
                execv(argv[0], argv);
                fprintf(stderr, "tandemd: cannot execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        int32_t pid = vmm;
        if (write(report_fd, &pid, sizeof(pid)) != sizeof(pid)) {
                /* tandemd died between fork and here; the VMM still runs. */
        }
        close(report_fd);
        close_range(3, ~0U, 0);
        if (vmm < 0)
                _exit(1);
        int status;
        while (waitpid(vmm, &status, 0) < 0 && errno == EINTR)
                ;
        char text[64];
        if (WIFEXITED(status))
                snprintf(text, sizeof(text), "exited %d\n", WEXITSTATUS(status));
        else
                snprintf(text, sizeof(text), "signal %d\n", WTERMSIG(status));
        write_file(dir, "exit", text);
        _exit(0);
}

static int spawn(struct domain *d, char *err, size_t errlen)
{
        char dir[256], ctl[256], con[256];
        if (vmmconn_path(d, "", dir, sizeof(dir)) < 0 ||
            vmmconn_path(d, "control.sock", ctl, 108) < 0 ||
            vmmconn_path(d, "console.sock", con, 108) < 0) {
                snprintf(err, errlen, "run directory path for '%s' is too long for a socket",
                         d->name);
                return -1;
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "%s: %s", dir, strerror(errno));
                return -1;
        }
        remove_rundir(d);
        if (net_domain_up(&d->cfg, err, errlen) < 0)
                return -1;
        json_object *args = json_object_new_array();
        json_object_array_add(args, json_object_new_string(g_cfg.vmm_path));
        domcfg_vmm_args(&d->cfg, ctl, con, args);
        size_t n = json_object_array_length(args);
        char **argv = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; argv && i < n; i++)
                argv[i] = (char *)json_object_get_string(json_object_array_get_idx(args, i));
        int pipefd[2];
        if (!argv || pipe2(pipefd, O_CLOEXEC) < 0) {
                snprintf(err, errlen, "cannot start the VMM: %s", strerror(errno));
                free(argv);
                json_object_put(args);
                return -1;
        }
        pid_t mon = fork();
        if (mon == 0) {
                close(pipefd[0]);
                monitor_main(dir, argv, pipefd[1]);
        }
        close(pipefd[1]);
        free(argv);
        json_object_put(args);
        if (mon < 0) {
                close(pipefd[0]);
                snprintf(err, errlen, "fork: %s", strerror(errno));
                return -1;
        }
        int32_t vmm = 0;
        ssize_t r;
        do {
                r = read(pipefd[0], &vmm, sizeof(vmm));
        } while (r < 0 && errno == EINTR);
        close(pipefd[0]);
        d->monitor_pid = mon;
        d->vmm_pid = r == sizeof(vmm) && vmm > 0 ? vmm : 0;
        d->pidfd.fd = pidfd_open_(mon);
        d->pidfd.ready = monitor_exited;
        if (d->pidfd.fd >= 0)
                loop_add(&d->pidfd, EPOLLIN);
        d->started = now_mono();
        d->connect_deadline = now_mono() + START_TIMEOUT;
        d->have_io_baseline = false;
        d->last_cpu_ticks = 0;
        d->last_sample_t = 0;
        memset(&d->last, 0, sizeof(d->last));
        set_state(d, DS_STARTING, NULL);
        loop_wake_soon();
        return 0;
}

/* ---- exits and policies ---- */

static void log_tail(struct domain *d, char *buf, size_t len)
{
        char path[256];
        buf[0] = '\0';
        if (vmmconn_path(d, "vmm.log", path, sizeof(path)) < 0)
                return;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        off_t end = lseek(fd, 0, SEEK_END);
        off_t from = end > (off_t)len - 1 ? end - ((off_t)len - 1) : 0;
        ssize_t n = pread(fd, buf, len - 1, from);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        char *last = strrchr(buf, '\n');
        if (last)
                memmove(buf, last + 1, strlen(last + 1) + 1);
}

static void restart(struct domain *d, const char *why)
{
        double now = now_mono();
        if (now - d->restart_window_start > RESTART_WINDOW) {
                d->restart_window_start = now;
                d->restarts_in_window = 0;
        }
        if (++d->restarts_in_window > RESTART_MAX_IN_WINDOW) {
                set_state(d, DS_CRASHED, "restarting too often; left stopped");
                waiters_error(d, TANDEM_E_VMM, "domain is restarting too often");
                return;
        }
        d->restarts++;
        domain_log(d, "restart", "%s; restarting (restart %lld)", why, (long long)d->restarts);
        char err[256];
        if (spawn(d, err, sizeof(err)) < 0) {
                set_state(d, DS_CRASHED, err);
                waiters_error(d, TANDEM_E_VMM, err);
        }
}

static void apply(struct domain *d, enum dom_action act, enum dom_state kept, const char *why)
{
        switch (act) {
        case DOM_ACT_DESTROY:
                domain_remove(d, why);
                break;
        case DOM_ACT_RESTART:
                restart(d, why);
                break;
        case DOM_ACT_PRESERVE:
                set_state(d, kept, why);
                waiters_ok(d);
                break;
        }
}

static void handle_exit(struct domain *d)
{
        char path[256], status[64] = "";
        if (d->pidfd.fd >= 0) {
                loop_del(&d->pidfd);
                close(d->pidfd.fd);
                d->pidfd.fd = -1;
        }
        waitpid(d->monitor_pid, NULL, WNOHANG);
        vmmconn_close(d);
        net_domain_down(&d->cfg); /* the VMM has gone: its TAPs go too */
        if (vmmconn_path(d, "exit", path, sizeof(path)) == 0) {
                FILE *f = fopen(path, "re");
                if (f) {
                        if (!fgets(status, sizeof(status), f))
                                status[0] = '\0';
                        fclose(f);
                }
                unlink(path);
        }
        status[strcspn(status, "\n")] = '\0';
        int code = -1, sig = 0;
        if (sscanf(status, "exited %d", &code) != 1 && sscanf(status, "signal %d", &sig) != 1)
                sig = -1; /* the monitor itself was killed */
        enum dom_intent intent = d->intent;
        d->intent = INTENT_NONE;
        d->monitor_pid = 0;
        enum dom_state was = d->state;
        char why[512], tail[200];
        if (intent == INTENT_DESTROY) {
                domain_remove(d, "destroyed");
                return;
        }
        if (code == 0 || (intent == INTENT_SHUTDOWN && sig == SIGKILL)) {
                snprintf(why, sizeof(why), "%s",
                         code == 0 ? "powered off" : "shutdown timed out; killed");
                if (intent == INTENT_REBOOT)
                        apply(d, d->cfg.on_reboot, DS_STOPPED, "rebooted");
                else
                        apply(d, d->cfg.on_poweroff, DS_STOPPED, why);
                return;
        }
        if (code == 3) {
                apply(d, d->cfg.on_reboot, DS_STOPPED, "guest rebooted");
                return;
        }
        log_tail(d, tail, sizeof(tail));
        if (sig > 0)
                snprintf(why, sizeof(why), "VMM killed by signal %d (%s)", sig, strsignal(sig));
        else if (sig < 0)
                snprintf(why, sizeof(why), "VMM monitor lost; VMM state unknown");
        else if (code == 4)
                snprintf(why, sizeof(why), "guest crashed%s%s", tail[0] ? ": " : "", tail);
        else
                snprintf(why, sizeof(why), "VMM failed (exit %d)%s%s", code, tail[0] ? ": " : "",
                         tail);
        set_state(d, DS_CRASHED, why);
        if (was == DS_STARTING && d->n_waiters) {
                /* A create that never reached running fails instead of looping. */
                waiters_error(d, TANDEM_E_VMM, why);
                if (d->cfg.on_crash == DOM_ACT_RESTART)
                        return;
        }
        apply(d, d->cfg.on_crash, DS_CRASHED, why);
}

static void monitor_exited(struct watch *w, uint32_t events)
{
        (void)events;
        struct domain *d = (struct domain *)((char *)w - offsetof(struct domain, pidfd));
        if (w->fd >= 0)
                handle_exit(d);
}

/* ---- starting: wait for the control socket, then ask the VMM its state ---- */

static void status_reply(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)opaque;
        if (error || d->state != DS_STARTING)
                return;
        json_object *st;
        bool paused = json_object_object_get_ex(reply, "state", &st) &&
                      !strcmp(json_object_get_string(st), "paused");
        set_state(d, paused ? DS_PAUSED : DS_RUNNING, NULL);
        waiters_ok(d);
}

static void ignore_reply(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)d;
        (void)opaque;
        (void)reply;
        (void)error;
}

static void connected(struct domain *d)
{
        json_object *sub = json_object_new_object();
        json_object *topics = json_object_new_array();
        json_object_array_add(topics, json_object_new_string("state"));
        json_object_object_add(sub, "topics", topics);
        vmmconn_call(d, "subscribe", sub, ignore_reply, NULL);
        vmmconn_call(d, "status", NULL, status_reply, NULL);
}

void domains_periodic(double now)
{
        for (struct domain *d = g_domains, *next; d; d = next) {
                next = d->next;
                vmmconn_expire(d, now);
                if (has_vmm(d) && d->ctl.fd < 0 && d->monitor_pid) {
                        vmmconn_try_connect(d);
                        if (d->ctl.fd >= 0)
                                connected(d);
                        else if (d->state == DS_STARTING && now > d->connect_deadline &&
                                 d->vmm_pid) {
                                domain_log(d, "error", "VMM did not open its control socket");
                                kill(d->vmm_pid, SIGKILL);
                        } else
                                loop_wake_soon();
                }
                if (d->state == DS_SHUTTING_DOWN && d->shutdown_deadline &&
                    now > d->shutdown_deadline) {
                        d->shutdown_deadline = 0;
                        domain_log(d, "shutdown", "guest did not power off in time; killing it");
                        if (d->vmm_pid)
                                kill(d->vmm_pid, SIGKILL);
                }
        }
}

/* ---- requests ---- */

static const char *param_string(json_object *params, const char *key)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* -1 bad type (error sent), 0 absent (dflt), 1 present. */
static int param_int(struct client *c, json_object *id, json_object *params, const char *key,
                     int lo, int hi, int *out)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < lo ||
            json_object_get_int64(v) > hi) {
                api_reply_error(c, id, TANDEM_E_INVALID, "%s: expected an integer %d..%d", key, lo,
                                hi);
                return -1;
        }
        *out = json_object_get_int(v);
        return 1;
}

static int param_bool(struct client *c, json_object *id, json_object *params, const char *key,
                      bool *out)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_boolean)) {
                api_reply_error(c, id, TANDEM_E_INVALID, "%s: expected true or false", key);
                return -1;
        }
        *out = json_object_get_boolean(v);
        return 1;
}

static bool file_ok(struct client *c, json_object *id, const char *what, const char *path)
{
        if (access(path, R_OK) == 0)
                return true;
        api_reply_error(c, id, TANDEM_E_CONFIG, "%s '%s': %s", what, path, strerror(errno));
        return false;
}

void dom_create(struct client *c, json_object *id, json_object *params)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, "config", &v) ||
            !json_object_is_type(v, json_type_string)) {
                api_reply_error(c, id, TANDEM_E_INVALID, "config: expected the config text");
                return;
        }
        const char *text = json_object_get_string(v);
        int text_len = json_object_get_string_len(v);
        const char *path = param_string(params, "path");
        if (params && json_object_object_get_ex(params, "path", &v) && !path) {
                api_reply_error(c, id, TANDEM_E_INVALID, "path: expected a string");
                return;
        }
        bool wait = true;
        if (param_bool(c, id, params, "wait", &wait) < 0)
                return;
        if (!path)
                path = "<request>";
        if ((int)strlen(text) != text_len) {
                api_reply_error(c, id, TANDEM_E_CONFIG, "%s:1: NUL byte in config", path);
                return;
        }
        struct domain *d = calloc(1, sizeof(*d));
        if (!d) {
                api_reply_error(c, id, TANDEM_E_VMM, "out of memory");
                return;
        }
        d->ctl.fd = -1;
        d->pidfd.fd = -1;
        json_object *warnings = json_object_new_array();
        char err[600];
        if (domcfg_parse(text, path, &d->cfg, warnings, err, sizeof(err)) < 0) {
                api_reply_error(c, id, TANDEM_E_CONFIG, "%s", err);
                json_object_put(warnings);
                free(d);
                return;
        }
        snprintf(d->name, sizeof(d->name), "%s", d->cfg.name);
        bool ok = !domain_find(d->name);
        if (!ok)
                api_reply_error(c, id, TANDEM_E_EXISTS, "a domain named '%s' already exists",
                                d->name);
        ok = ok && file_ok(c, id, "kernel", d->cfg.kernel);
        if (ok && d->cfg.ramdisk)
                ok = file_ok(c, id, "ramdisk", d->cfg.ramdisk);
        for (size_t i = 0; ok && i < d->cfg.n_disks; i++)
                ok = file_ok(c, id, "disk", d->cfg.disks[i].target);
        if (!ok) {
                json_object_put(warnings);
                domcfg_free(&d->cfg);
                free(d);
                return;
        }
        d->config_text = strdup(text);
        d->config_path = strdup(path);
        d->created = now_wall();
        d->next = NULL;
        struct domain **pp = &g_domains;
        while (*pp)
                pp = &(*pp)->next;
        *pp = d;
        store_domain_insert(&g_store, d->name, text, path, TANDEM_STATE_STARTING, d->created);
        for (size_t i = 0; i < json_object_array_length(warnings); i++)
                domain_log(d, "warning", "%s",
                           json_object_get_string(json_object_array_get_idx(warnings, i)));
        domain_log(d, "create", "created from %s", path);
        if (spawn(d, err, sizeof(err)) < 0) {
                api_reply_error(c, id, TANDEM_E_VMM, "%s", err);
                domain_remove(d, err);
                json_object_put(warnings);
                return;
        }
        if (wait) {
                add_waiter(d, c, id);
        } else {
                json_object *r = domain_to_json(d, false);
                json_object_object_add(r, "warnings", json_object_get(warnings));
                api_reply_ok(c, id, r);
        }
        json_object_put(warnings);
}

struct vmm_op {
        uint64_t client_serial;
        json_object *id;
        char domain[DOMCFG_NAME_MAX + 1];
        enum dom_state next_state; /* on success */
        bool reply_now;            /* otherwise the reply waits for the stop */
};

static void op_reply(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)reply;
        struct vmm_op *op = opaque;
        struct pending_reply p = {.client_serial = op->client_serial, .id = op->id};
        if (error) {
                if (d->state == DS_SHUTTING_DOWN && d->intent != INTENT_NONE &&
                    op->next_state == DS_SHUTTING_DOWN) {
                        d->intent = INTENT_NONE;
                        set_state(d, DS_RUNNING, NULL);
                }
                pending_error(&p, TANDEM_E_VMM, "%s: %s", d->name, error);
        } else {
                if (d->state != op->next_state && has_vmm(d))
                        set_state(d, op->next_state, NULL);
                if (op->reply_now) {
                        pending_ok(&p, domain_to_json(d, false));
                } else {
                        struct client *c = api_client_find(op->client_serial);
                        if (c)
                                add_waiter(d, c, op->id);
                        pending_free(&p);
                }
        }
        free(op);
}

static void vmm_op(struct client *c, json_object *id, struct domain *d, const char *cmd,
                   enum dom_state next, bool reply_now)
{
        struct vmm_op *op = calloc(1, sizeof(*op));
        if (!op) {
                api_reply_error(c, id, TANDEM_E_VMM, "out of memory");
                return;
        }
        op->client_serial = c->serial;
        op->id = json_object_get(id);
        op->next_state = next;
        op->reply_now = reply_now;
        snprintf(op->domain, sizeof(op->domain), "%s", d->name);
        if (vmmconn_call(d, cmd, NULL, op_reply, op) < 0) {
                json_object_put(op->id);
                free(op);
                api_reply_error(c, id, TANDEM_E_VMM, "%s: the VMM control socket is not connected",
                                d->name);
        }
}

static json_object *stats_json(struct domain *d)
{
        json_object *r = json_object_new_object();
        json_object_object_add(r, "domain", json_object_new_string(d->name));
        json_object_object_add(r, "state", json_object_new_string(dom_state_name(d->state)));
        json_object_object_add(r, "cpu", json_object_new_double(d->last.cpu_pct));
        json_object_object_add(r, "mem", json_object_new_int64(d->last.mem_bytes));
        json_object_object_add(r, "disk_rd", json_object_new_double(d->last.disk_rd_bps));
        json_object_object_add(r, "disk_wr", json_object_new_double(d->last.disk_wr_bps));
        json_object_object_add(r, "net_rx", json_object_new_double(d->last.net_rx_bps));
        json_object_object_add(r, "net_tx", json_object_new_double(d->last.net_tx_bps));
        if (d->last_vmm_stats)
                json_object_object_add(r, "vmm", json_object_get(d->last_vmm_stats));
        return r;
}

void dom_simple(struct client *c, json_object *id, const char *method, json_object *params)
{
        const char *name = param_string(params, "domain");
        if (!name) {
                api_reply_error(c, id, TANDEM_E_INVALID, "domain: expected a domain name string");
                return;
        }
        struct domain *d = domain_find(name);
        if (!d) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain named '%s'", name);
                return;
        }
        if (!strcmp(method, "info")) {
                api_reply_ok(c, id, domain_to_json(d, true));
                return;
        }
        if (!strcmp(method, "stats")) {
                api_reply_ok(c, id, stats_json(d));
                return;
        }
        if (!strcmp(method, "destroy")) {
                if (!has_vmm(d)) {
                        domain_remove(d, "destroyed");
                        api_reply_ok(c, id, NULL);
                        return;
                }
                d->intent = INTENT_DESTROY;
                add_waiter(d, c, id);
                if (d->vmm_pid)
                        kill(d->vmm_pid, SIGKILL);
                else if (d->monitor_pid)
                        kill(d->monitor_pid, SIGKILL);
                return;
        }
        if (!strcmp(method, "pause")) {
                if (d->state != DS_RUNNING) {
                        api_reply_error(c, id, TANDEM_E_STATE, "%s is %s, not running", d->name,
                                        dom_state_name(d->state));
                        return;
                }
                vmm_op(c, id, d, "pause", DS_PAUSED, true);
                return;
        }
        if (!strcmp(method, "unpause")) {
                if (d->state != DS_PAUSED) {
                        api_reply_error(c, id, TANDEM_E_STATE, "%s is %s, not paused", d->name,
                                        dom_state_name(d->state));
                        return;
                }
                vmm_op(c, id, d, "resume", DS_RUNNING, true);
                return;
        }
        /* shutdown and reboot */
        int timeout = g_cfg.shutdown_timeout;
        bool wait = false;
        if (param_int(c, id, params, "timeout", 1, 86400, &timeout) < 0 ||
            param_bool(c, id, params, "wait", &wait) < 0)
                return;
        if (d->state != DS_RUNNING) {
                api_reply_error(c, id, TANDEM_E_STATE, "%s is %s, not running", d->name,
                                dom_state_name(d->state));
                return;
        }
        d->intent = !strcmp(method, "reboot") ? INTENT_REBOOT : INTENT_SHUTDOWN;
        d->shutdown_deadline = now_mono() + timeout;
        vmm_op(c, id, d, "shutdown", DS_SHUTTING_DOWN, !wait);
}

/* Connects to one of the VMM's sockets on the client's behalf and passes the
 * connected socket with the reply, so clients never learn VMM paths. */
static void pass_vmm_socket(struct client *c, json_object *id, json_object *params,
                            const char *leaf, const char *what)
{
        const char *name = param_string(params, "domain");
        if (!name) {
                api_reply_error(c, id, TANDEM_E_INVALID, "domain: expected a domain name string");
                return;
        }
        struct domain *d = domain_find(name);
        if (!d) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain named '%s'", name);
                return;
        }
        if (!has_vmm(d)) {
                api_reply_error(c, id, TANDEM_E_STATE, "%s is %s", d->name,
                                dom_state_name(d->state));
                return;
        }
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (vmmconn_path(d, leaf, sa.sun_path, sizeof(sa.sun_path)) < 0 || fd < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                api_reply_error(c, id, TANDEM_E_VMM, "%s: cannot reach the VMM %s: %s", d->name,
                                what, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return;
        }
        if (c->pass_fd >= 0)
                close(c->pass_fd);
        c->pass_fd = fd;
        c->pass_fd_at = c->out_len;
        api_reply_ok(c, id, NULL);
}

void dom_console(struct client *c, json_object *id, json_object *params)
{
        pass_vmm_socket(c, id, params, "console.sock", "console");
}

void dom_display(struct client *c, json_object *id, json_object *params)
{
        pass_vmm_socket(c, id, params, "control.sock", "display");
}

/* ---- restart of tandemd: rebuild domains from the store ---- */

static bool is_our_monitor(pid_t pid)
{
        char path[64], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        if (!fgets(comm, sizeof(comm), f))
                comm[0] = '\0';
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        return !strcmp(comm, MONITOR_COMM);
}

static void restore_one(void *opaque, const char *name, const char *config, const char *config_path,
                        const char *state, int64_t monitor_pid, int64_t vmm_pid, int64_t restarts,
                        double created, const char *reason)
{
        (void)opaque;
        struct domain *d = calloc(1, sizeof(*d));
        if (!d)
                return;
        d->ctl.fd = -1;
        d->pidfd.fd = -1;
        char err[600];
        if (domcfg_parse(config, config_path, &d->cfg, NULL, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandemd: stored config of %s no longer parses: %s\n", name, err);
                free(d);
                return;
        }
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->config_text = strdup(config);
        d->config_path = strdup(config_path);
        d->created = created;
        d->restarts = restarts;
        d->reason = reason ? strdup(reason) : NULL;
        d->monitor_pid = (pid_t)monitor_pid;
        d->vmm_pid = (pid_t)vmm_pid;
        d->state = DS_STOPPED;
        for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
                if (!strcmp(state, state_names[i]))
                        d->state = (enum dom_state)i;
        struct domain **pp = &g_domains;
        while (*pp)
                pp = &(*pp)->next;
        *pp = d;
        if (!has_vmm(d))
                return;
        d->started = now_mono();
        d->connect_deadline = now_mono() + START_TIMEOUT;
        d->pidfd.ready = monitor_exited;
        if (d->monitor_pid > 0 && is_our_monitor(d->monitor_pid))
                d->pidfd.fd = pidfd_open_(d->monitor_pid);
        if (d->pidfd.fd < 0) {
                /* Gone while tandemd was down: its exit file says how. */
                handle_exit(d);
                return;
        }
        loop_add(&d->pidfd, EPOLLIN);
        domain_log(d, "reattach", "re-attached to VMM pid %d", (int)d->vmm_pid);
        vmmconn_try_connect(d);
        if (d->ctl.fd >= 0)
                connected(d);
}

void domains_restore(void)
{
        store_domain_each(&g_store, restore_one, NULL);
}
