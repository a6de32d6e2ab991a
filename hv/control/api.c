/* tandemd's API server: accepts clients on the UNIX socket, checks their
 * credentials, frames and validates requests, dispatches methods and
 * buffers replies and events. See docs/api.md. */
#include "daemon.h"
#include "tandem_client.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Longest request line tandemd reads; configs travel inline, so 64 KiB. */
#define API_MAX_REQUEST (64 * 1024)
/* A subscriber that stops reading is dropped rather than buffered forever. */
#define API_MAX_OUTBUF (8 * 1024 * 1024)

static struct watch listen_w = {.fd = -1};
static struct client *clients;
static int n_clients;
static uint64_t next_serial = 1;
static gid_t tandem_gid = (gid_t)-1;

static void client_close(struct client *c);

static void out_append(struct client *c, const char *s, size_t len)
{
        if (c->closing)
                return;
        if (c->out_len + len > API_MAX_OUTBUF) {
                fprintf(stderr, "tandemd: client pid %d is not reading; dropped\n", (int)c->pid);
                c->closing = true;
                c->out_len = 0;
                return;
        }
        if (c->out_len + len > c->out_cap) {
                size_t ncap = c->out_cap ? c->out_cap : 4096;
                while (ncap < c->out_len + len)
                        ncap *= 2;
                char *n = realloc(c->out, ncap);
                if (!n) {
                        c->closing = true;
                        return;
                }
                c->out = n;
                c->out_cap = ncap;
        }
        memcpy(c->out + c->out_len, s, len);
        c->out_len += len;
}

static void flush(struct client *c)
{
        while (c->out_len > 0) {
                size_t len = c->out_len;
                ssize_t n;
                if (c->pass_fd >= 0 && c->pass_fd_at == 0) {
                        /* The descriptor rides on the first byte of its reply line. */
                        struct iovec iov = {.iov_base = c->out, .iov_len = len};
                        union {
                                char buf[CMSG_SPACE(sizeof(int))];
                                struct cmsghdr align;
                        } u;
                        memset(&u, 0, sizeof(u));
                        struct msghdr mh = {.msg_iov = &iov,
                                            .msg_iovlen = 1,
                                            .msg_control = u.buf,
                                            .msg_controllen = sizeof(u.buf)};
                        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
                        cm->cmsg_level = SOL_SOCKET;
                        cm->cmsg_type = SCM_RIGHTS;
                        cm->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cm), &c->pass_fd, sizeof(int));
                        n = sendmsg(c->w.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0) {
                                close(c->pass_fd);
                                c->pass_fd = -1;
                        }
                } else {
                        if (c->pass_fd >= 0 && c->pass_fd_at < len)
                                len = c->pass_fd_at;
                        n = send(c->w.fd, c->out, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0 && c->pass_fd >= 0)
                                c->pass_fd_at -= (size_t)n;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (n <= 0) {
                        c->closing = true;
                        c->out_len = 0;
                        break;
                }
                memmove(c->out, c->out + n, c->out_len - (size_t)n);
                c->out_len -= (size_t)n;
        }
        loop_mod(&c->w, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
}

static void send_obj(struct client *c, json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        out_append(c, s, strlen(s));
        out_append(c, "\n", 1);
}

void api_reply_ok(struct client *c, json_object *id, json_object *result)
{
        json_object *r = json_object_new_object();
        json_object_object_add(r, "v", json_object_new_int(TANDEM_API_VERSION));
        json_object_object_add(r, "id", json_object_get(id));
        json_object_object_add(r, "ok", json_object_new_boolean(true));
        json_object_object_add(r, "result", result ? result : json_object_new_object());
        send_obj(c, r);
        json_object_put(r);
        flush(c);
}

static void reply_errorv(struct client *c, json_object *id, const char *code, const char *fmt,
                         va_list ap)
{
        char msg[1024];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        json_object *r = json_object_new_object();
        json_object *e = json_object_new_object();
        json_object_object_add(r, "v", json_object_new_int(TANDEM_API_VERSION));
        json_object_object_add(r, "id", json_object_get(id));
        json_object_object_add(r, "ok", json_object_new_boolean(false));
        json_object_object_add(e, "code", json_object_new_string(code));
        json_object_object_add(e, "message", json_object_new_string(msg));
        json_object_object_add(r, "error", e);
        send_obj(c, r);
        json_object_put(r);
        flush(c);
}

