/* tandemd: the toolstack daemon. Reads its config, opens the store,
 * re-attaches to VMMs that outlived a previous instance, then serves the
 * API from one epoll loop. SIGTERM stops tandemd only: guests keep running. */
#include "daemon.h"
#include "host_tuning.h"
#include "usb_policy.h"
#include "tandem_client.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct daemon_config g_cfg;
struct store g_store;

static int epfd = -1;
static bool wake_soon;

double now_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double now_wall(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int loop_add(struct watch *w, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = w};
        return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_mod(struct watch *w, uint32_t events)
{
        struct epoll_event ev = {.events = events, .data.ptr = w};
        return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_del(struct watch *w)
{
        epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void loop_wake_soon(void)
{
        wake_soon = true;
}

static int mkdir_p(const char *path, mode_t mode)
{
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -1;
                *p = '/';
        }
        return mkdir(buf, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static void defaults(void)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        const char *home = getenv("HOME");
        tandem_default_socket(g_cfg.socket_path, sizeof(g_cfg.socket_path));
        if (geteuid() == 0) {
                snprintf(g_cfg.db_path, sizeof(g_cfg.db_path), "/var/lib/tandem/tandem.db");
        } else if (getenv("XDG_STATE_HOME")) {
                snprintf(g_cfg.db_path, sizeof(g_cfg.db_path), "%s/tandem/tandem.db",
                         getenv("XDG_STATE_HOME"));
        } else {
                snprintf(g_cfg.db_path, sizeof(g_cfg.db_path), "%s/.local/state/tandem/tandem.db",
                         home ? home : "/tmp");
        }
        (void)xdg;
        g_cfg.run_dir[0] = '\0'; /* next to the socket unless configured */
        snprintf(g_cfg.vmm_path, sizeof(g_cfg.vmm_path), "%s", TANDEM_VMM_PATH);
        snprintf(g_cfg.group, sizeof(g_cfg.group), "tandem");
        g_cfg.shutdown_timeout = 60;
        g_cfg.request_timeout_ms = 5000;
        g_cfg.max_clients = 512;
        g_cfg.metrics_interval_ms = 1000;
}

/* key = value lines; '#' comments. Unknown keys are errors: a typo in a
 * daemon config should not silently fall back to a default. */
static int read_config(const char *path, bool must_exist)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                if (!must_exist && errno == ENOENT)
                        return 0;
                fprintf(stderr, "tandemd: %s: %s\n", path, strerror(errno));
                return -1;
        }
        char line[4096];
        int lineno = 0, rc = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                line[strcspn(line, "#\n")] = '\0';
                char *eq = strchr(line, '=');
                char *k = line;
                while (*k == ' ' || *k == '\t')
                        k++;
                if (!*k)
                        continue;
                if (!eq) {
                        fprintf(stderr, "tandemd: %s:%d: expected key = value\n", path, lineno);
                        rc = -1;
                        break;
                }
                char *ke = eq;
                while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
                        ke--;
                *ke = '\0';
                char *v = eq + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                char *ve = v + strlen(v);
                while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                        *--ve = '\0';
                int n;
                if (!strcmp(k, "socket") && strlen(v) < sizeof(g_cfg.socket_path))
                        snprintf(g_cfg.socket_path, sizeof(g_cfg.socket_path), "%s", v);
                else if (!strcmp(k, "db"))
                        snprintf(g_cfg.db_path, sizeof(g_cfg.db_path), "%s", v);
                else if (!strcmp(k, "run_dir") && strlen(v) < sizeof(g_cfg.run_dir))
                        snprintf(g_cfg.run_dir, sizeof(g_cfg.run_dir), "%s", v);
                else if (!strcmp(k, "vmm"))
                        snprintf(g_cfg.vmm_path, sizeof(g_cfg.vmm_path), "%s", v);
                else if (!strcmp(k, "group"))
                        snprintf(g_cfg.group, sizeof(g_cfg.group), "%s", v);
                else if (!strcmp(k, "shutdown_timeout") && sscanf(v, "%d", &n) == 1 && n > 0)
                        g_cfg.shutdown_timeout = n;
                else if (!strcmp(k, "request_timeout_ms") && sscanf(v, "%d", &n) == 1 && n > 0)
                        g_cfg.request_timeout_ms = n;
                else if (!strcmp(k, "max_clients") && sscanf(v, "%d", &n) == 1 && n > 0)
                        g_cfg.max_clients = n;
                else if (!strcmp(k, "metrics_interval_ms") && sscanf(v, "%d", &n) == 1 && n >= 100)
                        g_cfg.metrics_interval_ms = n;
                else {
                        fprintf(stderr, "tandemd: %s:%d: unknown key or bad value '%s'\n", path,
                                lineno, k);
                        rc = -1;
                        break;
                }
        }
        fclose(f);
        return rc;
}

