/* Transport-independent virtio device logic (virtio 1.2 §2, §3). */
#include "virtio_core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

#include "devices.h"

void virtio_device_init(struct virtio_device *vdev, const struct virtio_dev_ops *ops, void *priv,
                        const struct guest_mem *mem)
{
        memset(vdev, 0, sizeof(*vdev));
        vdev->ops = ops;
        vdev->priv = priv;
        vdev->mem = mem;
        vdev->device_features =
            ops->features | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_RING_EVENT_IDX);
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
                virtq_reset(&vdev->vq[q]);
                vdev->vq[q].notify_off = (uint16_t)q;
                vdev->vq[q].size = q < ops->num_queues ? ops->queue_max_size : 0;
        }
}

void virtio_device_reset(struct virtio_device *vdev)
{
        if (vdev->ops->reset)
                vdev->ops->reset(vdev);
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
                virtq_reset(&vdev->vq[q]);
                vdev->vq[q].size = q < vdev->ops->num_queues ? vdev->ops->queue_max_size : 0;
        }
        vdev->driver_features = 0;
        vdev->status = 0;
        vdev->isr = 0;
}

bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit)
{
        return bit < 64 && (vdev->driver_features >> bit) & 1;
}

bool virtio_device_live(const struct virtio_device *vdev)
{
        return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
               !(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
}

void virtio_write_driver_features(struct virtio_device *vdev, unsigned sel, uint32_t val)
{
        if (sel > 1 || (vdev->status & VIRTIO_STATUS_FEATURES_OK))
                return;
        unsigned shift = sel * 32;
        vdev->driver_features &= ~(0xffffffffull << shift);
        vdev->driver_features |= (uint64_t)val << shift;
}

static bool features_acceptable(const struct virtio_device *vdev)
{
        return !(vdev->driver_features & ~vdev->device_features) &&
               virtio_has_feature(vdev, VIRTIO_F_VERSION_1);
}

void virtio_write_status(struct virtio_device *vdev, uint8_t status)
{
        if (status == 0) {
                virtio_device_reset(vdev);
                return;
        }
        uint8_t old = vdev->status;
        if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
            !features_acceptable(vdev))
                status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK; /* the driver re-reads it (§3.1.1) */
        /* NEEDS_RESET is the device's to clear, and only by a reset */
        vdev->status =
            (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
        if (!(status & VIRTIO_STATUS_DRIVER_OK) || (old & VIRTIO_STATUS_DRIVER_OK))
                return;
        if (vdev->ops->activate) {
                int rc = vdev->ops->activate(vdev);
                if (rc < 0) {
                        virtio_needs_reset(vdev, "device activation failed");
                        return;
                }
        }
        /* buffers made available before DRIVER_OK were not processed yet */
        for (unsigned q = 0; q < vdev->ops->num_queues; q++)
                if (virtq_has_work(&vdev->vq[q], vdev->mem))
                        virtio_kick(vdev, q);
}

int virtio_queue_enable(struct virtio_device *vdev, unsigned q)
{
        if (q >= vdev->ops->num_queues)
                return -EINVAL;
        struct virtqueue *vq = &vdev->vq[q];
        if (vq->ready)
                return 0;
        char why[96];
        if (vq->size > vdev->ops->queue_max_size) {
                snprintf(why, sizeof(why), "queue %u size %u exceeds maximum %u", q, vq->size,
                         vdev->ops->queue_max_size);
                virtio_needs_reset(vdev, why);
                return -EINVAL;
        }
        vq->event_idx = virtio_has_feature(vdev, VIRTIO_F_RING_EVENT_IDX);
        int rc = virtq_enable(vq, vdev->mem);
        if (rc < 0) {
                snprintf(why, sizeof(why), "queue %u rejected: %s", q,
                         rc == -EFAULT ? "ring outside guest RAM"
                                       : "size not a power of two or misaligned ring");
                virtio_needs_reset(vdev, why);
        }
        return rc;
}

void virtio_kick(struct virtio_device *vdev, unsigned q)
{
        if (q >= vdev->ops->num_queues || !vdev->vq[q].ready || !virtio_device_live(vdev))
                return;
        vdev->ops->queue_notify(vdev, q);
}

void virtio_complete(struct virtio_device *vdev, unsigned q, uint16_t head, uint32_t len)
{
        struct virtqueue *vq = &vdev->vq[q];
        if (virtq_push(vq, vdev->mem, head, len) < 0) {
                vq->ready = false;
                virtio_needs_reset(vdev, "used ring left guest RAM");
                return;
        }
        if (virtq_should_notify(vq, vdev->mem) && vdev->transport)
                vdev->transport->notify_queue(vdev, q);
}

void virtio_needs_reset(struct virtio_device *vdev, const char *why)
{
        if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
                return; /* one log line per incident */
        fprintf(stderr, "virtio-%s: needs reset: %s\n", vdev->ops->name, why);
        vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
        vdev->config_generation++;
        vdev->isr |= 2;
        if (vdev->transport)
                vdev->transport->notify_config(vdev);
}

void virtio_queue_process(struct virtio_device *vdev, unsigned q, struct virtq_chain *chain,
                          virtio_chain_fn fn)
{
        struct virtqueue *vq = &vdev->vq[q];
        for (;;) {
                virtq_set_notification(vq, vdev->mem, false);
                enum virtq_pop_result r;
                while ((r = virtq_pop(vq, vdev->mem, chain)) == VIRTQ_CHAIN) {
                        uint32_t len = fn(vdev, q, chain);
                        virtio_complete(vdev, q, chain->head, len);
                        if (!vq->ready)
                                return;
                }
                if (r == VIRTQ_BROKEN) {
                        char why[128];
                        snprintf(why, sizeof(why), "queue %u: %s", q, virtq_broken_reason());
                        virtio_needs_reset(vdev, why);
                        return;
                }
                virtq_set_notification(vq, vdev->mem, true);
                if (!virtq_has_work(vq, vdev->mem))
                        return;
        }
}

void virtio_device_destroy(struct virtio_device *vdev)
{
        if (!vdev)
                return;
        struct virtio_device_priv *p = vdev->priv;
        p->destroy(vdev);
}

size_t iov_copy_from(const struct iovec *iov, unsigned n, size_t skip, void *dst, size_t len)
{
        size_t done = 0;
        for (unsigned i = 0; i < n && done < len; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                size_t take = iov[i].iov_len - skip;
                if (take > len - done)
                        take = len - done;
                memcpy((uint8_t *)dst + done, (uint8_t *)iov[i].iov_base + skip, take);
                done += take;
                skip = 0;
        }
        return done;
}

size_t iov_copy_to(const struct iovec *iov, unsigned n, size_t skip, const void *src, size_t len)
{
        size_t done = 0;
        for (unsigned i = 0; i < n && done < len; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                size_t take = iov[i].iov_len - skip;
                if (take > len - done)
                        take = len - done;
                memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)src + done, take);
                done += take;
                skip = 0;
        }
        return done;
}

unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *out)
{
        unsigned k = 0;
        for (unsigned i = 0; i < n && len > 0; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                size_t take = iov[i].iov_len - skip;
                if (take > len)
                        take = len;
                out[k++] =
                    (struct iovec){.iov_base = (uint8_t *)iov[i].iov_base + skip, .iov_len = take};
                len -= take;
                skip = 0;
        }
        return k;
}
