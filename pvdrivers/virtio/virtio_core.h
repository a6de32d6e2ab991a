/* Transport-independent virtio device semantics shared by the transports
 * (virtio-pci in hv/pci/, the legacy guest's PV bus in hv/pv/): feature
 * negotiation, status transitions, reset, and the per-queue processing loop.
 * A transport only decodes its registers and calls these. */
#ifndef TANDEM_VIRTIO_CORE_H
#define TANDEM_VIRTIO_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_dev.h"

#define VIRTIO_MSI_NO_VECTOR   0xffff
#define VIRTIO_F_INDIRECT_DESC 28

/* Every device's private state (vdev->priv) starts with this, so that
 * virtio_device_destroy() can free any device without a global list. */
struct virtio_device_priv {
        void (*destroy)(struct virtio_device *vdev);
};

/* Back to the state after virtio_device_init: status 0, no features, queues
 * off at their maximum size; calls ops->reset. */
void virtio_device_reset(struct virtio_device *vdev);

/* A driver write of the status register. Handles reset (0), FEATURES_OK
 * validation (the bit is refused when the driver asked for features we did
 * not offer or left out VERSION_1) and DRIVER_OK (ops->activate, then a first
 * pass over queues that already hold buffers). */
void virtio_write_status(struct virtio_device *vdev, uint8_t status);

/* Writes 32 bits of driver features at word sel; ignored after FEATURES_OK. */
void virtio_write_driver_features(struct virtio_device *vdev, unsigned sel, uint32_t val);

/* The driver enabled queue q with the addresses and size already stored in
 * vdev->vq[q]. Bad rings put the device in NEEDS_RESET; returns 0 or -errno. */
int virtio_queue_enable(struct virtio_device *vdev, unsigned q);

/* A kick from the driver: calls ops->queue_notify when the device is live
 * (DRIVER_OK, not NEEDS_RESET) and q is an enabled queue. */
void virtio_kick(struct virtio_device *vdev, unsigned q);

/* Handles one popped chain; returns the number of bytes written to the
 * driver's buffers (the used length). */
typedef uint32_t (*virtio_chain_fn)(struct virtio_device *vdev, unsigned q,
                                    struct virtq_chain *chain);

/* Pops and handles every available chain on q, completing each, with driver
 * notifications suppressed while it works and re-armed before returning. A
 * broken ring puts the device in NEEDS_RESET. */
void virtio_queue_process(struct virtio_device *vdev, unsigned q, struct virtq_chain *chain,
                          virtio_chain_fn fn);

/* True when the device accepts work (DRIVER_OK set, NEEDS_RESET clear). */
bool virtio_device_live(const struct virtio_device *vdev);

/* Why the last virtq_pop() on this thread returned VIRTQ_BROKEN (for the log). */
const char *virtq_broken_reason(void);

/* Scatter-gather copies: from/to iov starting at byte skip; return bytes copied. */
size_t iov_copy_from(const struct iovec *iov, unsigned n, size_t skip, void *dst, size_t len);
size_t iov_copy_to(const struct iovec *iov, unsigned n, size_t skip, const void *src, size_t len);
/* Builds in out[] the sub-range [skip, skip+len) of iov; returns the segment count. */
unsigned iov_slice(const struct iovec *iov, unsigned n, size_t skip, size_t len, struct iovec *out);

#endif
