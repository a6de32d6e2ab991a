/* Built-in tandem subcommands: domain lifecycle, inspection and events. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static json_object *dom_params(const char *name)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "domain", json_object_new_string(name));
        return p;
}

static const char *str(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static double num(json_object *o, const char *key)
{
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

/* Prints result (JSON mode) or the line ok_text, then releases it. */
static int finish(struct cli *cli, json_object *res, const char *ok_text, const char *name)
{
        if (cli->json)
                cli_print_json(res);
        else if (ok_text)
                printf(ok_text, name);
        json_object_put(res);
        return CLI_OK;
}

static int read_file(const char *path, char **out)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        size_t n;
        while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
                len += n;
                if (len + 1 == cap) {
                        if (cap >= 1 << 20) {
                                free(buf);
                                fclose(f);
                                errno = EFBIG;
                                return -1;
                        }
                        cap *= 2;
                        char *nb = realloc(buf, cap);
                        if (!nb)
                                free(buf);
                        buf = nb;
                }
        }
        fclose(f);
        if (!buf) {
                errno = ENOMEM;
                return -1;
        }
        buf[len] = '\0';
        *out = buf;
        return 0;
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
        bool wait = true;
        const char *file = NULL;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--no-wait"))
                        wait = false;
                else if (!file && argv[i][0] != '-')
                        file = argv[i];
                else
                        return CLI_USAGE;
        }
        if (!file)
                return CLI_USAGE;
        char *text, abs[PATH_MAX];
        if (read_file(file, &text) < 0) {
                cli_error(cli, TANDEM_E_CONFIG, "%s: %s", file, strerror(errno));
                return CLI_BAD_CONFIG;
        }
        /* The daemon resolves relative kernel and disk paths against the
         * config's directory, so it gets an absolute config path. */
        if (!realpath(file, abs))
                snprintf(abs, sizeof(abs), "%s", file);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "config", json_object_new_string(text));
        json_object_object_add(p, "path", json_object_new_string(abs));
        json_object_object_add(p, "wait", json_object_new_boolean(wait));
        free(text);
        json_object *res;
        int rc = cli_call(cli, "create", p, &res);
        if (rc)
                return rc;
        json_object *warnings;
        if (!cli->json && json_object_object_get_ex(res, "warnings", &warnings))
                for (size_t i = 0; i < json_object_array_length(warnings); i++)
                        fprintf(stderr, "%s\n",
                                json_object_get_string(json_object_array_get_idx(warnings, i)));
        if (cli->json) {
                cli_print_json(res);
        } else {
                printf("%s %s\n", str(res, "name"), str(res, "state"));
        }
        json_object_put(res);
        return CLI_OK;
}

static void print_list(json_object *doms)
{
        printf("%-20s %-14s %-13s %6s %5s %7s %8s %6s\n", "NAME", "STATE", "TYPE", "MEM(M)",
               "VCPUS", "PID", "UPTIME", "CPU%");
        for (size_t i = 0; i < json_object_array_length(doms); i++) {
                json_object *d = json_object_array_get_idx(doms, i);
                printf("%-20s %-14s %-13s %6.0f %5.0f %7.0f %8.0f %6.1f\n", str(d, "name"),
                       str(d, "state"), str(d, "type"), num(d, "memory_mib"), num(d, "vcpus"),
                       num(d, "pid"), num(d, "uptime"), num(d, "cpu"));
        }
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return CLI_USAGE;
        json_object *res, *doms;
        int rc = cli_call(cli, "list", NULL, &res);
        if (rc)
                return rc;
        if (cli->json)
                cli_print_json(res);
        else if (json_object_object_get_ex(res, "domains", &doms))
                print_list(doms);
        json_object_put(res);
        return CLI_OK;
}

static int one_domain(struct cli *cli, int argc, char **argv, const char *method,
                      const char *ok_text)
{
        if (argc != 2)
                return CLI_USAGE;
        json_object *res;
        int rc = cli_call(cli, method, dom_params(argv[1]), &res);
        if (rc)
                return rc;
        return finish(cli, res, ok_text, argv[1]);
}