static void usage(FILE *out)
{
        fprintf(out,
                "usage: tandemd [--config FILE] [--socket PATH] [--db FILE] [--run-dir DIR]\n"
                "               [--vmm PATH]\n"
                "Serves the tandem API; see docs/api.md. Default config:\n"
                "/etc/tandem/tandemd.conf as root, else $XDG_CONFIG_HOME/tandem/tandemd.conf.\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                             {"socket", required_argument, NULL, 's'},
                                             {"db", required_argument, NULL, 'd'},
                                             {"run-dir", required_argument, NULL, 'r'},
                                             {"vmm", required_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        defaults();
        const char *config = NULL;
        const char *o_socket = NULL, *o_db = NULL, *o_run = NULL, *o_vmm = NULL;
        int opt;
        while ((opt = getopt_long(argc, argv, "c:s:d:r:v:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        config = optarg;
                        break;
                case 's':
                        o_socket = optarg;
                        break;
                case 'd':
                        o_db = optarg;
                        break;
                case 'r':
                        o_run = optarg;
                        break;
                case 'v':
                        o_vmm = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc) {
                usage(stderr);
                return 2;
        }
        char defconf[4096];
        if (!config) {
                if (geteuid() == 0)
                        snprintf(defconf, sizeof(defconf), "/etc/tandem/tandemd.conf");
                else if (getenv("XDG_CONFIG_HOME"))
                        snprintf(defconf, sizeof(defconf), "%s/tandem/tandemd.conf",
                                 getenv("XDG_CONFIG_HOME"));
                else
                        snprintf(defconf, sizeof(defconf), "%s/.config/tandem/tandemd.conf",
                                 getenv("HOME") ? getenv("HOME") : "/");
        }
        if (read_config(config ? config : defconf, config != NULL) < 0)
                return 2;
        if (o_socket && strlen(o_socket) >= sizeof(g_cfg.socket_path)) {
                fprintf(stderr, "tandemd: socket path too long\n");
                return 2;
        }
        if (o_socket)
                snprintf(g_cfg.socket_path, sizeof(g_cfg.socket_path), "%s", o_socket);
        if (o_db)
                snprintf(g_cfg.db_path, sizeof(g_cfg.db_path), "%s", o_db);
        if (o_run)
                snprintf(g_cfg.run_dir, sizeof(g_cfg.run_dir), "%s", o_run);
        if (o_vmm)
                snprintf(g_cfg.vmm_path, sizeof(g_cfg.vmm_path), "%s", o_vmm);
        char tmp[4096];
        if (!g_cfg.run_dir[0]) {
                snprintf(tmp, sizeof(tmp), "%s", g_cfg.socket_path);
                snprintf(g_cfg.run_dir, sizeof(g_cfg.run_dir), "%s/dom", dirname(tmp));
        }
        snprintf(tmp, sizeof(tmp), "%s", g_cfg.socket_path);
        if (mkdir_p(dirname(tmp), 0755) < 0 || mkdir_p(g_cfg.run_dir, 0700) < 0) {
                fprintf(stderr, "tandemd: cannot create %s: %s\n", g_cfg.run_dir, strerror(errno));
                return 1;
        }
        snprintf(tmp, sizeof(tmp), "%s", g_cfg.db_path);
        if (mkdir_p(dirname(tmp), 0700) < 0) {
                fprintf(stderr, "tandemd: cannot create the directory of %s: %s\n", g_cfg.db_path,
                        strerror(errno));
                return 1;
        }
        if (access(g_cfg.vmm_path, X_OK) < 0)
                fprintf(stderr, "tandemd: warning: VMM %s: %s\n", g_cfg.vmm_path, strerror(errno));

        /* SIGCHLD ignored: monitors are reaped by the kernel; their exits
         * arrive through pidfds. */
        signal(SIGPIPE, SIG_IGN);
        signal(SIGCHLD, SIG_IGN);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

        epfd = epoll_create1(EPOLL_CLOEXEC);
        char err[512];
        if (store_open(&g_store, g_cfg.db_path, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandemd: store: %s\n", err);
                return 1;
        }
        if (api_listen(g_cfg.socket_path, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandemd: %s\n", err);
                return 1;
        }
        struct watch sigw = {.fd = sfd};
        loop_add(&sigw, EPOLLIN);
        domains_restore();
        usb_daemon_start(); /* device owners from the VMMs, hotplug rules */
        store_event_add(&g_store, now_wall(), NULL, "daemon", "tandemd started");
        char tuned[256];
        if (host_tuning_apply(tuned, sizeof(tuned)) != 0) {
                fprintf(stderr, "tandemd: %s\n", tuned);
                store_event_add(&g_store, now_wall(), NULL, "daemon", tuned);
        }
        fprintf(stderr, "tandemd: listening on %s (db %s, vmm %s)\n", g_cfg.socket_path,
                g_cfg.db_path, g_cfg.vmm_path);

        double next_tick = now_mono() + g_cfg.metrics_interval_ms / 1000.0;
        for (;;) {
                double now = now_mono();
                int timeout = (int)((next_tick - now) * 1000) + 1;
                if (wake_soon && timeout > 20)
                        timeout = 20;
                if (timeout < 0)
                        timeout = 0;
                if (timeout > 250)
                        timeout = 250; /* bounds the slow-loris check interval */
                wake_soon = false;
                struct epoll_event evs[64];
                int n = epoll_wait(epfd, evs, 64, timeout);
                for (int i = 0; i < n; i++) {
                        struct watch *w = evs[i].data.ptr;
                        if (w == &sigw) {
                                struct signalfd_siginfo si;
                                if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                        fprintf(
                                            stderr,
                                            "tandemd: signal %u; exiting (guests keep running)\n",
                                            si.ssi_signo);
                                        goto out;
                                }
                                continue;
                        }
                        w->ready(w, evs[i].events);
                }
                domains_reap();
                now = now_mono();
                domains_periodic(now);
                api_periodic(now);
                if (now >= next_tick) {
                        metrics_tick(now);
                        next_tick = now + g_cfg.metrics_interval_ms / 1000.0;
                }
        }
out:
        api_shutdown();
        unlink(g_cfg.socket_path);
        store_event_add(&g_store, now_wall(), NULL, "daemon", "tandemd stopped");
        store_close(&g_store);
        return 0;
}
