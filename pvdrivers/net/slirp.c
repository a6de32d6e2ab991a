/* User-mode NAT backend: libslirp runs on a thread of its own, which owns
 * the Slirp instance outright. Frames cross to the device over a
 * SOCK_SEQPACKET pair, so the device treats it like any other packet fd and
 * no lock is shared between the VMM's event loop and libslirp. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_backend.h"

#define SLIRP_MAX_TIMERS  16
#define SLIRP_MAX_POLLFDS 256
#define SLIRP_FRAME_MAX   65536
#define SLIRP_SOCKBUF     (1 << 20)

struct slirp_timer {
        bool used, armed;
        SlirpTimerCb cb; /* timer_new style, or NULL for timer_new_opaque */
        SlirpTimerId id;
        void *cb_opaque;
        int64_t expire_ms;
};

struct slirp_backend {
        struct net_backend be; /* first: the device sees only this */
        Slirp *slirp;
        int peer_fd; /* the thread's end of the pair */
        int stop_fd;
        pthread_t thread;
        bool thread_started;
        struct slirp_timer timers[SLIRP_MAX_TIMERS];
        struct pollfd pfd[SLIRP_MAX_POLLFDS];
        unsigned npfd;
        uint8_t frame[SLIRP_FRAME_MAX];
};

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
        struct slirp_backend *s = opaque;
        /* a full pair drops the frame; TCP retransmits, as on a real wire */
        ssize_t n = send(s->peer_fd, buf, len, MSG_DONTWAIT);
        return n < 0 && errno != EAGAIN ? -errno : (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
        (void)opaque;
        fprintf(stderr, "net user: guest error: %s\n", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
        (void)opaque;
        return now_ns();
}

static struct slirp_timer *timer_alloc(struct slirp_backend *s)
{
        for (unsigned i = 0; i < SLIRP_MAX_TIMERS; i++)
                if (!s->timers[i].used) {
                        s->timers[i] = (struct slirp_timer){.used = true};
                        return &s->timers[i];
                }
        fprintf(stderr, "net user: out of timers\n");
        return NULL;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
        struct slirp_timer *t = timer_alloc(opaque);
        if (t) {
                t->cb = cb;
                t->cb_opaque = cb_opaque;
        }
        return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
        struct slirp_timer *t = timer_alloc(opaque);
        if (t) {
                t->id = id;
                t->cb_opaque = cb_opaque;
        }
        return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
        (void)opaque;
        if (timer)
                ((struct slirp_timer *)timer)->used = false;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
        (void)opaque;
        struct slirp_timer *t = timer;
        if (t) {
                t->expire_ms = expire_ms;
                t->armed = true;
        }
}

static void cb_register_poll_fd(int fd, void *opaque)
{
        (void)fd, (void)opaque;
}

static void cb_notify(void *opaque)
{
        (void)opaque; /* the thread re-polls every round anyway */
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_register_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

static int add_poll(int fd, int events, void *opaque)
{
        struct slirp_backend *s = opaque;
        if (s->npfd == SLIRP_MAX_POLLFDS)
                return -1;
        short ev = 0;
        if (events & SLIRP_POLL_IN)
                ev |= POLLIN;
        if (events & SLIRP_POLL_OUT)
                ev |= POLLOUT;
        if (events & SLIRP_POLL_PRI)
                ev |= POLLPRI;
        s->pfd[s->npfd] = (struct pollfd){.fd = fd, .events = ev};
        return (int)s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
        struct slirp_backend *s = opaque;
        if (idx < 0 || (unsigned)idx >= s->npfd)
                return 0;
        short r = s->pfd[idx].revents;
        int ev = 0;
        if (r & POLLIN)
                ev |= SLIRP_POLL_IN;
        if (r & POLLOUT)
                ev |= SLIRP_POLL_OUT;
        if (r & POLLPRI)
                ev |= SLIRP_POLL_PRI;
        if (r & POLLERR)
                ev |= SLIRP_POLL_ERR;
        if (r & POLLHUP)
                ev |= SLIRP_POLL_HUP;
        return ev;
}

static void run_timers(struct slirp_backend *s, uint32_t *timeout)
{
        int64_t now = now_ns() / 1000000;
        for (unsigned i = 0; i < SLIRP_MAX_TIMERS; i++) {
                struct slirp_timer *t = &s->timers[i];
                if (!t->used || !t->armed)
                        continue;
                if (t->expire_ms <= now) {
                        t->armed = false;
                        if (t->cb)
                                t->cb(t->cb_opaque);
                        else
                                slirp_handle_timer(s->slirp, t->id, t->cb_opaque);
                } else if (timeout && (uint64_t)(t->expire_ms - now) < *timeout) {
                        *timeout = (uint32_t)(t->expire_ms - now);
                }
        }
}

static void *slirp_thread(void *arg)
{
        struct slirp_backend *s = arg;
        for (;;) {
                uint32_t timeout = 1000;
                s->npfd = 0;
                add_poll(s->stop_fd, SLIRP_POLL_IN, s);
                add_poll(s->peer_fd, SLIRP_POLL_IN, s);
                slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
                run_timers(s, &timeout);
                int n = poll(s->pfd, s->npfd, (int)timeout);
                if (n > 0 && s->pfd[0].revents)
                        break;
                if (n > 0 && (s->pfd[1].revents & POLLIN)) {
                        ssize_t len;
                        while ((len = recv(s->peer_fd, s->frame, sizeof(s->frame), MSG_DONTWAIT)) >
                               0)
                                slirp_input(s->slirp, s->frame, (int)len);
                }
                slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
                run_timers(s, NULL);
        }
        return NULL;
}

/* "tcp::8080-:80", "udp:127.0.0.1:5353-10.0.2.15:53": proto, host address
 * (empty = any), host port, guest address (empty = 10.0.2.15), guest port. */
static int add_hostfwd(struct slirp_backend *s, const char *spec, char *err, size_t errlen)
{
        char proto[4], haddr[32] = "", gaddr[32] = "";
        unsigned hport, gport;
        int used = 0;
        if (sscanf(spec, "%3[a-z]:%31[0-9.]:%u-%31[0-9.]:%u%n", proto, haddr, &hport, gaddr, &gport,
                   &used) != 5 &&
            sscanf(spec, "%3[a-z]::%u-%31[0-9.]:%u%n", proto, &hport, gaddr, &gport, &used) != 4 &&
            sscanf(spec, "%3[a-z]:%31[0-9.]:%u-:%u%n", proto, haddr, &hport, &gport, &used) != 4 &&
            sscanf(spec, "%3[a-z]::%u-:%u%n", proto, &hport, &gport, &used) != 3) {
                snprintf(err, errlen,
                         "hostfwd=%s: expected tcp|udp:[HOSTADDR]:PORT-[GUESTADDR]:PORT", spec);
                return -1;
        }
        bool udp = strcmp(proto, "udp") == 0;
        struct in_addr h = {INADDR_ANY}, g;
        inet_pton(AF_INET, "10.0.2.15", &g);
        if ((!udp && strcmp(proto, "tcp") != 0) || spec[used] != '\0' || hport == 0 ||
            hport > 65535 || gport == 0 || gport > 65535 ||
            (*haddr && inet_pton(AF_INET, haddr, &h) != 1) ||
            (*gaddr && inet_pton(AF_INET, gaddr, &g) != 1)) {
                snprintf(err, errlen, "hostfwd=%s: bad protocol, address or port", spec);
                return -1;
        }
        if (slirp_add_hostfwd(s->slirp, udp, h, (int)hport, g, (int)gport) < 0) {
                snprintf(err, errlen, "hostfwd=%s: cannot listen on host port %u: %s", spec, hport,
                         strerror(errno));
                return -1;
        }
        return 0;
}

static void slirp_destroy(struct net_backend *be)
{
        struct slirp_backend *s = (struct slirp_backend *)be;
        if (s->thread_started) {
                uint64_t one = 1;
                if (write(s->stop_fd, &one, sizeof(one)) < 0)
                        perror("net user: stop");
                pthread_join(s->thread, NULL);
        }
        if (s->slirp)
                slirp_cleanup(s->slirp);
        if (s->stop_fd >= 0)
                close(s->stop_fd);
        close(s->peer_fd);
        close(s->be.fd);
        free(s);
}

struct net_backend *net_slirp_open(const char *const *hostfwd, unsigned n, char *err, size_t errlen)
{
        struct slirp_backend *s = calloc(1, sizeof(*s));
        if (!s) {
                snprintf(err, errlen, "net user: out of memory");
                return NULL;
        }
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
                snprintf(err, errlen, "net user: socketpair: %s", strerror(errno));
                free(s);
                return NULL;
        }
        int buf = SLIRP_SOCKBUF;
        for (int i = 0; i < 2; i++) {
                setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
                setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        }
        s->be.fd = sv[0];
        s->peer_fd = sv[1];
        s->be.destroy = slirp_destroy;
        snprintf(s->be.desc, sizeof(s->be.desc), "user");
        s->stop_fd = eventfd(0, EFD_CLOEXEC);
        SlirpConfig cfg = {.version = 4, .in_enabled = true, .if_mtu = 1500, .if_mru = 1500};
        inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
        inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
        inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
        inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
        inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
        cfg.vhostname = "tandem";
        if (s->stop_fd >= 0)
                s->slirp = slirp_new(&cfg, &slirp_callbacks, s);
        if (!s->slirp) {
                snprintf(err, errlen, "net user: cannot start libslirp");
                slirp_destroy(&s->be);
                return NULL;
        }
        for (unsigned i = 0; i < n; i++)
                if (add_hostfwd(s, hostfwd[i], err, errlen) < 0) {
                        slirp_destroy(&s->be);
                        return NULL;
                }
        if (pthread_create(&s->thread, NULL, slirp_thread, s) != 0) {
                snprintf(err, errlen, "net user: cannot start its thread");
                slirp_destroy(&s->be);
                return NULL;
        }
        s->thread_started = true;
        return &s->be;
}
