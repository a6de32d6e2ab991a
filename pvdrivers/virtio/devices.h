/* Constructors for the virtio devices. Each returns a device ready to be
 * attached to a transport (virtio_pci_add), or NULL with a one-line reason in
 * err. Destroy a device only after its transport is gone (pci_bus_destroy or
 * the VM's teardown). */
#ifndef TANDEM_VIRTIO_DEVICES_H
#define TANDEM_VIRTIO_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../hv/vmm/evloop.h"
#include "../../hv/vmm/guest_mem.h"
#include "virtio_dev.h"

/* virtio-blk on a raw image file; readonly opens it O_RDONLY and offers F_RO. */
struct virtio_device *virtio_blk_create(const struct guest_mem *mem, struct evloop *loop,
                                        const char *path, bool readonly, char *err, size_t errlen);
/* virtio-console, port 0 only: guest output goes to out_fd, in_fd (or -1 for
 * none) feeds guest input through the event loop. The fds stay the caller's. */
struct virtio_device *virtio_console_create(const struct guest_mem *mem, struct evloop *loop,
                                            int in_fd, int out_fd, char *err, size_t errlen);
/* virtio-rng backed by getrandom(). */
struct virtio_device *virtio_rng_create(const struct guest_mem *mem, char *err, size_t errlen);
void virtio_device_destroy(struct virtio_device *vdev);

/* Per-device I/O counters for `stats`. */
struct virtio_blk_stats {
        uint64_t rd_reqs, wr_reqs, rd_bytes, wr_bytes, flushes, discards, errors;
};
/* Fills out with zeros when vdev is not a virtio-blk device. */
void virtio_blk_get_stats(struct virtio_device *vdev, struct virtio_blk_stats *out);

#endif
