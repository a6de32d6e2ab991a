#include "vmmview.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE    (256 * 1024)
#define MAX_QUEUED   64
#define MAX_MAP_SIZE (512u << 20)

struct vmmview {
        int sock;
        char *rbuf;
        size_t rlen;
        int received_fd; /* last fd that came with a message, -1 if none */
        int next_id;
        int memfd;
        const uint8_t *map;
        size_t map_size;
        /* frame rectangles seen while waiting for a reply */
        struct vmmview_rect queued[MAX_QUEUED];
        unsigned nqueued;
        bool queue_overflow;
};

int vmmview_validate(const struct tandem_display_header *h, size_t map_size, char *err,
                     size_t errlen)
{
        if (h->magic != TANDEM_DISPLAY_MAGIC || h->version != TANDEM_DISPLAY_VERSION) {
                snprintf(err, errlen, "display header: bad magic or version");
                return -1;
        }
        unsigned bpp;
        if (h->kind == TANDEM_DISPLAY_TEXT)
                bpp = 2;
        else if (h->kind == TANDEM_DISPLAY_FRAMEBUFFER)
                bpp = 4;
        else {
                snprintf(err, errlen, "display header: unknown kind %u", h->kind);
                return -1;
        }
        if (h->data_offset < TANDEM_DISPLAY_HEADER_SIZE || h->data_offset > map_size ||
            h->data_size > map_size - h->data_offset) {
                snprintf(err, errlen, "display header: data area outside the shared memory");
                return -1;
        }
        if (h->width == 0 || h->height == 0 || h->width > 16384 || h->height > 16384) {
                snprintf(err, errlen, "display header: geometry %ux%u out of range", h->width,
                         h->height);
                return -1;
        }
        if ((uint64_t)h->width * bpp > h->stride ||
            (uint64_t)h->stride * h->height > h->data_size) {
                snprintf(err, errlen, "display header: %ux%u stride %u exceeds the data area",
                         h->width, h->height, h->stride);
                return -1;
        }
        return 0;
}

static int sock_connect(const char *path, char *err, size_t errlen)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
                snprintf(err, errlen, "%s: socket path too long", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                snprintf(err, errlen, "%s: cannot connect: %s", path, strerror(errno));
                if (s >= 0)
                        close(s);
                return -1;
        }
        return s;
}

static int send_json(struct vmmview *v, json_object *o)
{
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        char *line = malloc(len + 1);
        if (!line)
                return -1;
        memcpy(line, s, len);
        line[len] = '\n';
        size_t off = 0;
        while (off < len + 1) {
                ssize_t n = send(v->sock, line + off, len + 1 - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        free(line);
                        return -1;
                }
                off += (size_t)n;
        }
        free(line);
        return 0;
}

/* Reads whatever is available (after waiting up to timeout_ms); keeps any
 * passed fd. Returns bytes read, 0 on timeout, -1 on EOF/error. */
static int fill(struct vmmview *v, int timeout_ms)
{
        struct pollfd p = {.fd = v->sock, .events = POLLIN};
        int pr = poll(&p, 1, timeout_ms);
        if (pr == 0)
                return 0;
        if (pr < 0)
                return errno == EINTR ? 0 : -1;
        if (v->rlen >= RBUF_SIZE)
                return -1; /* a line longer than anything the VMM should send */
        char cbuf[CMSG_SPACE(sizeof(int) * 4)];
        struct iovec iov = {v->rbuf + v->rlen, RBUF_SIZE - v->rlen};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
        ssize_t n = recvmsg(v->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0)
                return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        if (n == 0)
                return -1;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int fds[4];
                memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
                for (size_t i = 0; i < nfds; i++) {
                        if (v->received_fd >= 0)
                                close(v->received_fd);
                        v->received_fd = fds[i];
                }
        }
        v->rlen += (size_t)n;
        return (int)n;
}

/* Takes one complete line out of the buffer as JSON, or returns NULL. */
static json_object *next_message(struct vmmview *v, bool *bad)
{
        *bad = false;
        char *nl = memchr(v->rbuf, '\n', v->rlen);
        if (!nl)
                return NULL;
        size_t len = (size_t)(nl - v->rbuf);
        json_tokener *tok = json_tokener_new();
        json_object *o = tok ? json_tokener_parse_ex(tok, v->rbuf, (int)len) : NULL;
        if (tok && json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        memmove(v->rbuf, nl + 1, v->rlen - len - 1);
        v->rlen -= len + 1;
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                *bad = true;
                return NULL;
        }
        return o;
}