void api_reply_error(struct client *c, json_object *id, const char *code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        reply_errorv(c, id, code, fmt, ap);
        va_end(ap);
}

struct client *api_client_find(uint64_t serial)
{
        for (struct client *c = clients; c; c = c->next)
                if (c->serial == serial && !c->closing)
                        return c;
        return NULL;
}

void pending_ok(struct pending_reply *p, json_object *result)
{
        struct client *c = api_client_find(p->client_serial);
        if (c)
                api_reply_ok(c, p->id, result);
        else
                json_object_put(result);
        pending_free(p);
}

void pending_error(struct pending_reply *p, const char *code, const char *fmt, ...)
{
        struct client *c = api_client_find(p->client_serial);
        if (c) {
                va_list ap;
                va_start(ap, fmt);
                reply_errorv(c, p->id, code, fmt, ap);
                va_end(ap);
        }
        pending_free(p);
}

void pending_free(struct pending_reply *p)
{
        json_object_put(p->id);
        p->id = NULL;
        p->client_serial = 0;
}

void api_broadcast(unsigned topic, const char *domain, json_object *event)
{
        json_object_object_add(event, "v", json_object_new_int(TANDEM_API_VERSION));
        const char *s = json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(s);
        for (struct client *c = clients; c; c = c->next) {
                if (!c->subscribed || !(c->topics & topic))
                        continue;
                if (c->sub_domain[0] && domain && strcmp(c->sub_domain, domain))
                        continue;
                out_append(c, s, len);
                out_append(c, "\n", 1);
                flush(c);
        }
        json_object_put(event);
}

/* ---- requests ---- */

static void m_subscribe(struct client *c, json_object *id, json_object *params)
{
        json_object *topics, *dom;
        unsigned bits = 0;
        if (params && json_object_object_get_ex(params, "topics", &topics)) {
                if (!json_object_is_type(topics, json_type_array)) {
                        api_reply_error(c, id, TANDEM_E_INVALID, "topics: expected an array");
                        return;
                }
                for (size_t i = 0; i < json_object_array_length(topics); i++) {
                        json_object *t = json_object_array_get_idx(topics, i);
                        const char *s = json_object_is_type(t, json_type_string)
                                            ? json_object_get_string(t)
                                            : "";
                        if (!strcmp(s, "state"))
                                bits |= TOPIC_STATE;
                        else if (!strcmp(s, "event"))
                                bits |= TOPIC_EVENT;
                        else if (!strcmp(s, "metrics"))
                                bits |= TOPIC_METRICS;
                        else {
                                api_reply_error(c, id, TANDEM_E_INVALID,
                                                "topics: '%s' is not one of state, event, metrics",
                                                s);
                                return;
                        }
                }
        } else {
                bits = TOPIC_STATE | TOPIC_EVENT | TOPIC_METRICS;
        }
        c->sub_domain[0] = '\0';
        if (params && json_object_object_get_ex(params, "domain", &dom)) {
                if (!json_object_is_type(dom, json_type_string)) {
                        api_reply_error(c, id, TANDEM_E_INVALID, "domain: expected a string");
                        return;
                }
                snprintf(c->sub_domain, sizeof(c->sub_domain), "%s", json_object_get_string(dom));
        }
        c->topics = bits;
        c->subscribed = true;
        api_reply_ok(c, id, NULL);
}

static void m_version(struct client *c, json_object *id, json_object *params)
{
        (void)params;
        json_object *r = json_object_new_object();
        json_object_object_add(r, "api", json_object_new_int(TANDEM_API_VERSION));
        json_object_object_add(r, "daemon", json_object_new_string("tandemd 0.1"));
        json_object_object_add(r, "uid", json_object_new_int64(getuid()));
        api_reply_ok(c, id, r);
}

static void m_list(struct client *c, json_object *id, json_object *params)
{
        (void)params;
        json_object *arr = json_object_new_array();
        for (struct domain *d = g_domains; d; d = d->next)
                json_object_array_add(arr, domain_to_json(d, false));
        json_object *r = json_object_new_object();
        json_object_object_add(r, "domains", arr);
        api_reply_ok(c, id, r);
}

