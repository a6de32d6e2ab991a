#include "linebuf.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void linebuf_init(struct linebuf *b, size_t max)
{
        memset(b, 0, sizeof(*b));
        b->max = max;
}

void linebuf_free(struct linebuf *b)
{
        free(b->data);
        memset(b, 0, sizeof(*b));
}

size_t linebuf_reserve(struct linebuf *b)
{
        if (b->start > 0) {
                memmove(b->data, b->data + b->start, b->len - b->start);
                b->len -= b->start;
                b->start = 0;
        }
        if (b->cap - b->len < 4096) {
                /* Never hold more than one oversize line plus a read. */
                size_t ncap = b->cap ? b->cap * 2 : 8192;
                if (ncap > b->max + 8192)
                        ncap = b->max + 8192;
                if (ncap > b->cap) {
                        char *n = realloc(b->data, ncap + 1);
                        if (!n) {
                                errno = ENOMEM;
                                return 0;
                        }
                        b->data = n;
                        b->cap = ncap;
                }
        }
        if (b->cap == b->len)
                errno = EMSGSIZE;
        return b->cap - b->len;
}

ssize_t linebuf_fill(struct linebuf *b, int fd)
{
        size_t room = linebuf_reserve(b);
        if (room == 0)
                return -1;
        ssize_t n;
        do {
                n = read(fd, b->data + b->len, room);
        } while (n < 0 && errno == EINTR);
        if (n > 0)
                b->len += (size_t)n;
        return n;
}

int linebuf_next(struct linebuf *b, char **line)
{
        if (b->len == b->start)
                return 0;
        char *p = b->data + b->start;
        char *nl = memchr(p, '\n', b->len - b->start);
        if (!nl) {
                if (b->len - b->start >= b->max)
                        return -1;
                return 0;
        }
        if ((size_t)(nl - p) + 1 > b->max)
                return -1;
        *nl = '\0';
        b->start += (size_t)(nl - p) + 1;
        *line = p;
        return 1;
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int write_all_timeout(int fd, const void *buf, size_t len, int timeout_ms)
{
        const char *p = buf;
        long long deadline = now_ms() + timeout_ms;
        while (len > 0) {
                /* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == ENOTSOCK)
                        n = write(fd, p, len);
                if (n > 0) {
                        p += n;
                        len -= (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                        return -1;
                long long left = deadline - now_ms();
                if (left <= 0) {
                        errno = ETIMEDOUT;
                        return -1;
                }
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                poll(&pfd, 1, (int)left);
        }
        return 0;
}
