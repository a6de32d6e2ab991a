/* virtio-net device (virtio 1.2 §5.1). Transmit is synchronous on the kick;
 * receive runs on the event loop while the backend fd is readable and the
 * driver has posted buffers. A frame that finds too few buffers waits in the
 * device (the fd is then not polled) until the driver adds more. */
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio_core.h"

#define NET_QUEUE_SIZE 256
#define NET_HDR_LEN    ((uint32_t)sizeof(struct virtio_net_hdr))
#define NET_BUF_SIZE   (NET_HDR_LEN + VIRTIO_NET_MAX_GSO_FRAME)
#define ETH_HDR_LEN    14
/* Frames moved per event-loop wakeup, so transmit kicks are not starved. */
#define NET_RX_BATCH 64

struct virtio_net {
        struct virtio_device_priv head;
        struct virtio_device vdev;
        struct evloop *loop;
        struct net_backend *be;
        struct virtio_net_config cfg;
        bool registered, polling;
        /* a received frame (header included) waiting for buffers */
        bool rx_pending;
        uint32_t rx_len;
        uint16_t rx_heads[NET_QUEUE_SIZE];
        uint32_t rx_lens[NET_QUEUE_SIZE];
        struct virtio_net_stats st;
        struct virtq_chain chain;
        uint8_t rxbuf[NET_BUF_SIZE];
        uint8_t txbuf[NET_BUF_SIZE];
};

static struct virtio_net *to_net(struct virtio_device *vdev)
{
        return vdev->priv;
}

static bool has(const struct virtio_net *n, unsigned bit)
{
        return virtio_has_feature(&n->vdev, bit);
}

static void set_polling(struct virtio_net *n, bool on)
{
        if (!n->registered || n->polling == on)
                return;
        if (evloop_mod(n->loop, n->be->fd, on ? EPOLLIN : 0) == 0)
                n->polling = on;
}

/* ---- transmit ---- */

static uint16_t csum_fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

/* Completes a partial checksum (NEEDS_CSUM) for a backend without a header:
 * the guest summed the pseudo-header, we add everything from csum_start. */
static void finish_csum(uint8_t *frame, uint32_t len, uint16_t start, uint16_t off)
{
        uint32_t sum = 0;
        for (uint32_t i = start; i + 1 < len; i += 2)
                sum += (uint32_t)frame[i] << 8 | frame[i + 1];
        if ((len - start) & 1)
                sum += (uint32_t)frame[len - 1] << 8;
        uint16_t c = csum_fold(sum);
        frame[start + off] = (uint8_t)(c >> 8);
        frame[start + off + 1] = (uint8_t)c;
}

/* Checks the guest's header against what was negotiated; returns NULL or why not. */
static const char *tx_hdr_problem(const struct virtio_net *n, const struct virtio_net_hdr *h,
                                  uint32_t frame_len)
{
        if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                if (!has(n, VIRTIO_NET_F_CSUM))
                        return "checksum offload not negotiated";
                if ((uint32_t)h->csum_start + h->csum_offset + 2 > frame_len)
                        return "checksum position outside the frame";
        }
        uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
        if (gso == VIRTIO_NET_HDR_GSO_NONE)
                return (h->gso_type & VIRTIO_NET_HDR_GSO_ECN) ? "ECN without GSO" : NULL;
        if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(n, VIRTIO_NET_F_HOST_ECN))
                return "ECN segmentation not negotiated";
        if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !has(n, VIRTIO_NET_F_HOST_TSO4)) ||
            (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !has(n, VIRTIO_NET_F_HOST_TSO6)) ||
            (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6))
                return "segmentation type not negotiated";
        if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h->gso_size == 0)
                return "segmentation without a partial checksum or segment size";
        return NULL;
}

