/* L1 side of bench/usb/kbd-latency.sh: runs tandem-vmm with the L2 serial
 * console on pipes and times key injection into the emulated USB keyboard
 * (usb-kbd-key on the control socket) until the guest's kbdlat-echo answers
 * "@K" on the console, all on L1's CLOCK_MONOTONIC. The serial console's own
 * round trip ('p' -> "@S") is timed too, to take the answer's path out.
 * Then, quiet (no answers), userspace exits per xHCI transfer from the VMM's
 * stats, minus an idle window of the same length.
 *   kbdlat N CONTROL-SOCKET LOG -- tandem-vmm ARGS... (with --control SOCK)
 * Prints "BENCH usb-kbd ..." lines. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int con_in, con_out, ctl = -1;
static FILE *logf;
static char cbuf[65536];
static size_t clen;

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits up to timeout s for marker on the console; consumes through it. */
static int wait_console(const char *marker, double timeout)
{
        double end = now() + timeout;
        for (;;) {
                cbuf[clen] = 0;
                char *m = strstr(cbuf, marker);
                if (m) {
                        size_t used = (size_t)(m - cbuf) + strlen(marker);
                        memmove(cbuf, cbuf + used, clen - used);
                        clen -= used;
                        return 0;
                }
                double left = end - now();
                if (left <= 0)
                        return -1;
                struct pollfd p = {.fd = con_out, .events = POLLIN};
                if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
                        continue;
                if (clen > sizeof(cbuf) - 4096) { /* keep the tail only */
                        memmove(cbuf, cbuf + clen - 1024, 1024);
                        clen = 1024;
                }
                ssize_t n = read(con_out, cbuf + clen, sizeof(cbuf) - 1 - clen);
                if (n <= 0)
                        return -1;
                fwrite(cbuf + clen, 1, (size_t)n, logf);
                fflush(logf);
                clen += (size_t)n;
        }
}

/* One control request; the reply line goes to out. */
static int control(const char *req, char *out, size_t outlen)
{
        size_t len = strlen(req);
        if (write(ctl, req, len) != (ssize_t)len)
                return -1;
        size_t got = 0;
        while (got < outlen - 1) {
                ssize_t n = read(ctl, out + got, 1);
                if (n <= 0)
                        return -1;
                if (out[got++] == '\n')
                        break;
        }
        out[got] = 0;
        return strstr(out, "\"ok\": true") || strstr(out, "\"ok\":true") ? 0 : -1;
}

/* The number after "key": inside the object named obj ("exits"). */
static long long stat_field(const char *reply, const char *obj, const char *key)
{
        const char *p = strstr(reply, obj);
        p = p ? strstr(p, key) : NULL;
        if (!p)
                return -1;
        p += strlen(key);
        while (*p == ':' || *p == ' ')
                p++;
        return strtoll(p, NULL, 10);
}

static void stats(long long *exits, long long *mmio, long long *tds)
{
        char r[8192];
        if (control("{\"id\": 1, \"cmd\": \"stats\"}\n", r, sizeof(r)) < 0) {
                fprintf(stderr, "kbdlat: stats failed: %s\n", r);
                exit(1);
        }
        *exits = stat_field(r, "\"exits\"", "\"total\"");
        *mmio = stat_field(r, "\"exits\"", "\"mmio\"");
        *tds = stat_field(r, "\"xhci\"", "\"tds\"");
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp);
        printf("BENCH usb-kbd %s n %d median_ms %.2f p90_ms %.2f min_ms %.2f\n", what, n,
               v[n / 2] * 1e3, v[(n * 9) / 10] * 1e3, v[0] * 1e3);
}

int main(int argc, char **argv)
{
        if (argc < 6 || strcmp(argv[4], "--")) {
                fprintf(stderr, "usage: kbdlat N CONTROL-SOCKET LOG -- tandem-vmm ARGS...\n");
                return 2;
        }
        int n = atoi(argv[1]);
        if (n < 1 || n > 10000)
                return 2;
        logf = fopen(argv[3], "w");
        int in[2], out[2];
        if (!logf || pipe(in) < 0 || pipe(out) < 0)
                return 1;
        signal(SIGPIPE, SIG_IGN);
        pid_t pid = fork();
        if (pid == 0) {
                dup2(in[0], 0);
                dup2(out[1], 1);
                dup2(out[1], 2);
                execv(argv[5], argv + 5);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        con_in = in[1];
        con_out = out[0];
        if (wait_console("@READY", 900) < 0) {
                fprintf(stderr, "kbdlat: the guest never said @READY (see %s)\n", argv[3]);
                kill(pid, SIGKILL);
                return 1;
        }
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
        ctl = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(ctl, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("kbdlat: control socket");
                kill(pid, SIGKILL);
                return 1;
        }
        double *usb = calloc((size_t)n, sizeof(double)), *ser = calloc((size_t)n, sizeof(double));
        char r[4096];
        int rc = 0;
        for (int i = 0; i < n && !rc; i++) {
                double t0 = now();
                if (control("{\"id\": 2, \"cmd\": \"usb-kbd-key\", \"code\": 30}\n", r, sizeof(r)) <
                        0 ||
                    wait_console("@K", 30) < 0) {
                        fprintf(stderr, "kbdlat: key %d: no answer (%s)\n", i, r);
                        rc = 1;
                }
                usb[i] = now() - t0;
                usleep(20000);
        }
        for (int i = 0; i < n && !rc; i++) {
                double t0 = now();
                if (write(con_in, "p", 1) != 1 || wait_console("@S", 30) < 0) {
                        fprintf(stderr, "kbdlat: serial %d: no answer\n", i);
                        rc = 1;
                }
                ser[i] = now() - t0;
                usleep(20000);
        }
        if (!rc) {
                report("inject-to-guest-userspace-and-serial-answer", usb, n);
                report("serial-round-trip", ser, n);
                /* Exits: n quiet presses (press + release = 2 interrupt
                 * transfers each) against an idle window as long. */
                long long e0, m0, t0, e1, m1, t1, e2, m2, t2;
                if (write(con_in, "q", 1) != 1 || wait_console("@Q", 30) < 0)
                        rc = 1;
                usleep(200000);
                stats(&e0, &m0, &t0);
                for (int i = 0; i < n; i++) {
                        control("{\"id\": 3, \"cmd\": \"usb-kbd-key\", \"code\": 31}\n", r,
                                sizeof(r));
                        usleep(20000);
                }
                usleep(200000);
                stats(&e1, &m1, &t1);
                usleep((useconds_t)n * 20000 + 200000);
                stats(&e2, &m2, &t2);
                long long busy = e1 - e0, idle = e2 - e1, tds = t1 - t0;
                long long mbusy = m1 - m0, midle = m2 - m1;
                printf("BENCH usb-kbd exits busy %lld idle %lld tds %lld presses %d "
                       "per_transfer %.2f mmio_per_transfer %.2f\n",
                       busy, idle, tds, n, tds > 0 ? (double)(busy - idle) / (double)tds : -1.0,
                       tds > 0 ? (double)(mbusy - midle) / (double)tds : -1.0);
        }
        if (write(con_in, "x", 1) == 1)
                wait_console("@DONE", 30);
        int st;
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
        return rc;
}