static bool rect_from_event(json_object *ev, struct vmmview_rect *r)
{
        json_object *name;
        if (!json_object_object_get_ex(ev, "event", &name) ||
            strcmp(json_object_get_string(name), "frame") != 0)
                return false;
        const char *keys[4] = {"x", "y", "w", "h"};
        uint32_t *dst[4] = {&r->x, &r->y, &r->w, &r->h};
        for (int i = 0; i < 4; i++) {
                json_object *o;
                if (!json_object_object_get_ex(ev, keys[i], &o))
                        return false;
                int64_t val = json_object_get_int64(o);
                *dst[i] = val < 0 ? 0 : val > UINT32_MAX ? UINT32_MAX : (uint32_t)val;
        }
        return true;
}

static void queue_rect(struct vmmview *v, const struct vmmview_rect *r)
{
        if (v->nqueued < MAX_QUEUED)
                v->queued[v->nqueued++] = *r;
        else
                v->queue_overflow = true;
}

static json_object *parse_json_frag(const char *s)
{
        return json_tokener_parse(s);
}

int vmmview_call(struct vmmview *v, json_object *req, int timeout_ms, json_object **reply,
                 char *err, size_t errlen)
{
        *reply = NULL;
        int id = ++v->next_id;
        json_object_object_add(req, "id", json_object_new_int(id));
        if (send_json(v, req) < 0) {
                snprintf(err, errlen, "VMM control socket closed");
                return -1;
        }
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                bool bad;
                json_object *m;
                while ((m = next_message(v, &bad)) || bad) {
                        if (!m)
                                continue;
                        json_object *mid;
                        struct vmmview_rect r;
                        if (json_object_object_get_ex(m, "id", &mid) &&
                            json_object_get_int(mid) == id) {
                                json_object *ok;
                                if (json_object_object_get_ex(m, "ok", &ok) &&
                                    json_object_get_boolean(ok)) {
                                        *reply = m;
                                        return 0;
                                }
                                json_object *e;
                                snprintf(err, errlen, "%s",
                                         json_object_object_get_ex(m, "error", &e)
                                             ? json_object_get_string(e)
                                             : "VMM refused the command");
                                json_object_put(m);
                                return -1;
                        }
                        if (rect_from_event(m, &r))
                                queue_rect(v, &r);
                        json_object_put(m);
                }
                struct timespec t1;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                long spent = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
                if (timeout_ms >= 0 && spent >= timeout_ms) {
                        snprintf(err, errlen, "VMM did not answer within %d ms", timeout_ms);
                        return -1;
                }
                if (fill(v, timeout_ms < 0 ? -1 : (int)(timeout_ms - spent)) < 0) {
                        snprintf(err, errlen, "VMM control socket closed");
                        return -1;
                }
        }
}

static int attach(struct vmmview *v, char *err, size_t errlen)
{
        json_object *reply;
        json_object *req = parse_json_frag("{\"cmd\":\"display-attach\"}");
        int rc = vmmview_call(v, req, 5000, &reply, err, errlen);
        json_object_put(req);
        if (rc < 0)
                return -1;
        json_object_put(reply);
        if (v->received_fd < 0) {
                snprintf(err, errlen, "display-attach: no shared memory fd came with the reply");
                return -1;
        }
        v->memfd = v->received_fd;
        v->received_fd = -1;
        struct stat st;
        int seals = fcntl(v->memfd, F_GET_SEALS);
        /* unsealed memory could shrink under our mapping and SIGBUS the viewer */
        if (fstat(v->memfd, &st) < 0 || seals < 0 || !(seals & F_SEAL_SHRINK)) {
                snprintf(err, errlen, "display memory is not sealed against shrinking");
                return -1;
        }
        if (st.st_size < (off_t)TANDEM_DISPLAY_HEADER_SIZE || st.st_size > (off_t)MAX_MAP_SIZE) {
                snprintf(err, errlen, "display memory size %lld out of range",
                         (long long)st.st_size);
                return -1;
        }
        v->map_size = (size_t)st.st_size;
        void *m = mmap(NULL, v->map_size, PROT_READ, MAP_SHARED, v->memfd, 0);
        if (m == MAP_FAILED) {
                snprintf(err, errlen, "cannot map display memory: %s", strerror(errno));
                return -1;
        }
        v->map = m;
        struct vmmview_geom g;
        if (vmmview_geometry(v, &g, err, errlen) < 0)
                return -1;
        req = parse_json_frag("{\"cmd\":\"subscribe\",\"topics\":[\"frame\"]}");
        rc = vmmview_call(v, req, 5000, &reply, err, errlen);
        json_object_put(req);
        if (rc < 0)
                return -1;
        json_object_put(reply);
        return 0;
}