static void m_events(struct client *c, json_object *id, json_object *params)
{
        json_object *v;
        const char *dom = NULL;
        int64_t after = 0;
        int limit = 100;
        if (params && json_object_object_get_ex(params, "domain", &v)) {
                if (!json_object_is_type(v, json_type_string)) {
                        api_reply_error(c, id, TANDEM_E_INVALID, "domain: expected a string");
                        return;
                }
                dom = json_object_get_string(v);
        }
        if (params && json_object_object_get_ex(params, "after", &v)) {
                if (!json_object_is_type(v, json_type_int)) {
                        api_reply_error(c, id, TANDEM_E_INVALID, "after: expected an integer");
                        return;
                }
                after = json_object_get_int64(v);
        }
        if (params && json_object_object_get_ex(params, "limit", &v)) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
                    json_object_get_int(v) > 10000) {
                        api_reply_error(c, id, TANDEM_E_INVALID,
                                        "limit: expected an integer 1..10000");
                        return;
                }
                limit = json_object_get_int(v);
        }
        json_object *r = json_object_new_object();
        json_object_object_add(r, "events", store_events(&g_store, dom, after, limit));
        api_reply_ok(c, id, r);
}

static void m_history(struct client *c, json_object *id, json_object *params)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, "domain", &v) ||
            !json_object_is_type(v, json_type_string)) {
                api_reply_error(c, id, TANDEM_E_INVALID, "domain: expected a string");
                return;
        }
        const char *dom = json_object_get_string(v);
        if (!domain_find(dom)) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain named '%s'", dom);
                return;
        }
        int res = METRICS_RES_SECOND, limit = 600;
        if (json_object_object_get_ex(params, "resolution", &v)) {
                const char *s =
                    json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                if (!strcmp(s, "second"))
                        res = METRICS_RES_SECOND;
                else if (!strcmp(s, "minute"))
                        res = METRICS_RES_MINUTE;
                else if (!strcmp(s, "hour"))
                        res = METRICS_RES_HOUR;
                else {
                        api_reply_error(c, id, TANDEM_E_INVALID,
                                        "resolution: expected \"second\", \"minute\" or \"hour\"");
                        return;
                }
        }
        if (json_object_object_get_ex(params, "limit", &v)) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int(v) < 1 ||
                    json_object_get_int(v) > 10000) {
                        api_reply_error(c, id, TANDEM_E_INVALID,
                                        "limit: expected an integer 1..10000");
                        return;
                }
                limit = json_object_get_int(v);
        }
        json_object *r = json_object_new_object();
        json_object_object_add(r, "domain", json_object_new_string(dom));
        json_object_object_add(r, "resolution", json_object_new_int(res));
        json_object_object_add(r, "samples", store_metrics(&g_store, dom, res, 0, limit));
        api_reply_ok(c, id, r);
}

static void m_create(struct client *c, json_object *id, json_object *p)
{
        dom_create(c, id, p);
}

static void m_console(struct client *c, json_object *id, json_object *p)
{
        dom_console(c, id, p);
}

static void m_display(struct client *c, json_object *id, json_object *p)
{
        dom_display(c, id, p);
}

static struct api_method *extra_methods;

void api_register(struct api_method *m)
{
        m->next = extra_methods;
        extra_methods = m;
}

static const struct api_method methods[] = {
    {"version", m_version, false},
    {"list", m_list, false},
    {"info", NULL, false},
    {"stats", NULL, false},
    {"history", m_history, false},
    {"events", m_events, false},
    {"subscribe", m_subscribe, false},
    {"create", m_create, true},
    {"pause", NULL, true},
    {"unpause", NULL, true},
    {"shutdown", NULL, true},
    {"reboot", NULL, true},
    {"destroy", NULL, true},
    {"console", m_console, true},
    {"display", m_display, true},
};

static const struct api_method *method_find(const char *name)
{
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
                if (!strcmp(methods[i].name, name))
                        return &methods[i];
        for (const struct api_method *m = extra_methods; m; m = m->next)
                if (!strcmp(m->name, name))
                        return m;
        return NULL;
}

