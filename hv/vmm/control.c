/* The VMM control socket: newline-delimited JSON requests, one reply each. */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vm.h"

#define CONTROL_MAX_CLIENTS 32
#define CONTROL_MAX_LINE    (64 * 1024)
#define CONTROL_MAX_CMDS    48
#define CONTROL_MAX_TOPICS  8

struct control_client {
        struct control *ctl;
        int fd;
        size_t len;
        char buf[CONTROL_MAX_LINE];
        char topics[CONTROL_MAX_TOPICS][16];
        unsigned ntopics;
};

struct control_cmd {
        const char *name;
        control_cmd_fn fn;
        void *opaque;
};

struct control {
        struct vm *vm;
        int listen_fd;
        char path[108];
        struct control_client *client[CONTROL_MAX_CLIENTS];
        unsigned ncmds;
        struct control_cmd cmd[CONTROL_MAX_CMDS];
        unsigned nstats;
        struct {
                control_stats_fn fn;
                void *opaque;
        } stats[8];
};

static void client_close(struct control_client *c)
{
        struct control *ctl = c->ctl;
        evloop_del(ctl->vm->loop, c->fd);
        close(c->fd);
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
                if (ctl->client[i] == c)
                        ctl->client[i] = NULL;
        free(c);
}

static int send_json(int fd, json_object *obj, int pass_fd)
{
        const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
        size_t len = strlen(s);
        char *line = malloc(len + 1);
        if (!line)
                return -ENOMEM;
        memcpy(line, s, len);
        line[len] = '\n';
        struct iovec iov = {.iov_base = line, .iov_len = len + 1};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (pass_fd >= 0) {
                memset(&u, 0, sizeof(u));
                msg.msg_control = u.buf;
                msg.msg_controllen = sizeof(u.buf);
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        }
        /* Replies are small; a client that stops reading only loses events. */
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        free(line);
        return n == (ssize_t)(len + 1) ? 0 : -EIO;
}

static int cmd_status(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                      const char **error, int *fd_out)
{
        (void)c, (void)req, (void)error, (void)fd_out;
        struct vm *vm = opaque;
        json_object_object_add(reply, "state",
                               json_object_new_string(vm_is_paused(vm) ? "paused" : "running"));
        json_object_object_add(reply, "vcpus", json_object_new_int((int)vm->ncpus));
        json_object_object_add(reply, "mem", json_object_new_int64((int64_t)vm->mem.ram_size));
        json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
        json_object_object_add(reply, "software_kvm", json_object_new_boolean(vm->software_kvm));
        return 0;
}

static int cmd_pause(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                     const char **error, int *fd_out)
{
        (void)c, (void)req, (void)error, (void)fd_out, (void)reply;
        vm_pause(opaque);
        return 0;
}

static int cmd_resume(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                      const char **error, int *fd_out)
{
        (void)c, (void)req, (void)error, (void)fd_out, (void)reply;
        vm_resume(opaque);
        return 0;
}

static long rss_bytes(void)
{
        FILE *f = fopen("/proc/self/statm", "re");
        long pages = 0, rss = 0;
        if (f) {
                if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
                        rss = 0;
                fclose(f);
        }
        return rss * sysconf(_SC_PAGESIZE);
}