struct vmmview *vmmview_open_fd(int sock, char *err, size_t errlen)
{
        struct vmmview *v = calloc(1, sizeof(*v));
        if (!v || !(v->rbuf = malloc(RBUF_SIZE))) {
                free(v);
                close(sock);
                snprintf(err, errlen, "out of memory");
                return NULL;
        }
        v->received_fd = -1;
        v->memfd = -1;
        v->sock = sock;
        if (attach(v, err, errlen) < 0) {
                vmmview_close(v);
                return NULL;
        }
        return v;
}

struct vmmview *vmmview_open(const char *control_path, char *err, size_t errlen)
{
        int sock = sock_connect(control_path, err, errlen);
        return sock < 0 ? NULL : vmmview_open_fd(sock, err, errlen);
}

void vmmview_close(struct vmmview *v)
{
        if (!v)
                return;
        if (v->map)
                munmap((void *)v->map, v->map_size);
        if (v->memfd >= 0)
                close(v->memfd);
        if (v->received_fd >= 0)
                close(v->received_fd);
        if (v->sock >= 0)
                close(v->sock);
        free(v->rbuf);
        free(v);
}

int vmmview_fd(const struct vmmview *v)
{
        return v->sock;
}

int vmmview_geometry(struct vmmview *v, struct vmmview_geom *g, char *err, size_t errlen)
{
        struct tandem_display_header h;
        /* one copy: a hostile writer cannot change what we validated */
        memcpy(&h, v->map, sizeof(h));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (vmmview_validate(&h, v->map_size, err, errlen) < 0)
                return -1;
        *g = (struct vmmview_geom){
            .kind = h.kind,
            .width = h.width,
            .height = h.height,
            .stride = h.stride,
            .state = h.state,
            .cursor_x = h.cursor_x,
            .cursor_y = h.cursor_y,
            .cursor_visible = h.cursor_visible && h.cursor_x < h.width && h.cursor_y < h.height,
            .seq = h.seq,
            .data = v->map + h.data_offset,
        };
        return 0;
}

int vmmview_drain(struct vmmview *v, void (*on_frame)(void *opaque, const struct vmmview_rect *r),
                  void *opaque)
{
        int rc = 0;
        for (;;) {
                int n = fill(v, 0);
                if (n < 0) {
                        rc = -1;
                        break;
                }
                if (n == 0)
                        break;
        }
        if (v->queue_overflow) {
                struct vmmview_rect all = {0, 0, UINT32_MAX, UINT32_MAX};
                if (on_frame)
                        on_frame(opaque, &all);
        } else if (on_frame) {
                for (unsigned i = 0; i < v->nqueued; i++)
                        on_frame(opaque, &v->queued[i]);
        }
        v->nqueued = 0;
        v->queue_overflow = false;
        bool bad;
        json_object *m;
        while ((m = next_message(v, &bad)) || bad) {
                struct vmmview_rect r;
                if (m && on_frame && rect_from_event(m, &r))
                        on_frame(opaque, &r);
                json_object_put(m);
        }
        return rc;
}

int vmmview_keepalive(struct vmmview *v)
{
        json_object *req = parse_json_frag("{\"cmd\":\"display-keepalive\"}");
        json_object_object_add(req, "id", json_object_new_int(++v->next_id));
        int rc = send_json(v, req);
        json_object_put(req);
        return rc;
}

int vmmview_send_key(struct vmmview *v, uint32_t evdev_code, bool down)
{
        json_object *req = json_object_new_object();
        json_object_object_add(req, "id", json_object_new_int(++v->next_id));
        json_object_object_add(req, "cmd", json_object_new_string("key"));
        json_object_object_add(req, "code", json_object_new_int64(evdev_code));
        json_object_object_add(req, "down", json_object_new_boolean(down));
        int rc = send_json(v, req);
        json_object_put(req);
        return rc;
}
