/* A tiny test-side virtio driver: lays out split rings in real guest memory,
 * writes descriptors and the avail ring the way a guest driver does, and reads
 * the used ring back. */
#ifndef TANDEM_TEST_VDRIVER_H
#define TANDEM_TEST_VDRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "evloop.h"

#include "guest_mem.h"
#include "virtio_dev.h"

#define VD_NEXT     1
#define VD_WRITE    2
#define VD_INDIRECT 4

struct vd_queue {
        const struct guest_mem *mem;
        uint16_t size;
        uint64_t desc, avail, used;
        uint16_t avail_idx;
        uint16_t used_seen;
        uint16_t next_desc; /* descriptors are handed out round-robin */
};

struct vd_buf {
        uint64_t gpa;
        uint32_t len;
        bool writable;
};

/* Rings at base (16-byte aligned), zeroed. */
void vd_queue_init(struct vd_queue *q, const struct guest_mem *mem, uint64_t base, uint16_t size);
void vd_set_desc(struct vd_queue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next);
/* Puts head in the avail ring and publishes the new index. */
void vd_publish(struct vd_queue *q, uint16_t head);
/* Writes avail->idx directly (for attacks). */
void vd_set_avail_idx(struct vd_queue *q, uint16_t idx);
/* Builds a chain from bufs, publishes it, returns its head. */
uint16_t vd_add_chain(struct vd_queue *q, const struct vd_buf *bufs, unsigned n);
/* Next used element, if any. */
bool vd_get_used(struct vd_queue *q, uint32_t *id, uint32_t *len);
uint16_t vd_used_idx(const struct vd_queue *q);
/* EVENT_IDX fields the driver writes/reads. */
void vd_set_used_event(struct vd_queue *q, uint16_t v);
uint16_t vd_avail_event(const struct vd_queue *q);
void vd_set_avail_flags(struct vd_queue *q, uint16_t flags);
uint16_t vd_used_flags(const struct vd_queue *q);

/* Points device queue qi at the rings (no transport). */
void vd_attach(struct virtio_device *vdev, unsigned qi, const struct vd_queue *q);
/* Full handshake without a transport: ACK, DRIVER, features, FEATURES_OK,
 * attach and enable queues, DRIVER_OK. Returns the final status. */
uint8_t vd_bringup(struct virtio_device *vdev, uint64_t features, struct vd_queue *qs, unsigned nq);

/* The device side's event loop on its own thread, as tandem-vmm runs it:
 * every callback holds lock, so a test takes it whenever it touches rings. */
struct vd_loop_thread {
        struct evloop *loop;
        pthread_mutex_t *lock;
        pthread_t thread;
};
void vd_loop_start(struct vd_loop_thread *t, struct evloop *loop, pthread_mutex_t *lock);
/* Stops the loop and joins its thread. */
void vd_loop_stop(struct vd_loop_thread *t);
/* Waits up to timeout_ms for q's used index to reach want, reading it under
 * lock. */
bool vd_wait_used(struct vd_queue *q, pthread_mutex_t *lock, uint16_t want, unsigned timeout_ms);

/* Guest-memory helpers */
void vd_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);
void vd_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);

#endif