static uint32_t net_tx(struct virtio_device *vdev, unsigned q, struct virtq_chain *c)
{
        (void)q;
        struct virtio_net *n = to_net(vdev);
        struct virtio_net_hdr h;
        if (c->out_bytes < NET_HDR_LEN + ETH_HDR_LEN) {
                n->st.tx_errors++;
                return 0;
        }
        uint32_t len = (uint32_t)(c->out_bytes - NET_HDR_LEN);
        bool gso_ok = has(n, VIRTIO_NET_F_HOST_TSO4) || has(n, VIRTIO_NET_F_HOST_TSO6);
        if (len > (gso_ok ? VIRTIO_NET_MAX_GSO_FRAME : VIRTIO_NET_MAX_FRAME)) {
                n->st.tx_oversized++;
                return 0;
        }
        iov_copy_from(c->iov, c->nout, 0, &h, NET_HDR_LEN);
        if (tx_hdr_problem(n, &h, len)) {
                n->st.tx_errors++;
                return 0;
        }
        ssize_t w;
        if (n->be->vnet_hdr) {
                h.num_buffers = 0;
                struct iovec iov[VIRTQ_MAX_CHAIN + 1];
                iov[0] = (struct iovec){.iov_base = &h, .iov_len = NET_HDR_LEN};
                unsigned k = iov_slice(c->iov, c->nout, NET_HDR_LEN, len, iov + 1);
                w = writev(n->be->fd, iov, k + 1);
        } else {
                if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) { /* never offered without a header */
                        n->st.tx_errors++;
                        return 0;
                }
                iov_copy_from(c->iov, c->nout, NET_HDR_LEN, n->txbuf, len);
                if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
                        finish_csum(n->txbuf, len, h.csum_start, h.csum_offset);
                w = send(n->be->fd, n->txbuf, len, MSG_DONTWAIT);
        }
        if (w < 0) {
                n->st.tx_dropped++; /* a full host queue drops, like a busy wire */
                return 0;
        }
        n->st.tx_packets++;
        n->st.tx_bytes += len;
        return 0;
}

/* ---- receive ---- */

enum rx_result { RX_DONE, RX_NO_BUFFERS, RX_BROKEN, RX_USED_GONE };

/* Places the pending frame into one chain (or, with MRG_RXBUF, as many as
 * it takes) and publishes them. Nothing is consumed unless it all fits. */
static enum rx_result rx_place(struct virtio_net *n)
{
        struct virtio_device *vdev = &n->vdev;
        struct virtqueue *vq = &vdev->vq[VIRTIO_NET_RXQ];
        bool mrg = has(n, VIRTIO_NET_F_MRG_RXBUF);
        uint16_t start = vq->last_avail;
        struct iovec hdr_iov[NET_HDR_LEN];
        unsigned hdr_n = 0, used = 0;
        uint32_t off = 0;
        while (off < n->rx_len) {
                enum virtq_pop_result r = virtq_pop(vq, vdev->mem, &n->chain);
                if (r == VIRTQ_BROKEN)
                        return RX_BROKEN;
                if (r == VIRTQ_EMPTY || used == NET_QUEUE_SIZE) {
                        vq->last_avail = start; /* the entries are still the driver's */
                        return RX_NO_BUFFERS;
                }
                struct iovec *in = n->chain.iov + n->chain.nout;
                uint64_t room = n->chain.in_bytes;
                if (used == 0 && room < NET_HDR_LEN) {
                        /* not even a header fits: the buffer is returned empty */
                        n->rx_heads[used] = n->chain.head;
                        n->rx_lens[used++] = 0;
                        n->st.rx_dropped++;
                        goto publish;
                }
                if (!mrg && room < n->rx_len) {
                        n->rx_heads[used] = n->chain.head;
                        n->rx_lens[used++] = 0;
                        n->st.rx_dropped++; /* the driver posted too small a buffer */
                        goto publish;
                }
                if (used == 0)
                        hdr_n = iov_slice(in, n->chain.nin, 0, NET_HDR_LEN, hdr_iov);
                size_t k = iov_copy_to(in, n->chain.nin, 0, n->rxbuf + off, n->rx_len - off);
                n->rx_heads[used] = n->chain.head;
                n->rx_lens[used++] = (uint32_t)k;
                off += (uint32_t)k;
        }
        uint16_t nb = (uint16_t)used;
        iov_copy_to(hdr_iov, hdr_n, offsetof(struct virtio_net_hdr, num_buffers), &nb, 2);
        n->st.rx_packets++;
        n->st.rx_bytes += n->rx_len - NET_HDR_LEN;
publish:
        for (unsigned i = 0; i < used; i++)
                if (virtq_push(vq, vdev->mem, n->rx_heads[i], n->rx_lens[i]) < 0) {
                        vq->ready = false;
                        return RX_USED_GONE;
                }
        return RX_DONE;
}