static int cmd_info(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return CLI_USAGE;
        json_object *res;
        int rc = cli_call(cli, "info", dom_params(argv[1]), &res);
        if (rc)
                return rc;
        if (cli->json) {
                cli_print_json(res);
        } else {
                json_object_object_foreach(res, key, val)
                {
                        if (json_object_is_type(val, json_type_array) ||
                            json_object_is_type(val, json_type_object))
                                printf("%-12s %s\n", key,
                                       json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
                        else
                                printf("%-12s %s\n", key, json_object_get_string(val));
                }
        }
        json_object_put(res);
        return CLI_OK;
}

static int cmd_pause(struct cli *cli, int argc, char **argv)
{
        return one_domain(cli, argc, argv, "pause", "%s paused\n");
}

static int cmd_unpause(struct cli *cli, int argc, char **argv)
{
        return one_domain(cli, argc, argv, "unpause", "%s running\n");
}

static int cmd_destroy(struct cli *cli, int argc, char **argv)
{
        return one_domain(cli, argc, argv, "destroy", "%s destroyed\n");
}

static int cmd_stats(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return CLI_USAGE;
        json_object *res;
        int rc = cli_call(cli, "stats", dom_params(argv[1]), &res);
        if (rc)
                return rc;
        cli_print_json(res);
        json_object_put(res);
        return CLI_OK;
}

static int stop_cmd(struct cli *cli, int argc, char **argv, const char *method)
{
        bool wait = false;
        int timeout = 0, opt;
        optind = 1;
        while ((opt = getopt(argc, argv, "+wt:")) != -1) {
                if (opt == 'w')
                        wait = true;
                else if (opt == 't' && (timeout = atoi(optarg)) > 0)
                        ;
                else
                        return CLI_USAGE;
        }
        if (optind != argc - 1)
                return CLI_USAGE;
        json_object *p = dom_params(argv[optind]);
        json_object_object_add(p, "wait", json_object_new_boolean(wait));
        if (timeout)
                json_object_object_add(p, "timeout", json_object_new_int(timeout));
        json_object *res;
        int rc = cli_call(cli, method, p, &res);
        if (rc)
                return rc;
        if (cli->json)
                cli_print_json(res);
        else
                printf("%s %s\n", argv[optind],
                       wait ? (str(res, "state")[0] ? str(res, "state") : "destroyed")
                            : "shutting_down");
        json_object_put(res);
        return CLI_OK;
}

static int cmd_shutdown(struct cli *cli, int argc, char **argv)
{
        return stop_cmd(cli, argc, argv, "shutdown");
}

static int cmd_reboot(struct cli *cli, int argc, char **argv)
{
        return stop_cmd(cli, argc, argv, "reboot");
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
        if (tio_saved)
                tcsetattr(0, TCSANOW, &saved_tio);
}

static int cmd_console(struct cli *cli, int argc, char **argv)
{
        if (argc != 2)
                return CLI_USAGE;
        if (!cli_client(cli))
                return CLI_NO_DAEMON;
        struct tandem_error err;
        int fd;
        if (tandem_console_open(cli->client, argv[1], &fd, &err) < 0) {
                cli_error(cli, err.code, "%s", err.message);
                return cli_exit_code(err.code);
        }
        bool tty = isatty(0);
        if (tty && tcgetattr(0, &saved_tio) == 0) {
                struct termios raw = saved_tio;
                cfmakeraw(&raw);
                tio_saved = true;
                atexit(restore_tty);
                tcsetattr(0, TCSANOW, &raw);
                fprintf(stderr, "[connected to %s; Ctrl-] to detach]\r\n", argv[1]);
        }
        char buf[4096];
        bool in_open = true;
        int rc = CLI_OK;
        for (;;) {
                struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                                      {.fd = in_open ? 0 : -1, .events = POLLIN}};
                /* Without a terminal, stop shortly after input ends. */
                int r = poll(p, 2, in_open ? -1 : 500);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (p[0].revents) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        if (write(1, buf, (size_t)n) != n)
                                break;
                }
                if (p[1].revents) {
                        ssize_t n = read(0, buf, sizeof(buf));
                        if (n <= 0) {
                                in_open = false;
                                continue;
                        }
                        char *esc = memchr(buf, 0x1d, (size_t)n); /* Ctrl-] */
                        size_t len = esc ? (size_t)(esc - buf) : (size_t)n;
                        if (len && send(fd, buf, len, MSG_NOSIGNAL) < 0) {
                                rc = CLI_ERR;
                                break;
                        }
                        if (esc)
                                break;
                }
        }
        close(fd);
        restore_tty();
        if (tty)
                fprintf(stderr, "\n[detached]\n");
        return rc;
}