static void handle_line(struct client *c, char *line)
{
        json_tokener *tok = json_tokener_new();
        json_object *req = json_tokener_parse_ex(tok, line, (int)strlen(line));
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        bool trailing = req && (size_t)json_tokener_get_parse_end(tok) < strlen(line) &&
                        line[strspn(line + json_tokener_get_parse_end(tok), " \t\r") +
                             json_tokener_get_parse_end(tok)] != '\0';
        json_tokener_free(tok);
        if (!req || jerr != json_tokener_success || trailing) {
                api_reply_error(c, NULL, TANDEM_E_PARSE, "request is not valid JSON: %s",
                                req ? "trailing data" : json_tokener_error_desc(jerr));
                json_object_put(req);
                return;
        }
        json_object *id = NULL, *v, *m, *params = NULL;
        if (!json_object_is_type(req, json_type_object)) {
                api_reply_error(c, NULL, TANDEM_E_INVALID, "request must be a JSON object");
                goto out;
        }
        json_object_object_get_ex(req, "id", &id);
        if (id && !json_object_is_type(id, json_type_int) &&
            !json_object_is_type(id, json_type_string)) {
                api_reply_error(c, NULL, TANDEM_E_INVALID, "id: expected an integer or string");
                goto out;
        }
        if (json_object_object_get_ex(req, "v", &v) &&
            (!json_object_is_type(v, json_type_int) ||
             json_object_get_int(v) != TANDEM_API_VERSION)) {
                api_reply_error(c, id, TANDEM_E_VERSION, "unsupported API version (this is %d)",
                                TANDEM_API_VERSION);
                goto out;
        }
        if (!json_object_object_get_ex(req, "method", &m) ||
            !json_object_is_type(m, json_type_string)) {
                api_reply_error(c, id, TANDEM_E_INVALID, "method: expected a string");
                goto out;
        }
        if (json_object_object_get_ex(req, "params", &params) && params &&
            !json_object_is_type(params, json_type_object)) {
                api_reply_error(c, id, TANDEM_E_INVALID, "params: expected an object");
                goto out;
        }
        const char *name = json_object_get_string(m);
        const struct api_method *meth = method_find(name);
        if (meth) {
                if (meth->mutating) {
                        json_object *dv = NULL;
                        if (params)
                                json_object_object_get_ex(params, "domain", &dv);
                        store_audit(&g_store, now_wall(), c->uid, name,
                                    dv && json_object_is_type(dv, json_type_string)
                                        ? json_object_get_string(dv)
                                        : NULL,
                                    1);
                }
                if (meth->fn)
                        meth->fn(c, id, params);
                else
                        dom_simple(c, id, name, params);
                goto out;
        }
        api_reply_error(c, id, TANDEM_E_UNKNOWN, "unknown method '%.64s'", name);
out:
        json_object_put(req);
}

static void client_ready(struct watch *w, uint32_t events)
{
        struct client *c = (struct client *)w;
        if (events & EPOLLOUT)
                flush(c);
        if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing) {
                ssize_t n = linebuf_fill(&c->in, c->w.fd);
                if (n == 0 || (n < 0 && errno != EAGAIN)) {
                        client_close(c);
                        return;
                }
                char *line;
                int r;
                while (!c->closing && (r = linebuf_next(&c->in, &line)) != 0) {
                        if (r < 0) {
                                api_reply_error(c, NULL, TANDEM_E_TOO_LARGE,
                                                "request exceeds %d bytes", API_MAX_REQUEST);
                                c->closing = true;
                                break;
                        }
                        if (line[strspn(line, " \t\r")])
                                handle_line(c, line);
                }
                c->partial_since = c->in.len > c->in.start
                                       ? (c->partial_since ? c->partial_since : now_mono())
                                       : 0;
        }
        if (c->closing && c->out_len == 0)
                client_close(c);
}

static void client_close(struct client *c)
{
        struct client **pp = &clients;
        while (*pp && *pp != c)
                pp = &(*pp)->next;
        if (*pp)
                *pp = c->next;
        loop_del(&c->w);
        close(c->w.fd);
        if (c->pass_fd >= 0)
                close(c->pass_fd);
        linebuf_free(&c->in);
        free(c->out);
        free(c);
        n_clients--;
}

