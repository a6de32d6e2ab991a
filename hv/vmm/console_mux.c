#include "console_mux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "vm.h"

/* Output kept for a client that attaches later: the boot log and the last screenfuls. */
#define CONSOLE_HISTORY (64 * 1024)

struct console_mux {
        struct vm *vm;
        int listen_fd, client_fd, dev_fd; /* socket mode */
        char path[108];
        char history[CONSOLE_HISTORY];
        size_t hist_len, hist_start;
        int tty_fd;
        struct termios saved;
        int saved_valid;
};

int console_mux_spec_valid(const char *spec)
{
        return !strcmp(spec, "stdio") || !strcmp(spec, "pty") || !strcmp(spec, "none") ||
               (!strncmp(spec, "file:", 5) && spec[5]) || (!strncmp(spec, "socket:", 7) && spec[7]);
}

/* Regular files and /dev/null cannot be polled; guest input is then off. */
static int pollable(int fd)
{
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN};
        int ok = ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
        if (ep >= 0)
                close(ep);
        return ok;
}

static void history_append(struct console_mux *m, const char *buf, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                size_t pos = (m->hist_start + m->hist_len) % CONSOLE_HISTORY;
                m->history[pos] = buf[i];
                if (m->hist_len < CONSOLE_HISTORY)
                        m->hist_len++;
                else
                        m->hist_start = (m->hist_start + 1) % CONSOLE_HISTORY;
        }
}

static void write_all(int fd, const char *buf, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, buf, n);
                if (w <= 0)
                        return; /* a stuck or gone client loses output, the guest never blocks */
                buf += w;
                n -= (size_t)w;
        }
}

static void client_drop(struct console_mux *m)
{
        evloop_del(m->vm->loop, m->client_fd);
        close(m->client_fd);
        m->client_fd = -1;
}

static void client_readable(void *opaque, uint32_t events)
{
        struct console_mux *m = opaque;
        char buf[512];
        ssize_t n = (events & EPOLLIN) ? read(m->client_fd, buf, sizeof(buf)) : 0;
        if (n <= 0) {
                client_drop(m);
                return;
        }
        write_all(m->dev_fd, buf, (size_t)n);
}

static void dev_readable(void *opaque, uint32_t events)
{
        (void)events;
        struct console_mux *m = opaque;
        char buf[4096];
        ssize_t n = read(m->dev_fd, buf, sizeof(buf));
        if (n <= 0)
                return;
        history_append(m, buf, (size_t)n);
        if (m->client_fd >= 0)
                write_all(m->client_fd, buf, (size_t)n);
}

static void accept_ready(void *opaque, uint32_t events)
{
        (void)events;
        struct console_mux *m = opaque;
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        /* One interactive client at a time; a new one takes over (like xl console). */
        if (m->client_fd >= 0)
                client_drop(m);
        m->client_fd = fd;
        size_t first = CONSOLE_HISTORY - m->hist_start;
        if (first > m->hist_len)
                first = m->hist_len;
        write_all(fd, m->history + m->hist_start, first);
        write_all(fd, m->history, m->hist_len - first);
        evloop_add(m->vm->loop, fd, EPOLLIN, client_readable, m);
}

static int open_socket(struct console_mux *m, const char *path, int *dev_in, int *dev_out,
                       char *err, size_t errlen)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
                snprintf(err, errlen, "console socket path is too long: %s", path);
                return -1;
        }
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                snprintf(err, errlen, "socketpair: %s", strerror(errno));
                return -1;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        snprintf(m->path, sizeof(m->path), "%s", path);
        unlink(path);
        m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(m->listen_fd, 4) < 0) {
                snprintf(err, errlen, "cannot listen on console socket %s: %s", path,
                         strerror(errno));
                close(pair[0]);
                close(pair[1]);
                return -1;
        }
        m->dev_fd = pair[0];
        *dev_in = *dev_out = pair[1];
        evloop_add(m->vm->loop, m->listen_fd, EPOLLIN, accept_ready, m);
        evloop_add(m->vm->loop, m->dev_fd, EPOLLIN, dev_readable, m);
        return 0;
}

struct console_mux *console_mux_open(struct vm *vm, const char *spec, int *dev_in, int *dev_out,
                                     char *err, size_t errlen)
{
        struct console_mux *m = calloc(1, sizeof(*m));
        if (!m) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        m->vm = vm;
        m->listen_fd = m->client_fd = m->dev_fd = m->tty_fd = -1;
        *dev_in = *dev_out = -1;
        if (!strcmp(spec, "stdio")) {
                *dev_in = pollable(STDIN_FILENO) ? STDIN_FILENO : -1;
                *dev_out = STDOUT_FILENO;
                /* Raw mode so the guest sees keystrokes, not lines; restored on close. */
                if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &m->saved) == 0) {
                        struct termios raw = m->saved;
                        cfmakeraw(&raw);
                        raw.c_oflag |= OPOST | ONLCR;
                        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
                        m->saved_valid = 1;
                        m->tty_fd = STDIN_FILENO;
                }
        } else if (!strcmp(spec, "pty")) {
                int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) {
                        snprintf(err, errlen, "cannot allocate a pty: %s", strerror(errno));
                        free(m);
                        return NULL;
                }
                fprintf(stderr, "tandem-vmm: console on %s\n", ptsname(fd));
                *dev_in = *dev_out = fd;
        } else if (!strncmp(spec, "file:", 5)) {
                int fd = open(spec + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd < 0) {
                        snprintf(err, errlen, "console file %s: %s", spec + 5, strerror(errno));
                        free(m);
                        return NULL;
                }
                *dev_out = fd;
        } else if (!strncmp(spec, "socket:", 7)) {
                if (open_socket(m, spec + 7, dev_in, dev_out, err, errlen) < 0) {
                        free(m);
                        return NULL;
                }
        } else if (!strcmp(spec, "none")) {
                int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                *dev_out = fd;
        } else {
                snprintf(err, errlen,
                         "unknown console '%s' (stdio, pty, none, file:PATH, socket:PATH)", spec);
                free(m);
                return NULL;
        }
        return m;
}

void console_mux_close(struct console_mux *m)
{
        if (!m)
                return;
        if (m->saved_valid)
                tcsetattr(m->tty_fd, TCSANOW, &m->saved);
        if (m->listen_fd >= 0) {
                close(m->listen_fd);
                unlink(m->path);
        }
        if (m->client_fd >= 0)
                close(m->client_fd);
        free(m);
}