static int cmd_top(struct cli *cli, int argc, char **argv)
{
        double delay = 1;
        int iterations = -1, opt;
        bool batch = false;
        optind = 1;
        while ((opt = getopt(argc, argv, "+d:n:b")) != -1) {
                if (opt == 'd' && (delay = atof(optarg)) > 0)
                        ;
                else if (opt == 'n' && (iterations = atoi(optarg)) > 0)
                        ;
                else if (opt == 'b')
                        batch = true;
                else
                        return CLI_USAGE;
        }
        if (optind != argc)
                return CLI_USAGE;
        if (!isatty(1))
                batch = true;
        for (int i = 0; iterations < 0 || i < iterations; i++) {
                json_object *res, *doms;
                int rc = cli_call(cli, "list", NULL, &res);
                if (rc)
                        return rc;
                if (cli->json) {
                        cli_print_json(res);
                } else if (json_object_object_get_ex(res, "domains", &doms)) {
                        if (!batch)
                                printf("\033[H\033[2J");
                        time_t t = time(NULL);
                        printf("tandem top - %s", ctime(&t));
                        printf("%-20s %-13s %6s %9s %5s %9s %9s %9s %9s\n", "NAME", "STATE", "CPU%",
                               "MEM", "VCPUS", "DISK_RD/s", "DISK_WR/s", "NET_RX/s", "NET_TX/s");
                        for (size_t k = 0; k < json_object_array_length(doms); k++) {
                                json_object *d = json_object_array_get_idx(doms, k), *st;
                                char m[16], a[16], b[16], c[16], e[16];
                                json_object *sres = NULL;
                                double rd = 0, wr = 0, rx = 0, tx = 0;
                                if (tandem_call(cli->client, "stats", dom_params(str(d, "name")),
                                                &sres, &(struct tandem_error){0}) == 0) {
                                        rd = num(sres, "disk_rd");
                                        wr = num(sres, "disk_wr");
                                        rx = num(sres, "net_rx");
                                        tx = num(sres, "net_tx");
                                        json_object_put(sres);
                                }
                                (void)st;
                                printf("%-20s %-13s %6.1f %9s %5.0f %9s %9s %9s %9s\n",
                                       str(d, "name"), str(d, "state"), num(d, "cpu"),
                                       cli_human(num(d, "mem"), m, sizeof(m)), num(d, "vcpus"),
                                       cli_human(rd, a, sizeof(a)), cli_human(wr, b, sizeof(b)),
                                       cli_human(rx, c, sizeof(c)), cli_human(tx, e, sizeof(e)));
                        }
                        if (batch)
                                printf("\n");
                }
                fflush(stdout);
                json_object_put(res);
                if (iterations < 0 || i + 1 < iterations) {
                        struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
                        nanosleep(&ts, NULL);
                }
        }
        return CLI_OK;
}

static int cmd_history(struct cli *cli, int argc, char **argv)
{
        const char *res_name = "second";
        int limit = 60, opt;
        optind = 1;
        while ((opt = getopt(argc, argv, "+r:n:")) != -1) {
                if (opt == 'r')
                        res_name = optarg;
                else if (opt == 'n' && (limit = atoi(optarg)) > 0)
                        ;
                else
                        return CLI_USAGE;
        }
        if (optind != argc - 1)
                return CLI_USAGE;
        json_object *p = dom_params(argv[optind]), *res, *samples;
        json_object_object_add(p, "resolution", json_object_new_string(res_name));
        json_object_object_add(p, "limit", json_object_new_int(limit));
        int rc = cli_call(cli, "history", p, &res);
        if (rc)
                return rc;
        if (cli->json) {
                cli_print_json(res);
        } else if (json_object_object_get_ex(res, "samples", &samples)) {
                printf("%-20s %6s %9s %10s %10s %10s %10s\n", "TIME", "CPU%", "MEM", "DISK_RD/s",
                       "DISK_WR/s", "NET_RX/s", "NET_TX/s");
                for (size_t i = 0; i < json_object_array_length(samples); i++) {
                        json_object *s = json_object_array_get_idx(samples, i);
                        time_t t = (time_t)num(s, "t");
                        char ts[32], m[16], a[16], b[16], c[16], d[16];
                        strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&t));
                        printf("%-20s %6.1f %9s %10s %10s %10s %10s\n", ts, num(s, "cpu"),
                               cli_human(num(s, "mem"), m, sizeof(m)),
                               cli_human(num(s, "disk_rd"), a, sizeof(a)),
                               cli_human(num(s, "disk_wr"), b, sizeof(b)),
                               cli_human(num(s, "net_rx"), c, sizeof(c)),
                               cli_human(num(s, "net_tx"), d, sizeof(d)));
                }
        }
        json_object_put(res);
        return CLI_OK;
}

static void print_event(struct cli *cli, json_object *e)
{
        if (cli->json) {
                puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
        } else {
                time_t t = (time_t)num(e, "time");
                char ts[32];
                strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
                const char *ev = str(e, "event");
                if (!strcmp(ev, "state"))
                        printf("%s %s state %s%s%s\n", ts, str(e, "domain"), str(e, "state"),
                               str(e, "reason")[0] ? ": " : "", str(e, "reason"));
                else
                        printf("%s %s %s %s\n", ts, str(e, "domain")[0] ? str(e, "domain") : "-",
                               str(e, "kind")[0] ? str(e, "kind") : ev, str(e, "detail"));
        }
        fflush(stdout);
}

