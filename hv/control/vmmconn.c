/* tandemd's side of one VMM control socket (hv/vmm/control.h): connect
 * (retried while the VMM starts), JSON-line requests matched to replies by
 * id, and "state" events from the VMM's subscription. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define VMM_MAX_LINE     (1024 * 1024)
#define VMM_CALL_TIMEOUT 30.0

struct vmm_call {
        struct vmm_call *next;
        int64_t id;
        double deadline;
        vmm_reply_fn fn;
        void *opaque;
};

int vmmconn_path(const struct domain *d, const char *leaf, char *buf, size_t len)
{
        int n = snprintf(buf, len, "%s/%s%s%s", g_cfg.run_dir, d->name, leaf[0] ? "/" : "", leaf);
        return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void finish(struct domain *d, struct vmm_call *call, json_object *reply, const char *err)
{
        call->fn(d, call->opaque, reply, err);
        free(call);
}

void vmmconn_close(struct domain *d)
{
        if (d->ctl.fd >= 0) {
                loop_del(&d->ctl);
                close(d->ctl.fd);
                d->ctl.fd = -1;
        }
        linebuf_free(&d->ctl_in);
        while (d->calls) {
                struct vmm_call *c = d->calls;
                d->calls = c->next;
                finish(d, c, NULL, "the VMM control connection closed");
        }
}

static void on_vmm_event(struct domain *d, json_object *ev)
{
        json_object *name, *st;
        if (!json_object_object_get_ex(ev, "event", &name) ||
            strcmp(json_object_get_string(name), "state") ||
            !json_object_object_get_ex(ev, "state", &st))
                return;
        const char *s = json_object_get_string(st);
        if (!strcmp(s, "paused") && d->state == DS_RUNNING) {
                d->state = DS_PAUSED;
                domain_log(d, "state", "paused (by the VMM)");
        } else if (!strcmp(s, "running") && d->state == DS_PAUSED) {
                d->state = DS_RUNNING;
                domain_log(d, "state", "running (by the VMM)");
        }
}

static void ctl_ready(struct watch *w, uint32_t events)
{
        struct domain *d = (struct domain *)((char *)w - offsetof(struct domain, ctl));
        if (w->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return;
        ssize_t n = linebuf_fill(&d->ctl_in, w->fd);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
                /* The VMM is exiting; its monitor's pidfd says how. */
                vmmconn_close(d);
                return;
        }
        char *line;
        int r;
        while ((r = linebuf_next(&d->ctl_in, &line)) != 0) {
                if (r < 0) {
                        fprintf(stderr, "tandemd: %s: VMM sent an oversized line\n", d->name);
                        vmmconn_close(d);
                        return;
                }
                json_object *m = json_tokener_parse(line);
                if (!m || !json_object_is_type(m, json_type_object)) {
                        json_object_put(m);
                        continue;
                }
                json_object *idv;
                if (json_object_object_get_ex(m, "event", NULL)) {
                        on_vmm_event(d, m);
                } else if (json_object_object_get_ex(m, "id", &idv)) {
                        int64_t id = json_object_get_int64(idv);
                        for (struct vmm_call **pp = &d->calls; *pp; pp = &(*pp)->next) {
                                if ((*pp)->id != id)
                                        continue;
                                struct vmm_call *c = *pp;
                                *pp = c->next;
                                json_object *ok, *e;
                                if (json_object_object_get_ex(m, "ok", &ok) &&
                                    json_object_get_boolean(ok))
                                        finish(d, c, m, NULL);
                                else
                                        finish(d, c, m,
                                               json_object_object_get_ex(m, "error", &e)
                                                   ? json_object_get_string(e)
                                                   : "the VMM refused");
                                break;
                        }
                }
                json_object_put(m);
                if (d->ctl.fd < 0)
                        return;
        }
}

void vmmconn_try_connect(struct domain *d)
{
        if (d->ctl.fd >= 0)
                return;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (vmmconn_path(d, "control.sock", sa.sun_path, sizeof(sa.sun_path)) < 0)
                return;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        /* A blocking connect to a local socket does not wait on the peer. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        d->ctl.fd = fd;
        d->ctl.ready = ctl_ready;
        d->ctl_next_id = 1;
        linebuf_init(&d->ctl_in, VMM_MAX_LINE);
        loop_add(&d->ctl, EPOLLIN);
}

int vmmconn_call(struct domain *d, const char *cmd, json_object *args, vmm_reply_fn fn,
                 void *opaque)
{
        if (d->ctl.fd < 0) {
                json_object_put(args);
                return -1;
        }
        struct vmm_call *c = calloc(1, sizeof(*c));
        if (!c) {
                json_object_put(args);
                return -1;
        }
        json_object *req = args ? args : json_object_new_object();
        c->id = d->ctl_next_id++;
        json_object_object_add(req, "id", json_object_new_int64(c->id));
        json_object_object_add(req, "cmd", json_object_new_string(cmd));
        const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(s);
        char *line = malloc(len + 1);
        int rc = -1;
        if (line) {
                memcpy(line, s, len);
                line[len] = '\n';
                /* Requests are small and the VMM reads promptly; a VMM that
                 * stops reading for a second is treated as gone. */
                rc = write_all_timeout(d->ctl.fd, line, len + 1, 1000);
                free(line);
        }
        json_object_put(req);
        if (rc < 0) {
                free(c);
                vmmconn_close(d);
                return -1;
        }
        c->fn = fn;
        c->opaque = opaque;
        c->deadline = now_mono() + VMM_CALL_TIMEOUT;
        struct vmm_call **pp = &d->calls;
        while (*pp)
                pp = &(*pp)->next;
        *pp = c;
        return 0;
}

void vmmconn_expire(struct domain *d, double now)
{
        for (struct vmm_call **pp = &d->calls; *pp;) {
                struct vmm_call *c = *pp;
                if (c->deadline > now) {
                        pp = &c->next;
                        continue;
                }
                *pp = c->next;
                finish(d, c, NULL, "the VMM did not answer in time");
        }
}
