#include "vdriver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "virtio_core.h"

void vd_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
        REQUIRE(guest_mem_write(mem, gpa, src, len) == 0);
}

void vd_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
        REQUIRE(guest_mem_read(mem, gpa, dst, len) == 0);
}

static void w16(const struct guest_mem *mem, uint64_t gpa, uint16_t v)
{
        vd_write(mem, gpa, &v, 2);
}

static uint16_t r16(const struct guest_mem *mem, uint64_t gpa)
{
        uint16_t v;
        vd_read(mem, gpa, &v, 2);
        return v;
}

void vd_queue_init(struct vd_queue *q, const struct guest_mem *mem, uint64_t base, uint16_t size)
{
        memset(q, 0, sizeof(*q));
        q->mem = mem;
        q->size = size;
        q->desc = base;
        q->avail = base + 16ull * size;
        q->used = (q->avail + 6 + 2ull * size + 3) & ~3ull;
        uint64_t end = q->used + 6 + 8ull * size;
        void *p = guest_mem_ptr(mem, base, end - base);
        REQUIRE(p);
        memset(p, 0, end - base);
}

void vd_set_desc(struct vd_queue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
        uint8_t d[16];
        memcpy(d, &addr, 8);
        memcpy(d + 8, &len, 4);
        memcpy(d + 12, &flags, 2);
        memcpy(d + 14, &next, 2);
        vd_write(q->mem, q->desc + 16ull * i, d, 16);
}

void vd_set_avail_idx(struct vd_queue *q, uint16_t idx)
{
        q->avail_idx = idx;
        w16(q->mem, q->avail + 2, idx);
}

void vd_publish(struct vd_queue *q, uint16_t head)
{
        w16(q->mem, q->avail + 4 + 2ull * (q->avail_idx % q->size), head);
        vd_set_avail_idx(q, (uint16_t)(q->avail_idx + 1));
}

uint16_t vd_add_chain(struct vd_queue *q, const struct vd_buf *bufs, unsigned n)
{
        uint16_t head = q->next_desc;
        for (unsigned i = 0; i < n; i++) {
                uint16_t me = (uint16_t)((head + i) % q->size);
                uint16_t next = (uint16_t)((me + 1) % q->size);
                uint16_t flags =
                    (uint16_t)((bufs[i].writable ? VD_WRITE : 0) | (i + 1 < n ? VD_NEXT : 0));
                vd_set_desc(q, me, bufs[i].gpa, bufs[i].len, flags, next);
        }
        q->next_desc = (uint16_t)((head + n) % q->size);
        vd_publish(q, head);
        return head;
}

uint16_t vd_used_idx(const struct vd_queue *q)
{
        return r16(q->mem, q->used + 2);
}

bool vd_get_used(struct vd_queue *q, uint32_t *id, uint32_t *len)
{
        if (vd_used_idx(q) == q->used_seen)
                return false;
        uint64_t e = q->used + 4 + 8ull * (q->used_seen % q->size);
        vd_read(q->mem, e, id, 4);
        vd_read(q->mem, e + 4, len, 4);
        q->used_seen++;
        return true;
}

void vd_set_used_event(struct vd_queue *q, uint16_t v)
{
        w16(q->mem, q->avail + 4 + 2ull * q->size, v);
}

uint16_t vd_avail_event(const struct vd_queue *q)
{
        return r16(q->mem, q->used + 4 + 8ull * q->size);
}

void vd_set_avail_flags(struct vd_queue *q, uint16_t flags)
{
        w16(q->mem, q->avail, flags);
}

uint16_t vd_used_flags(const struct vd_queue *q)
{
        return r16(q->mem, q->used);
}

void vd_attach(struct virtio_device *vdev, unsigned qi, const struct vd_queue *q)
{
        vdev->vq[qi].size = q->size;
        vdev->vq[qi].desc_gpa = q->desc;
        vdev->vq[qi].avail_gpa = q->avail;
        vdev->vq[qi].used_gpa = q->used;
}

uint8_t vd_bringup(struct virtio_device *vdev, uint64_t features, struct vd_queue *qs, unsigned nq)
{
        virtio_write_status(vdev, 0);
        uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE;
        virtio_write_status(vdev, s);
        s |= VIRTIO_STATUS_DRIVER;
        virtio_write_status(vdev, s);
        virtio_write_driver_features(vdev, 0, (uint32_t)features);
        virtio_write_driver_features(vdev, 1, (uint32_t)(features >> 32));
        s |= VIRTIO_STATUS_FEATURES_OK;
        virtio_write_status(vdev, s);
        if (!(vdev->status & VIRTIO_STATUS_FEATURES_OK))
                return vdev->status;
        for (unsigned i = 0; i < nq; i++) {
                vd_attach(vdev, i, &qs[i]);
                virtio_queue_enable(vdev, i);
        }
        s |= VIRTIO_STATUS_DRIVER_OK;
        virtio_write_status(vdev, s);
        return vdev->status;
}

static void loop_lock(void *arg)
{
        pthread_mutex_lock(arg);
}

static void loop_unlock(void *arg)
{
        pthread_mutex_unlock(arg);
}

static void *loop_main(void *arg)
{
        struct vd_loop_thread *t = arg;
        evloop_run(t->loop, loop_lock, loop_unlock, t->lock);
        return NULL;
}

void vd_loop_start(struct vd_loop_thread *t, struct evloop *loop, pthread_mutex_t *lock)
{
        t->loop = loop;
        t->lock = lock;
        REQUIRE(pthread_create(&t->thread, NULL, loop_main, t) == 0);
}

void vd_loop_stop(struct vd_loop_thread *t)
{
        evloop_stop(t->loop);
        pthread_join(t->thread, NULL);
}

bool vd_wait_used(struct vd_queue *q, pthread_mutex_t *lock, uint16_t want, unsigned timeout_ms)
{
        for (unsigned i = 0; i < timeout_ms; i++) {
                pthread_mutex_lock(lock);
                uint16_t idx = vd_used_idx(q);
                pthread_mutex_unlock(lock);
                if (idx == want)
                        return true;
                nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
        return false;
}
