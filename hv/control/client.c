/* libtandem: see tandem_client.h for the contract and docs/api.md for the
 * protocol. Blocking I/O on one socket; events are queued while a call waits. */
#include "tandem_client.h"
#include "linebuf.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct tandem_client {
        int fd;
        int passed_fd; /* last descriptor tandemd sent (console), or -1 */
        long long next_id;
        struct linebuf in;
        json_object *queued; /* array of events received during calls */
        size_t queued_head;
};

static void set_error(struct tandem_error *err, const char *code, const char *fmt, ...)
{
        if (!err)
                return;
        snprintf(err->code, sizeof(err->code), "%s", code);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
}

const char *tandem_default_socket(char *buf, size_t len)
{
        const char *env = getenv("TANDEM_SOCKET");
        if (env && *env)
                snprintf(buf, len, "%s", env);
        else if (geteuid() == 0)
                snprintf(buf, len, "/run/tandem/tandemd.sock");
        else if (getenv("XDG_RUNTIME_DIR") && *getenv("XDG_RUNTIME_DIR"))
                snprintf(buf, len, "%s/tandem/tandemd.sock", getenv("XDG_RUNTIME_DIR"));
        else
                snprintf(buf, len, "/tmp/tandem-%u/tandemd.sock", (unsigned)geteuid());
        return buf;
}

struct tandem_client *tandem_connect(const char *path, struct tandem_error *err)
{
        char def[sizeof(((struct sockaddr_un *)0)->sun_path) + 64];
        if (!path)
                path = tandem_default_socket(def, sizeof(def));
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
                set_error(err, TANDEM_E_CONNECT, "socket path too long: %s", path);
                return NULL;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                set_error(err, TANDEM_E_CONNECT, "socket: %s", strerror(errno));
                return NULL;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                set_error(err, TANDEM_E_CONNECT, "cannot connect to tandemd at %s: %s", path,
                          strerror(errno));
                close(fd);
                return NULL;
        }
        struct tandem_client *c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                set_error(err, TANDEM_E_CONNECT, "out of memory");
                return NULL;
        }
        c->fd = fd;
        c->passed_fd = -1;
        c->next_id = 1;
        linebuf_init(&c->in, TANDEM_MAX_MESSAGE);
        c->queued = json_object_new_array();
        return c;
}

void tandem_close(struct tandem_client *c)
{
        if (!c)
                return;
        close(c->fd);
        if (c->passed_fd >= 0)
                close(c->passed_fd);
        linebuf_free(&c->in);
        json_object_put(c->queued);
        free(c);
}

int tandem_client_fd(const struct tandem_client *c)
{
        return c->fd;
}

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* linebuf_fill with recvmsg, so a descriptor riding on a reply is kept. */
static ssize_t fill(struct tandem_client *c)
{
        struct linebuf *b = &c->in;
        if (linebuf_reserve(b) == 0)
                return -1;
        struct iovec iov = {.iov_base = b->data + b->len, .iov_len = b->cap - b->len};
        union {
                char buf[CMSG_SPACE(4 * sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = u.buf,
                            .msg_controllen = sizeof(u.buf)};
        ssize_t n;
        do {
                n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
        } while (n < 0 && errno == EINTR);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < nfd; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (c->passed_fd >= 0)
                                close(c->passed_fd);
                        c->passed_fd = fd;
                }
        }
        if (n > 0)
                b->len += (size_t)n;
        return n;
}

