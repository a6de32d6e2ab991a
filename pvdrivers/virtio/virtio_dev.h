/* The transport-independent virtio device interface. A device (blk, console,
 * rng, ...) implements struct virtio_dev_ops and knows nothing of PCI; a
 * transport (virtio-pci in hv/pci/, the legacy guest's PV bus in hv/pv/)
 * embeds a struct virtio_device and implements struct virtio_transport. */
#ifndef TANDEM_VIRTIO_DEV_H
#define TANDEM_VIRTIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtqueue.h"

#define VIRTIO_MAX_QUEUES 8

/* Device status bits (virtio 1.2 §2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

struct virtio_device;

struct virtio_transport {
        /* Interrupt the driver for used buffers on queue q. */
        void (*notify_queue)(struct virtio_device *vdev, unsigned q);
        /* Interrupt the driver for a configuration change (incl. NEEDS_RESET). */
        void (*notify_config)(struct virtio_device *vdev);
};

struct virtio_dev_ops {
        const char *name;
        uint32_t device_id; /* virtio 1.2 §5: 1 net, 2 blk, 3 console, 4 rng, ... */
        uint64_t features;  /* offered, besides VERSION_1 and RING_EVENT_IDX */
        unsigned num_queues;
        uint16_t queue_max_size;
        size_t config_size;
        /* Config space access; off+len is within config_size (checked by the transport). */
        void (*config_read)(struct virtio_device *vdev, uint32_t off, void *data, unsigned len);
        void (*config_write)(struct virtio_device *vdev, uint32_t off, const void *data,
                             unsigned len);
        /* The driver made buffers available on queue q (kick or poll). */
        void (*queue_notify)(struct virtio_device *vdev, unsigned q);
        /* DRIVER_OK was set; returns 0 or -errno. May be NULL. */
        int (*activate)(struct virtio_device *vdev);
        /* The driver reset the device; drop in-flight state. May be NULL. */
        void (*reset)(struct virtio_device *vdev);
};

struct virtio_device {
        const struct virtio_dev_ops *ops;
        const struct virtio_transport *transport;
        void *transport_priv;
        void *priv; /* the device's own state */
        const struct guest_mem *mem;
        struct virtqueue vq[VIRTIO_MAX_QUEUES];
        uint64_t device_features; /* ops->features | VERSION_1 | EVENT_IDX */
        uint64_t driver_features;
        uint8_t status;
        uint8_t isr; /* for INTx transports */
        uint32_t config_generation;
};

/* Device helpers the transports and devices share. */
void virtio_device_init(struct virtio_device *vdev, const struct virtio_dev_ops *ops, void *priv,
                        const struct guest_mem *mem);
/* Pushes a used element and interrupts the driver if it asked for it. */
void virtio_complete(struct virtio_device *vdev, unsigned q, uint16_t head, uint32_t len);
/* The device found the driver's rings invalid: set NEEDS_RESET, tell the driver,
 * log once with the reason. Never aborts. */
void virtio_needs_reset(struct virtio_device *vdev, const char *why);
bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit);

#endif