/* Root, tandemd's own uid and members of group "tandem" may act. The peer's
 * groups come from /proc because SO_PEERCRED carries only its primary gid. */
static bool authorized(const struct ucred *cr)
{
        if (cr->uid == 0 || cr->uid == getuid())
                return true;
        if (tandem_gid == (gid_t)-1)
                return false;
        if (cr->gid == tandem_gid)
                return true;
        char path[64], line[4096];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)cr->pid);
        FILE *f = fopen(path, "re");
        bool ok = false;
        if (!f)
                return false;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "Groups:", 7))
                        continue;
                char *p = line + 7, *end;
                for (;;) {
                        unsigned long g = strtoul(p, &end, 10);
                        if (end == p)
                                break;
                        if ((gid_t)g == tandem_gid)
                                ok = true;
                        p = end;
                }
        }
        fclose(f);
        return ok;
}

static void listen_ready(struct watch *w, uint32_t events)
{
        (void)events;
        for (;;) {
                int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                        return;
                struct ucred cr;
                socklen_t len = sizeof(cr);
                const char *refusal = NULL, *code = TANDEM_E_DENIED;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
                        refusal = "cannot read peer credentials";
                else if (!authorized(&cr))
                        refusal = "permission denied: only root, tandemd's user and group "
                                  "'tandem' may use tandemd";
                else if (n_clients >= g_cfg.max_clients) {
                        refusal = "too many clients";
                        code = "busy";
                }
                if (refusal) {
                        char msg[512];
                        int n = snprintf(msg, sizeof(msg),
                                         "{\"v\":1,\"id\":null,\"ok\":false,\"error\":{\"code\":"
                                         "\"%s\",\"message\":\"%s\"}}\n",
                                         code, refusal);
                        if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                                /* The peer may already be gone; nothing to tell it. */
                        }
                        if (!strcmp(code, TANDEM_E_DENIED))
                                fprintf(stderr, "tandemd: refused uid %u pid %d\n",
                                        (unsigned)cr.uid, (int)cr.pid);
                        close(fd);
                        continue;
                }
                struct client *c = calloc(1, sizeof(*c));
                if (!c) {
                        close(fd);
                        continue;
                }
                c->w.fd = fd;
                c->w.ready = client_ready;
                c->serial = next_serial++;
                c->uid = cr.uid;
                c->pid = cr.pid;
                c->pass_fd = -1;
                linebuf_init(&c->in, API_MAX_REQUEST);
                c->next = clients;
                clients = c;
                n_clients++;
                loop_add(&c->w, EPOLLIN);
        }
}

int api_listen(const char *path, char *err, size_t errlen)
{
        struct group *gr = getgrnam(g_cfg.group);
        if (gr)
                tandem_gid = gr->gr_gid;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
                snprintf(err, errlen, "socket path too long: %s", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                snprintf(err, errlen, "socket: %s", strerror(errno));
                return -1;
        }
        /* A live daemon answers on the socket; a stale file from a killed
         * one is replaced. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                snprintf(err, errlen, "another tandemd is listening on %s", path);
                close(fd);
                return -1;
        }
        close(fd);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        unlink(path);
        /* Access control is SO_PEERCRED (authorized()), so that refusals get
         * a clear answer instead of EACCES. */
        mode_t old = umask(0111);
        int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (rc < 0 || listen(fd, 128) < 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                close(fd);
                return -1;
        }
        listen_w.fd = fd;
        listen_w.ready = listen_ready;
        return loop_add(&listen_w, EPOLLIN);
}

void api_periodic(double now)
{
        struct client *next;
        for (struct client *c = clients; c; c = next) {
                next = c->next;
                if (c->partial_since &&
                    now - c->partial_since > g_cfg.request_timeout_ms / 1000.0) {
                        api_reply_error(c, NULL, TANDEM_E_TIMEOUT,
                                        "incomplete request for more than %d ms",
                                        g_cfg.request_timeout_ms);
                        c->closing = true;
                        c->partial_since = 0;
                }
                if (c->closing && c->out_len == 0)
                        client_close(c);
        }
}

void api_shutdown(void)
{
        while (clients)
                client_close(clients);
        if (listen_w.fd >= 0)
                close(listen_w.fd);
}