static int cmd_stats(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                     const char **error, int *fd_out)
{
        (void)req, (void)error, (void)fd_out;
        struct vm *vm = opaque;
        struct control *ctl = c->ctl;
        for (unsigned i = 0; i < ctl->nstats; i++)
                ctl->stats[i].fn(ctl->stats[i].opaque, reply);
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        json_object_object_add(reply, "cpu_ns",
                               json_object_new_int64((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
        json_object_object_add(reply, "rss", json_object_new_int64(rss_bytes()));
        json_object_object_add(reply, "mem", json_object_new_int64((int64_t)vm->mem.ram_size));
        json_object *ex = json_object_new_object();
        json_object_object_add(ex, "total", json_object_new_int64((int64_t)vm->stats.exits_total));
        json_object_object_add(ex, "pio", json_object_new_int64((int64_t)vm->stats.exits_pio));
        json_object_object_add(ex, "mmio", json_object_new_int64((int64_t)vm->stats.exits_mmio));
        json_object_object_add(ex, "hypercall",
                               json_object_new_int64((int64_t)vm->stats.exits_hypercall));
        json_object_object_add(ex, "other", json_object_new_int64((int64_t)vm->stats.exits_other));
        if (vm->count_insns)
                json_object_object_add(reply, "guest_instructions",
                                       json_object_new_int64((int64_t)vm->stats.guest_insns));
        json_object_object_add(reply, "exits", ex);
        json_object_object_add(reply, "irqs_injected",
                               json_object_new_int64((int64_t)vm->stats.irqs_injected));
        if (!json_object_object_get_ex(reply, "disk", NULL))
                json_object_object_add(reply, "disk", json_object_new_array());
        if (!json_object_object_get_ex(reply, "net", NULL))
                json_object_object_add(reply, "net", json_object_new_array());
        return 0;
}

static int cmd_shutdown(void *opaque, struct control_client *c, json_object *req,
                        json_object *reply, const char **error, int *fd_out)
{
        (void)c, (void)req, (void)fd_out, (void)reply;
        struct vm *vm = opaque;
        if (!vm->guest_shutdown_fn) {
                *error = "this guest has no clean shutdown channel";
                return -1;
        }
        vm->guest_shutdown_fn(vm->guest_shutdown_opaque);
        return 0;
}

static int cmd_quit(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                    const char **error, int *fd_out)
{
        (void)c, (void)req, (void)fd_out, (void)reply, (void)error;
        vm_request_exit(opaque, VM_EXIT_ERROR, "destroyed by the control socket");
        return 0;
}

static int cmd_subscribe(void *opaque, struct control_client *c, json_object *req,
                         json_object *reply, const char **error, int *fd_out)
{
        (void)opaque, (void)fd_out, (void)reply;
        json_object *topics;
        if (!json_object_object_get_ex(req, "topics", &topics) ||
            !json_object_is_type(topics, json_type_array)) {
                *error = "subscribe needs \"topics\": an array of strings";
                return -1;
        }
        size_t n = json_object_array_length(topics);
        for (size_t i = 0; i < n; i++) {
                json_object *t = json_object_array_get_idx(topics, i);
                if (!json_object_is_type(t, json_type_string) ||
                    json_object_get_string_len(t) >= (int)sizeof(c->topics[0])) {
                        *error = "topics must be short strings";
                        return -1;
                }
                if (c->ntopics < CONTROL_MAX_TOPICS)
                        snprintf(c->topics[c->ntopics++], sizeof(c->topics[0]), "%s",
                                 json_object_get_string(t));
        }
        return 0;
}

static void handle_line(struct control_client *c, const char *line)
{
        struct control *ctl = c->ctl;
        json_object *reply = json_object_new_object();
        json_object *req = json_tokener_parse(line);
        json_object *id = NULL, *cmd = NULL;
        const char *error = NULL;
        int fd_out = -1;
        if (!req || !json_object_is_type(req, json_type_object)) {
                error = "malformed request: expected one JSON object per line";
        } else {
                if (json_object_object_get_ex(req, "id", &id))
                        json_object_object_add(reply, "id", json_object_get(id));
                if (!json_object_object_get_ex(req, "cmd", &cmd) ||
                    !json_object_is_type(cmd, json_type_string)) {
                        error = "request has no \"cmd\" string";
                } else {
                        const char *name = json_object_get_string(cmd);
                        const struct control_cmd *found = NULL;
                        for (unsigned i = 0; i < ctl->ncmds; i++)
                                if (strcmp(ctl->cmd[i].name, name) == 0)
                                        found = &ctl->cmd[i];
                        if (!found)
                                error = "unknown command";
                        else if (found->fn(found->opaque, c, req, reply, &error, &fd_out) < 0 &&
                                 !error)
                                error = "command failed";
                }
        }
        json_object_object_add(reply, "ok", json_object_new_boolean(error == NULL));
        if (error)
                json_object_object_add(reply, "error", json_object_new_string(error));
        send_json(c->fd, reply, fd_out);
        json_object_put(reply);
        if (req)
                json_object_put(req);
}

static void client_readable(void *opaque, uint32_t events)
{
        struct control_client *c = opaque;
        if (events & (EPOLLERR | EPOLLHUP)) {
                client_close(c);
                return;
        }
        ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (n <= 0) {
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                client_close(c);
                return;
        }
        c->len += (size_t)n;
        c->buf[c->len] = 0;
        char *start = c->buf, *nl;
        while ((nl = memchr(start, '\n', c->len - (size_t)(start - c->buf)))) {
                *nl = 0;
                if (nl > start)
                        handle_line(c, start);
                start = nl + 1;
        }
        size_t rest = c->len - (size_t)(start - c->buf);
        if (rest == sizeof(c->buf) - 1) {
                json_object *r = json_object_new_object();
                json_object_object_add(r, "ok", json_object_new_boolean(0));
                json_object_object_add(r, "error",
                                       json_object_new_string("request line exceeds 64 KiB"));
                send_json(c->fd, r, -1);
                json_object_put(r);
                client_close(c);
                return;
        }
        memmove(c->buf, start, rest);
        c->len = rest;
}

static void accept_ready(void *opaque, uint32_t events)
{
        (void)events;
        struct control *ctl = opaque;
        int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        unsigned slot = CONTROL_MAX_CLIENTS;
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
                if (!ctl->client[i]) {
                        slot = i;
                        break;
                }
        struct control_client *c = slot < CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
        if (!c) {
                close(fd);
                return;
        }
        c->ctl = ctl;
        c->fd = fd;
        if (evloop_add(ctl->vm->loop, fd, EPOLLIN, client_readable, c) < 0) {
                close(fd);
                free(c);
                return;
        }
        ctl->client[slot] = c;
}

struct control *control_open(struct vm *vm, const char *path, char *err, size_t errlen)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
                snprintf(err, errlen, "control socket path is too long: %s", path);
                return NULL;
        }
        struct control *ctl = calloc(1, sizeof(*ctl));
        if (!ctl) {
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        ctl->vm = vm;
        snprintf(ctl->path, sizeof(ctl->path), "%s", path);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        unlink(path);
        if (ctl->listen_fd < 0 || bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            listen(ctl->listen_fd, 16) < 0) {
                snprintf(err, errlen, "cannot listen on control socket %s: %s", path,
                         strerror(errno));
                if (ctl->listen_fd >= 0)
                        close(ctl->listen_fd);
                free(ctl);
                return NULL;
        }
        evloop_add(vm->loop, ctl->listen_fd, EPOLLIN, accept_ready, ctl);
        control_register(ctl, "status", cmd_status, vm);
        control_register(ctl, "pause", cmd_pause, vm);
        control_register(ctl, "resume", cmd_resume, vm);
        control_register(ctl, "stats", cmd_stats, vm);
        control_register(ctl, "shutdown", cmd_shutdown, vm);
        control_register(ctl, "quit", cmd_quit, vm);
        control_register(ctl, "subscribe", cmd_subscribe, vm);
        return ctl;
}

void control_close(struct control *ctl)
{
        if (!ctl)
                return;
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
                if (ctl->client[i])
                        client_close(ctl->client[i]);
        evloop_del(ctl->vm->loop, ctl->listen_fd);
        close(ctl->listen_fd);
        unlink(ctl->path);
        free(ctl);
}

int control_register(struct control *ctl, const char *cmd, control_cmd_fn fn, void *opaque)
{
        if (!ctl)
                return -EINVAL;
        /* A later registration of the same name replaces the earlier one. */
        for (unsigned i = 0; i < ctl->ncmds; i++)
                if (strcmp(ctl->cmd[i].name, cmd) == 0) {
                        ctl->cmd[i].fn = fn;
                        ctl->cmd[i].opaque = opaque;
                        return 0;
                }
        if (ctl->ncmds == CONTROL_MAX_CMDS)
                return -ENOSPC;
        ctl->cmd[ctl->ncmds++] = (struct control_cmd){cmd, fn, opaque};
        return 0;
}

int control_add_stats(struct control *ctl, control_stats_fn fn, void *opaque)
{
        if (!ctl || ctl->nstats == sizeof(ctl->stats) / sizeof(ctl->stats[0]))
                return -ENOSPC;
        ctl->stats[ctl->nstats].fn = fn;
        ctl->stats[ctl->nstats].opaque = opaque;
        ctl->nstats++;
        return 0;
}

void control_broadcast(struct control *ctl, const char *topic, json_object *event)
{
        if (!ctl)
                return;
        json_object_object_add(event, "event", json_object_new_string(topic));
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++) {
                struct control_client *c = ctl->client[i];
                if (!c)
                        continue;
                for (unsigned t = 0; t < c->ntopics; t++)
                        if (strcmp(c->topics[t], topic) == 0) {
                                send_json(c->fd, event, -1);
                                break;
                        }
        }
}
