/* One virtio device on the PV bus (docs/pv-abi.md §4), guest side: what
 * every frontend shares — finding the device, the virtio 1.2 §3.1.1
 * bring-up over TPV_HC_BUS_OP, split virtqueues (§2.7), kicks and waits.
 * What a frontend puts in its rings stays in the frontend. */
#ifndef TANDEM_PV_PVDEV_H
#define TANDEM_PV_PVDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "hypercall.h"

#define VIRTIO_F_VERSION_1 32

/* Device status bits (virtio 1.2 §2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2

/* x86 is TSO: ordering the guest's own stores against the device needs
 * only the compiler's promise not to move them. */
#define barrier() __asm__ volatile("" ::: "memory")

struct pvdev {
        int index;     /* bus device index, -1 while there is none */
        unsigned port; /* event port bound to TPV_EVSRC_DEVICE(index) */
};

struct vring_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
};

/* A split virtqueue of n entries in one block with the alignments §2.7
 * asks for. Declare it static and page-aligned; a frontend's rings then
 * never straddle anything but its own memory. */
#define VRING(n)                                                                                   \
        struct {                                                                                   \
                struct vring_desc desc[n] __attribute__((aligned(16)));                            \
                struct {                                                                           \
                        uint16_t flags, idx, ring[n], used_event;                                  \
                } avail __attribute__((aligned(2)));                                               \
                struct {                                                                           \
                        uint16_t flags, idx;                                                       \
                        struct {                                                                   \
                                uint32_t id, len;                                                  \
                        } ring[n];                                                                 \
                        uint16_t avail_event;                                                      \
                } used __attribute__((aligned(4)));                                                \
        }

#define VRING_SIZE(vr) ((uint16_t)(sizeof((vr).desc) / sizeof((vr).desc[0])))

/* Offers the chain starting at descriptor head: the ring entry must be
 * visible to the device before the index that announces it. */
#define VRING_PUBLISH(vr, head)                                                                    \
        do {                                                                                       \
                (vr).avail.ring[(vr).avail.idx % VRING_SIZE(vr)] = (head);                         \
                barrier();                                                                         \
                (vr).avail.idx++;                                                                  \
        } while (0)

/* The device writes used.idx behind the compiler's back. */
#define VRING_USED_IDX(vr) (*(volatile uint16_t *)&(vr).used.idx)

/* Finds the first PV bus device with this virtio ID; info (may be NULL)
 * gets its description. 0, or TPV_ENODEV with dev->index = -1. */
int pvdev_find(struct pvdev *dev, uint32_t virtio_id, struct tpv_device_info *info);
int pvdev_bus_op(const struct pvdev *dev, struct tpv_bus_op *op);
int pvdev_set_status(const struct pvdev *dev, uint32_t status);
/* Binds the device's port, resets it and sets ACKNOWLEDGE | DRIVER. */
int pvdev_start(struct pvdev *dev);
/* The features the device offers (only for a driver that picks from them). */
int pvdev_offered_features(const struct pvdev *dev, uint64_t *offered);
/* Sets the driver's features and FEATURES_OK; TPV_EIO when the device
 * refused them (FEATURES_OK did not stay set). */
int pvdev_accept_features(const struct pvdev *dev, uint64_t features);
int pvdev_queue_setup(const struct pvdev *dev, uint32_t queue, uint16_t size,
                      const volatile void *desc, const volatile void *avail,
                      const volatile void *used);
#define pvdev_setup_vring(dev, queue, vr)                                                          \
        pvdev_queue_setup((dev), (queue), VRING_SIZE(vr), (vr).desc, &(vr).avail, &(vr).used)
/* length 1..64 bytes of device config from offset into out. */
int pvdev_read_config(const struct pvdev *dev, uint32_t offset, uint32_t length, void *out);
/* Sets DRIVER_OK: the device may use the queues from now on. */
int pvdev_ready(const struct pvdev *dev);
/* True when the device gave up (NEEDS_RESET or FAILED) or cannot say. */
bool pvdev_failed(const struct pvdev *dev);
/* Tells the device its available rings have new entries. Returns the
 * pending port mask (the device's own bit is cleared). */
uint32_t pvdev_kick(const struct pvdev *dev);
/* Sleeps until *used_idx moves past last_seen. TPV_EIO when the device
 * failed instead: a guest must never wait forever for a broken device. */
int pvdev_wait_used(const struct pvdev *dev, const volatile uint16_t *used_idx, uint16_t last_seen);

#endif