/* Reads the next frame from the backend into rxbuf; false when none. */
static bool rx_read(struct virtio_net *n)
{
        for (;;) {
                uint32_t at = n->be->vnet_hdr ? 0 : NET_HDR_LEN;
                ssize_t r = read(n->be->fd, n->rxbuf + at, sizeof(n->rxbuf) - at);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return false;
                if (!n->be->vnet_hdr)
                        memset(n->rxbuf, 0, NET_HDR_LEN);
                n->rx_len = (uint32_t)r + at;
                if (n->rx_len < NET_HDR_LEN + ETH_HDR_LEN)
                        continue; /* a runt from the host side */
                struct virtio_net_hdr *h = (struct virtio_net_hdr *)n->rxbuf;
                h->num_buffers = 0;
                return true;
        }
}

static void rx_run(struct virtio_net *n)
{
        struct virtio_device *vdev = &n->vdev;
        struct virtqueue *vq = &vdev->vq[VIRTIO_NET_RXQ];
        bool pushed = false;
        for (unsigned i = 0; i < NET_RX_BATCH && virtio_device_live(vdev) && vq->ready; i++) {
                if (!n->rx_pending && !(n->rx_pending = rx_read(n)))
                        break;
                enum rx_result r = rx_place(n);
                if (r == RX_BROKEN || r == RX_USED_GONE) {
                        char why[128];
                        snprintf(why, sizeof(why), "queue 0: %s",
                                 r == RX_BROKEN ? virtq_broken_reason()
                                                : "used ring left guest RAM");
                        virtio_needs_reset(vdev, why);
                        break;
                }
                if (r == RX_NO_BUFFERS) {
                        /* ask for a kick when buffers arrive, then look once more */
                        virtq_set_notification(vq, vdev->mem, true);
                        if (virtq_has_work(vq, vdev->mem))
                                continue;
                        break;
                }
                n->rx_pending = false;
                pushed = true;
        }
        if (pushed && vq->ready && virtq_should_notify(vq, vdev->mem) && vdev->transport)
                vdev->transport->notify_queue(vdev, VIRTIO_NET_RXQ);
        set_polling(n, !n->rx_pending && virtio_device_live(vdev) && vq->ready);
}

static void net_fd_ready(void *opaque, uint32_t events)
{
        (void)events;
        rx_run(opaque);
}

static void net_queue_notify(struct virtio_device *vdev, unsigned q)
{
        struct virtio_net *n = to_net(vdev);
        if (q == VIRTIO_NET_TXQ)
                virtio_queue_process(vdev, q, &n->chain, net_tx);
        else
                rx_run(n);
}

static int net_activate(struct virtio_device *vdev)
{
        struct virtio_net *n = to_net(vdev);
        unsigned off = 0;
        if (has(n, VIRTIO_NET_F_GUEST_CSUM))
                off |= NET_OFFLOAD_CSUM;
        if (has(n, VIRTIO_NET_F_GUEST_TSO4) && has(n, VIRTIO_NET_F_GUEST_TSO6))
                off |= NET_OFFLOAD_TSO;
        if (n->be->set_rx_offload && n->be->set_rx_offload(n->be, off) < 0)
                return -EIO;
        rx_run(n);
        return 0;
}

