/* Child processes for export/import (see api_image_job.h). The child writes
 * JSON lines into a pipe: {"progress": {...}} any number of times, then
 * {"result": ...} or {"error": "..."}; tandemd reads them from its event
 * loop. tandemd ignores SIGCHLD, so the child is reaped by the kernel. */
#include "api_image_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

#define E_IMAGE        "image"
#define JOB_FD         3
#define LINE_MAX_BYTES (1u << 20)

struct image_job {
        struct watch w;
        uint64_t serial;
        json_object *id;
        char kind[16];
        char domain[DOMCFG_NAME_MAX + 1];
        char *buf;
        size_t len, cap;
        bool replied;
};

/* ---- child side ---- */

static int job_fd = -1;
static double last_progress;

static void send_line(json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        size_t n = strlen(s);
        char *line = malloc(n + 1);
        if (line) {
                memcpy(line, s, n);
                line[n] = '\n';
                for (size_t off = 0; off <= n;) {
                        ssize_t w = write(job_fd, line + off, n + 1 - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;
                        off += (size_t)w;
                }
                free(line);
        }
        json_object_put(o);
}

void image_job_reply(json_object *result)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "result", result);
        send_line(o);
}

void image_job_fail(const char *fmt, ...)
{
        char msg[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(msg));
        send_line(o);
}

void image_job_progress(const char *file, uint64_t done, uint64_t total)
{
        if (job_fd < 0)
                return;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        if (done < total && t - last_progress < 0.2)
                return;
        last_progress = t;
        json_object *p = json_object_new_object(), *o = json_object_new_object();
        json_object_object_add(p, "file", json_object_new_string(file));
        json_object_object_add(p, "done", json_object_new_int64((int64_t)done));
        json_object_object_add(p, "total", json_object_new_int64((int64_t)total));
        json_object_object_add(o, "progress", p);
        send_line(o);
}

/* ---- tandemd side ---- */

static void job_reply(struct image_job *j, json_object *result, const char *error)
{
        if (j->replied)
                return;
        j->replied = true;
        struct client *c = api_client_find(j->serial);
        if (!c) {
                json_object_put(result);
                return;
        }
        if (error)
                api_reply_error(c, j->id, E_IMAGE, "%s", error);
        else
                api_reply_ok(c, j->id, result);
}

static void job_line(struct image_job *j, const char *line)
{
        json_object *o = json_tokener_parse(line), *v;
        if (!o)
                return;
        if (json_object_object_get_ex(o, "progress", &v)) {
                json_object *e = json_object_new_object(), *x;
                char ev[32];
                snprintf(ev, sizeof(ev), "%s-progress", j->kind);
                json_object_object_add(e, "event", json_object_new_string(ev));
                if (j->domain[0])
                        json_object_object_add(e, "domain", json_object_new_string(j->domain));
                json_object_object_add(e, "time", json_object_new_double(now_wall()));
                const char *keys[] = {"file", "done", "total"};
                for (size_t i = 0; i < 3; i++)
                        if (json_object_object_get_ex(v, keys[i], &x))
                                json_object_object_add(e, keys[i], json_object_get(x));
                api_broadcast(TOPIC_EVENT, j->domain[0] ? j->domain : NULL, e);
        } else if (json_object_object_get_ex(o, "result", &v)) {
                struct domain *d = j->domain[0] ? domain_find(j->domain) : NULL;
                json_object *path;
                if (d && json_object_object_get_ex(v, "path", &path))
                        domain_log(d, j->kind, "%sed to %s", j->kind, json_object_get_string(path));
                job_reply(j, json_object_get(v), NULL);
        } else if (json_object_object_get_ex(o, "error", &v)) {
                job_reply(j, NULL, json_object_get_string(v));
        }
        json_object_put(o);
}

static void job_ready(struct watch *w, uint32_t events)
{
        struct image_job *j = (struct image_job *)w;
        (void)events;
        for (;;) {
                if (j->cap - j->len < 4096) {
                        size_t cap = j->cap * 2;
                        char *nb = cap <= LINE_MAX_BYTES * 2 ? realloc(j->buf, cap) : NULL;
                        if (!nb)
                                break; /* a runaway child: treat as the end */
                        j->buf = nb;
                        j->cap = cap;
                }
                ssize_t n = read(w->fd, j->buf + j->len, j->cap - j->len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return;
                if (n <= 0)
                        break;
                j->len += (size_t)n;
                char *start = j->buf, *nl;
                while ((nl = memchr(start, '\n', j->len - (size_t)(start - j->buf)))) {
                        *nl = 0;
                        job_line(j, start);
                        start = nl + 1;
                }
                j->len -= (size_t)(start - j->buf);
                memmove(j->buf, start, j->len);
        }
        job_reply(j, NULL, "the worker process ended without a result");
        loop_del(w);
        close(w->fd);
        json_object_put(j->id);
        free(j->buf);
        free(j);
}

void image_job_start(struct client *c, json_object *id, const char *kind, const char *domain,
                     image_job_fn fn, void *arg)
{
        int p[2];
        struct image_job *j = calloc(1, sizeof(*j));
        if (!j || !(j->buf = malloc(j->cap = 16384)) || pipe2(p, O_CLOEXEC) < 0) {
                api_reply_error(c, id, E_IMAGE, "%s: cannot start a worker: %s", kind,
                                strerror(errno ? errno : ENOMEM));
                if (j)
                        free(j->buf);
                free(j);
                return;
        }
        pid_t pid = fork();
        if (pid == 0) {
                /* only the pipe and stdio: the child must not hold client
                 * sockets, the listening socket or the store open */
                if (p[1] != JOB_FD && dup2(p[1], JOB_FD) < 0)
                        _exit(1);
                close_range(JOB_FD + 1, ~0u, 0);
                job_fd = JOB_FD;
                fn(arg);
                _exit(0);
        }
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                api_reply_error(c, id, E_IMAGE, "%s: cannot start a worker: %s", kind,
                                strerror(errno));
                free(j->buf);
                free(j);
                return;
        }
        fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
        j->w.fd = p[0];
        j->w.ready = job_ready;
        j->serial = c->serial;
        j->id = json_object_get(id);
        snprintf(j->kind, sizeof(j->kind), "%s", kind);
        snprintf(j->domain, sizeof(j->domain), "%s", domain ? domain : "");
        if (loop_add(&j->w, EPOLLIN) < 0) {
                close(p[0]);
                json_object_put(j->id);
                free(j->buf);
                free(j);
                api_reply_error(c, id, E_IMAGE, "%s: cannot watch the worker", kind);
        }
}