/* Reads the next JSON object from the socket. 1 ok, 0 timeout, -1 error. */
static int read_message(struct tandem_client *c, long long deadline, json_object **out,
                        struct tandem_error *err)
{
        for (;;) {
                char *line;
                int r = linebuf_next(&c->in, &line);
                if (r < 0) {
                        set_error(err, TANDEM_E_PROTOCOL, "message from tandemd exceeds %d bytes",
                                  TANDEM_MAX_MESSAGE);
                        return -1;
                }
                if (r > 0) {
                        if (!*line)
                                continue;
                        json_object *o = json_tokener_parse(line);
                        if (!o || !json_object_is_type(o, json_type_object)) {
                                json_object_put(o);
                                set_error(err, TANDEM_E_PROTOCOL, "malformed message from tandemd");
                                return -1;
                        }
                        *out = o;
                        return 1;
                }
                int wait = -1;
                if (deadline >= 0) {
                        long long left = deadline - now_ms();
                        wait = left > 0 ? (int)left : 0;
                }
                struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
                int pr = poll(&pfd, 1, wait);
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr < 0) {
                        set_error(err, TANDEM_E_PROTOCOL, "poll: %s", strerror(errno));
                        return -1;
                }
                if (pr == 0)
                        return 0;
                ssize_t n = fill(c);
                if (n == 0) {
                        set_error(err, TANDEM_E_PROTOCOL, "tandemd closed the connection");
                        return -1;
                }
                if (n < 0) {
                        set_error(err, TANDEM_E_PROTOCOL, "read: %s", strerror(errno));
                        return -1;
                }
        }
}

static void take_error(json_object *reply, struct tandem_error *err)
{
        json_object *e, *code, *msg;
        if (json_object_object_get_ex(reply, "error", &e) &&
            json_object_object_get_ex(e, "code", &code) &&
            json_object_object_get_ex(e, "message", &msg))
                set_error(err, json_object_get_string(code), "%s", json_object_get_string(msg));
        else
                set_error(err, TANDEM_E_PROTOCOL, "error reply without error object");
}

/* Sends a request and returns the whole reply object; fd_out receives an
 * SCM_RIGHTS descriptor if the caller wants one. */
static int call_raw(struct tandem_client *c, const char *method, json_object *params,
                    int timeout_ms, json_object **reply_out, struct tandem_error *err)
{
        *reply_out = NULL;
        long long id = c->next_id++;
        json_object *req = json_object_new_object();
        json_object_object_add(req, "v", json_object_new_int(TANDEM_API_VERSION));
        json_object_object_add(req, "id", json_object_new_int64(id));
        json_object_object_add(req, "method", json_object_new_string(method));
        if (params)
                json_object_object_add(req, "params", params);
        const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(s);
        char *line = malloc(len + 2);
        if (!line) {
                json_object_put(req);
                set_error(err, TANDEM_E_PROTOCOL, "out of memory");
                return -1;
        }
        memcpy(line, s, len);
        line[len] = '\n';
        json_object_put(req);
        int w = write_all_timeout(c->fd, line, len + 1, timeout_ms < 0 ? 600000 : timeout_ms);
        free(line);
        if (w < 0) {
                /* tandemd may have refused the connection before reading:
                 * its one-line answer says why, better than EPIPE. */
                int saved = errno;
                json_object *m;
                struct tandem_error ignored;
                if (read_message(c, now_ms() + 1000, &m, &ignored) == 1) {
                        if (json_object_object_get_ex(m, "ok", NULL)) {
                                *reply_out = m;
                                return 0;
                        }
                        json_object_put(m);
                }
                set_error(err, TANDEM_E_PROTOCOL, "sending to tandemd: %s", strerror(saved));
                return -1;
        }
        long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        for (;;) {
                json_object *m;
                int r = read_message(c, deadline, &m, err);
                if (r == 0) {
                        set_error(err, TANDEM_E_TIMEOUT, "no reply from tandemd to '%s'", method);
                        return -1;
                }
                if (r < 0)
                        return -1;
                json_object *idv;
                if (json_object_object_get_ex(m, "event", NULL)) {
                        json_object_array_add(c->queued, m);
                        continue;
                }
                /* A reply with a null id answers whatever was sent (tandemd
                 * refusing the connection, or a request it could not parse). */
                bool has_id = json_object_object_get_ex(m, "id", &idv) && idv;
                if ((has_id && json_object_get_int64(idv) == id) ||
                    (!has_id && json_object_object_get_ex(m, "ok", NULL))) {
                        *reply_out = m;
                        return 0;
                }
                json_object_put(m); /* stale reply to an abandoned call */
        }
}