static void net_reset(struct virtio_device *vdev)
{
        struct virtio_net *n = to_net(vdev);
        n->rx_pending = false;
        set_polling(n, false);
}

static void net_config_read(struct virtio_device *vdev, uint32_t off, void *data, unsigned len)
{
        memcpy(data, (const uint8_t *)&to_net(vdev)->cfg + off, len);
}

static void net_config_write(struct virtio_device *vdev, uint32_t off, const void *data,
                             unsigned len)
{
        (void)vdev, (void)off, (void)data, (void)len; /* read-only in virtio 1.x */
}

#define NET_OFFERED                                                                                \
        ((1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |                         \
         (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |                          \
         (1ull << VIRTIO_NET_F_GUEST_TSO6) | (1ull << VIRTIO_NET_F_HOST_TSO4) |                    \
         (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |                      \
         (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_STATUS) |                        \
         (1ull << VIRTIO_F_INDIRECT_DESC))

static const struct virtio_dev_ops net_ops = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .features = NET_OFFERED,
    .num_queues = 2,
    .queue_max_size = NET_QUEUE_SIZE,
    .config_size = sizeof(struct virtio_net_config),
    .config_read = net_config_read,
    .config_write = net_config_write,
    .queue_notify = net_queue_notify,
    .activate = net_activate,
    .reset = net_reset,
};

static void net_destroy(struct virtio_device *vdev)
{
        struct virtio_net *n = to_net(vdev);
        if (n->registered)
                evloop_del(n->loop, n->be->fd);
        net_backend_destroy(n->be);
        free(n);
}

struct virtio_device *virtio_net_create(const struct guest_mem *mem, struct evloop *loop,
                                        struct net_backend *be, const uint8_t mac[6], char *err,
                                        size_t errlen)
{
        if (!be || !loop) {
                snprintf(err, errlen, "virtio-net needs a backend and an event loop");
                net_backend_destroy(be);
                return NULL;
        }
        struct virtio_net *n = calloc(1, sizeof(*n));
        if (!n) {
                snprintf(err, errlen, "out of memory creating virtio-net");
                net_backend_destroy(be);
                return NULL;
        }
        n->head.destroy = net_destroy;
        n->loop = loop;
        n->be = be;
        memcpy(n->cfg.mac, mac, 6);
        n->cfg.status = 1;
        n->cfg.max_virtqueue_pairs = 1;
        virtio_device_init(&n->vdev, &net_ops, n, mem);
        /* offer only what this backend can carry */
        uint64_t drop = 0;
        if (!be->vnet_hdr)
                drop |= (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
                        (1ull << VIRTIO_NET_F_HOST_ECN);
        if (!(be->offload & NET_OFFLOAD_CSUM))
                drop |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
        if (!(be->offload & NET_OFFLOAD_TSO) || !(be->offload & NET_OFFLOAD_CSUM))
                drop |= (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6);
        n->vdev.device_features &= ~drop;
        int rc = evloop_add(loop, be->fd, 0, net_fd_ready, n);
        if (rc < 0) {
                snprintf(err, errlen, "virtio-net cannot watch %s: %s", be->desc, strerror(-rc));
                net_destroy(&n->vdev);
                return NULL;
        }
        n->registered = true;
        return &n->vdev;
}

void virtio_net_get_stats(struct virtio_device *vdev, struct virtio_net_stats *out)
{
        memset(out, 0, sizeof(*out));
        if (vdev && vdev->ops == &net_ops)
                *out = to_net(vdev)->st;
}

const char *virtio_net_backend_desc(struct virtio_device *vdev)
{
        return vdev && vdev->ops == &net_ops ? to_net(vdev)->be->desc : "";
}
