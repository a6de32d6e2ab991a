/* Split virtqueues (virtio 1.2 §2.7), device side. Every index, length and
 * address the driver wrote is checked here; a violation makes virtq_pop()
 * return VIRTQ_BROKEN and the device must enter NEEDS_RESET. */
#ifndef TANDEM_VIRTQUEUE_H
#define TANDEM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../../hv/vmm/guest_mem.h"

#define VIRTQ_MAX_SIZE 1024
/* A chain longer than this is treated as a loop. */
#define VIRTQ_MAX_CHAIN 1024
/* A request larger than this (sum of lengths) is refused. */
#define VIRTQ_MAX_CHAIN_BYTES (64u << 20)

struct virtqueue {
        uint16_t size; /* negotiated queue size, power of two */
        bool ready;
        bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
        uint64_t desc_gpa, avail_gpa, used_gpa;
        uint16_t last_avail;  /* next avail entry the device will consume */
        uint16_t used_idx;    /* device's copy of used->idx */
        uint16_t signalled_used; /* used_idx at the last interrupt, for EVENT_IDX */
        bool signalled_valid;
        uint16_t msix_vector;
        uint16_t notify_off;
};

/* One popped chain: readable segments first, then writable ones. */
struct virtq_chain {
        uint16_t head;
        unsigned nout, nin;  /* device-readable / device-writable segments */
        struct iovec iov[VIRTQ_MAX_CHAIN]; /* iov[0..nout) readable, iov[nout..nout+nin) writable */
        uint64_t out_bytes, in_bytes;
};

enum virtq_pop_result {
        VIRTQ_EMPTY = 0,
        VIRTQ_CHAIN = 1,
        VIRTQ_BROKEN = -1,
};

/* Validates and records the ring addresses when the driver sets queue_enable. */
int virtq_enable(struct virtqueue *vq, const struct guest_mem *mem);
void virtq_reset(struct virtqueue *vq);
enum virtq_pop_result virtq_pop(struct virtqueue *vq, const struct guest_mem *mem,
                                struct virtq_chain *chain);
/* Returns 0 or -EFAULT when the used ring is no longer valid memory. */
int virtq_push(struct virtqueue *vq, const struct guest_mem *mem, uint16_t head, uint32_t len);
/* After one or more pushes: does the driver want an interrupt (EVENT_IDX aware)? */
bool virtq_should_notify(struct virtqueue *vq, const struct guest_mem *mem);
/* Enables/disables driver notifications (avail_event with EVENT_IDX, flags otherwise). */
void virtq_set_notification(struct virtqueue *vq, const struct guest_mem *mem, bool enable);
bool virtq_has_work(const struct virtqueue *vq, const struct guest_mem *mem);

#endif
