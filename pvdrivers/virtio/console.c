/* virtio-console (virtio 1.2 §5.3), port 0 only (no MULTIPORT): queue 0 is
 * the guest's receive queue, queue 1 its transmit queue. Host input is read
 * from in_fd on the event loop into a small buffer, then copied into whatever
 * receive buffers the driver has posted; while none are posted the fd is not
 * polled, so a fast producer cannot make the loop spin. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices.h"
#include "virtio_core.h"

#define VIRTIO_ID_CONSOLE            3
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define CONSOLE_RXQ           0
#define CONSOLE_TXQ           1
#define CONSOLE_QUEUE_SIZE    128
#define CONSOLE_INBUF         4096
#define CONSOLE_WRITE_WAIT_MS 100

struct console_config {
        uint16_t cols;
        uint16_t rows;
        uint32_t max_nr_ports;
        uint32_t emerg_wr;
} __attribute__((packed));

struct virtio_console {
        struct virtio_device_priv head;
        struct virtio_device vdev;
        struct evloop *loop;
        int in_fd, out_fd;
        bool in_registered; /* in_fd is in the event loop */
        bool in_polling;    /* ... with EPOLLIN armed */
        uint8_t inbuf[CONSOLE_INBUF];
        size_t in_len, in_off;
        uint64_t out_dropped;
        struct virtq_chain chain;
};

static struct virtio_console *to_con(struct virtio_device *vdev)
{
        return vdev->priv;
}

static void set_polling(struct virtio_console *c, bool on)
{
        if (!c->in_registered || c->in_polling == on)
                return;
        if (evloop_mod(c->loop, c->in_fd, on ? EPOLLIN : 0) == 0)
                c->in_polling = on;
}

/* Writes everything or drops what a stalled out_fd will not take: a guest must
 * not be able to wedge the device lock on a full pipe. */
static void write_out(struct virtio_console *c, const struct iovec *iov, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                const uint8_t *p = iov[i].iov_base;
                size_t left = iov[i].iov_len;
                while (left > 0) {
                        ssize_t w = write(c->out_fd, p, left);
                        if (w > 0) {
                                p += w;
                                left -= (size_t)w;
                                continue;
                        }
                        if (w < 0 && errno == EINTR)
                                continue;
                        struct pollfd pfd = {.fd = c->out_fd, .events = POLLOUT};
                        if (w < 0 && errno == EAGAIN && poll(&pfd, 1, CONSOLE_WRITE_WAIT_MS) == 1)
                                continue;
                        c->out_dropped += left;
                        break;
                }
        }
}

static uint32_t console_tx(struct virtio_device *vdev, unsigned q, struct virtq_chain *chain)
{
        (void)q;
        write_out(to_con(vdev), chain->iov, chain->nout);
        return 0;
}

/* Moves buffered input into posted receive buffers. */
static void deliver_input(struct virtio_console *c)
{
        struct virtio_device *vdev = &c->vdev;
        struct virtqueue *vq = &vdev->vq[CONSOLE_RXQ];
        while (c->in_len > c->in_off && virtio_device_live(vdev) && vq->ready) {
                enum virtq_pop_result r = virtq_pop(vq, vdev->mem, &c->chain);
                if (r == VIRTQ_BROKEN) {
                        char why[128];
                        snprintf(why, sizeof(why), "queue 0: %s", virtq_broken_reason());
                        virtio_needs_reset(vdev, why);
                        break;
                }
                if (r == VIRTQ_EMPTY) {
                        /* ask for a kick when buffers arrive, then look once more */
                        virtq_set_notification(vq, vdev->mem, true);
                        if (!virtq_has_work(vq, vdev->mem))
                                break;
                        continue;
                }
                size_t n = iov_copy_to(c->chain.iov + c->chain.nout, c->chain.nin, 0,
                                       c->inbuf + c->in_off, c->in_len - c->in_off);
                c->in_off += n;
                virtio_complete(vdev, CONSOLE_RXQ, c->chain.head, (uint32_t)n);
        }
        if (c->in_off == c->in_len)
                c->in_off = c->in_len = 0;
        set_polling(c, c->in_len == 0);
}

static void console_input_ready(void *opaque, uint32_t events)
{
        struct virtio_console *c = opaque;
        if (c->in_len == 0) {
                ssize_t n = read(c->in_fd, c->inbuf, sizeof(c->inbuf));
                if (n > 0) {
                        c->in_len = (size_t)n;
                        c->in_off = 0;
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR) ||
                           (events & (EPOLLHUP | EPOLLERR))) {
                        /* input closed: stop watching it for good */
                        evloop_del(c->loop, c->in_fd);
                        c->in_registered = c->in_polling = false;
                        return;
                }
        }
        deliver_input(c);
}

static void console_queue_notify(struct virtio_device *vdev, unsigned q)
{
        struct virtio_console *c = to_con(vdev);
        if (q == CONSOLE_TXQ)
                virtio_queue_process(vdev, q, &c->chain, console_tx);
        else
                deliver_input(c);
}

static void console_config_read(struct virtio_device *vdev, uint32_t off, void *data, unsigned len)
{
        (void)vdev;
        struct console_config cfg = {.max_nr_ports = 1};
        memcpy(data, (const uint8_t *)&cfg + off, len);
}

static void console_config_write(struct virtio_device *vdev, uint32_t off, const void *data,
                                 unsigned len)
{
        /* emerg_wr: the low byte of the written word is one output character */
        if (off != offsetof(struct console_config, emerg_wr))
                return;
        struct iovec iov = {.iov_base = (void *)data, .iov_len = len ? 1 : 0};
        write_out(to_con(vdev), &iov, 1);
}

static int console_activate(struct virtio_device *vdev)
{
        deliver_input(to_con(vdev));
        return 0;
}

static const struct virtio_dev_ops console_ops = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .features = (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE) | (1ull << VIRTIO_F_INDIRECT_DESC),
    .num_queues = 2,
    .queue_max_size = CONSOLE_QUEUE_SIZE,
    .config_size = sizeof(struct console_config),
    .config_read = console_config_read,
    .config_write = console_config_write,
    .queue_notify = console_queue_notify,
    .activate = console_activate,
};

static void console_destroy(struct virtio_device *vdev)
{
        struct virtio_console *c = to_con(vdev);
        if (c->in_registered)
                evloop_del(c->loop, c->in_fd);
        free(c);
}

struct virtio_device *virtio_console_create(const struct guest_mem *mem, struct evloop *loop,
                                            int in_fd, int out_fd, char *err, size_t errlen)
{
        if (out_fd < 0) {
                snprintf(err, errlen, "virtio-console needs an output file descriptor");
                return NULL;
        }
        if (in_fd >= 0 && !loop) {
                snprintf(err, errlen, "virtio-console input needs an event loop");
                return NULL;
        }
        struct virtio_console *c = calloc(1, sizeof(*c));
        if (!c) {
                snprintf(err, errlen, "out of memory creating virtio-console");
                return NULL;
        }
        c->head.destroy = console_destroy;
        c->loop = loop;
        c->in_fd = in_fd;
        c->out_fd = out_fd;
        virtio_device_init(&c->vdev, &console_ops, c, mem);
        if (in_fd >= 0) {
                int rc = evloop_add(loop, in_fd, EPOLLIN, console_input_ready, c);
                if (rc < 0) {
                        snprintf(err, errlen, "virtio-console cannot watch input fd %d: %s", in_fd,
                                 strerror(-rc));
                        free(c);
                        return NULL;
                }
                c->in_registered = c->in_polling = true;
        }
        return &c->vdev;
}