static int cmd_events(struct cli *cli, int argc, char **argv)
{
        bool follow = false;
        const char *domain = NULL;
        int limit = 50, opt, count = -1;
        optind = 1;
        while ((opt = getopt(argc, argv, "+fn:d:c:")) != -1) {
                if (opt == 'f')
                        follow = true;
                else if (opt == 'd')
                        domain = optarg;
                else if (opt == 'n' && (limit = atoi(optarg)) > 0)
                        ;
                else if (opt == 'c' && (count = atoi(optarg)) > 0)
                        ;
                else
                        return CLI_USAGE;
        }
        if (optind != argc)
                return CLI_USAGE;
        if (follow) {
                if (!cli_client(cli))
                        return CLI_NO_DAEMON;
                struct tandem_error err;
                static const char *const topics[] = {"state", "event", NULL};
                if (tandem_subscribe(cli->client, topics, domain, &err) < 0) {
                        cli_error(cli, err.code, "%s", err.message);
                        return cli_exit_code(err.code);
                }
                for (int n = 0; count < 0 || n < count; n++) {
                        json_object *e;
                        int r = tandem_next_event(cli->client, -1, &e, &err);
                        if (r < 0) {
                                cli_error(cli, err.code, "%s", err.message);
                                return CLI_ERR;
                        }
                        print_event(cli, e);
                        json_object_put(e);
                }
                return CLI_OK;
        }
        json_object *p = json_object_new_object(), *res, *evs;
        if (domain)
                json_object_object_add(p, "domain", json_object_new_string(domain));
        json_object_object_add(p, "limit", json_object_new_int(limit));
        int rc = cli_call(cli, "events", p, &res);
        if (rc)
                return rc;
        if (json_object_object_get_ex(res, "events", &evs))
                for (size_t i = 0; i < json_object_array_length(evs); i++) {
                        json_object *e = json_object_array_get_idx(evs, i);
                        if (!cli->json)
                                json_object_object_add(e, "event", json_object_new_string("log"));
                        print_event(cli, e);
                }
        json_object_put(res);
        return CLI_OK;
}

static int cmd_version(struct cli *cli, int argc, char **argv)
{
        (void)argv;
        if (argc != 1)
                return CLI_USAGE;
        json_object *res;
        int rc = cli_call(cli, "version", NULL, &res);
        if (rc)
                return rc;
        if (cli->json)
                cli_print_json(res);
        else
                printf("%s (API %s)\n", str(res, "daemon"), str(res, "api"));
        json_object_put(res);
        return CLI_OK;
}

TANDEM_CLI_COMMAND(create, "create", "[--no-wait] CONFIG", "start a domain from an xl.cfg file",
                   cmd_create)
TANDEM_CLI_COMMAND(list, "list", "", "list domains", cmd_list)
TANDEM_CLI_COMMAND(info, "info", "DOMAIN", "show a domain's configuration and state", cmd_info)
TANDEM_CLI_COMMAND(pause, "pause", "DOMAIN", "pause a running domain", cmd_pause)
TANDEM_CLI_COMMAND(unpause, "unpause", "DOMAIN", "resume a paused domain", cmd_unpause)
TANDEM_CLI_COMMAND(shutdown, "shutdown", "[-w] [-t SECONDS] DOMAIN",
                   "ask the guest to power off (-w: wait)", cmd_shutdown)
TANDEM_CLI_COMMAND(reboot, "reboot", "[-w] [-t SECONDS] DOMAIN", "shut down and start again",
                   cmd_reboot)
TANDEM_CLI_COMMAND(destroy, "destroy", "DOMAIN", "kill a domain's VMM now and forget it",
                   cmd_destroy)
TANDEM_CLI_COMMAND(console, "console", "DOMAIN", "attach to the guest console (Ctrl-] detaches)",
                   cmd_console)
TANDEM_CLI_COMMAND(stats, "stats", "DOMAIN", "current resource use (JSON)", cmd_stats)
TANDEM_CLI_COMMAND(top, "top", "[-b] [-d SECONDS] [-n COUNT]", "live resource use of all domains",
                   cmd_top)
TANDEM_CLI_COMMAND(history, "history", "[-r second|minute|hour] [-n N] DOMAIN", "metrics history",
                   cmd_history)
TANDEM_CLI_COMMAND(events, "events", "[-f] [-c COUNT] [-d DOMAIN] [-n N]",
                   "event log (-f: follow live)", cmd_events)
TANDEM_CLI_COMMAND(version, "version", "", "daemon and API version", cmd_version)