int tandem_call_timeout(struct tandem_client *c, const char *method, json_object *params,
                        int timeout_ms, json_object **result, struct tandem_error *err)
{
        *result = NULL;
        json_object *reply;
        if (call_raw(c, method, params, timeout_ms, &reply, err) < 0)
                return -1;
        json_object *ok, *res;
        if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
                take_error(reply, err);
                json_object_put(reply);
                return -1;
        }
        if (json_object_object_get_ex(reply, "result", &res) && res)
                *result = json_object_get(res);
        else
                *result = json_object_new_object();
        json_object_put(reply);
        return 0;
}

int tandem_call(struct tandem_client *c, const char *method, json_object *params,
                json_object **result, struct tandem_error *err)
{
        return tandem_call_timeout(c, method, params, 60000, result, err);
}

int tandem_subscribe(struct tandem_client *c, const char *const *topics, const char *domain,
                     struct tandem_error *err)
{
        json_object *p = json_object_new_object();
        if (topics) {
                json_object *t = json_object_new_array();
                for (; *topics; topics++)
                        json_object_array_add(t, json_object_new_string(*topics));
                json_object_object_add(p, "topics", t);
        }
        if (domain)
                json_object_object_add(p, "domain", json_object_new_string(domain));
        json_object *res;
        if (tandem_call(c, "subscribe", p, &res, err) < 0)
                return -1;
        json_object_put(res);
        return 0;
}

int tandem_next_event(struct tandem_client *c, int timeout_ms, json_object **event,
                      struct tandem_error *err)
{
        *event = NULL;
        if (c->queued_head < json_object_array_length(c->queued)) {
                *event = json_object_get(json_object_array_get_idx(c->queued, c->queued_head++));
                if (c->queued_head == json_object_array_length(c->queued)) {
                        json_object_put(c->queued);
                        c->queued = json_object_new_array();
                        c->queued_head = 0;
                }
                return 1;
        }
        long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        for (;;) {
                json_object *m;
                int r = read_message(c, deadline, &m, err);
                if (r <= 0)
                        return r;
                if (json_object_object_get_ex(m, "event", NULL)) {
                        *event = m;
                        return 1;
                }
                json_object_put(m);
        }
}

static int open_passed(struct tandem_client *c, const char *method, const char *domain, int *fd,
                       struct tandem_error *err)
{
        *fd = -1;
        if (c->passed_fd >= 0) {
                close(c->passed_fd);
                c->passed_fd = -1;
        }
        json_object *p = json_object_new_object();
        json_object_object_add(p, "domain", json_object_new_string(domain));
        json_object *res;
        if (tandem_call(c, method, p, &res, err) < 0)
                return -1;
        json_object_put(res);
        /* The descriptor rides on the reply line (SCM_RIGHTS), see fill(). */
        if (c->passed_fd < 0) {
                set_error(err, TANDEM_E_PROTOCOL, "tandemd did not pass the %s descriptor", method);
                return -1;
        }
        *fd = c->passed_fd;
        c->passed_fd = -1;
        return 0;
}

int tandem_console_open(struct tandem_client *c, const char *domain, int *fd,
                        struct tandem_error *err)
{
        return open_passed(c, "console", domain, fd, err);
}

int tandem_display_open(struct tandem_client *c, const char *domain, int *fd,
                        struct tandem_error *err)
{
        return open_passed(c, "display", domain, fd, err);
}

json_object *tandem_list(struct tandem_client *c, struct tandem_error *err)
{
        json_object *res, *doms;
        if (tandem_call(c, "list", NULL, &res, err) < 0)
                return NULL;
        if (!json_object_object_get_ex(res, "domains", &doms) ||
            !json_object_is_type(doms, json_type_array)) {
                json_object_put(res);
                set_error(err, TANDEM_E_PROTOCOL, "list reply has no domains array");
                return NULL;
        }
        json_object_get(doms);
        json_object_put(res);
        return doms;
}
