/* Split virtqueue, device side (virtio 1.2 §2.7). The driver may rewrite any
 * ring or descriptor while we read it, so every descriptor is copied once into
 * a local and only the copy is validated and used. Guest memory is looked up
 * through guest_mem_ptr() on every access; nothing guest-derived is cached as
 * a host pointer. */
#include "virtqueue.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio rings are little-endian");

#define VIRTQ_DESC_F_NEXT          1
#define VIRTQ_DESC_F_WRITE         2
#define VIRTQ_DESC_F_INDIRECT      4
#define VIRTQ_USED_F_NO_NOTIFY     1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct vring_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};

/* Byte sizes of the three parts, including the EVENT_IDX trailers. */
static uint64_t desc_bytes(uint16_t size)
{
        return 16ull * size;
}

static uint64_t avail_bytes(uint16_t size)
{
        return 6ull + 2ull * size;
}

static uint64_t used_bytes(uint16_t size)
{
        return 6ull + 8ull * size;
}

static uint16_t load16(const void *p)
{
        return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(void *p, uint16_t v)
{
        __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

/* The rings were checked at enable time and guest RAM never shrinks, but the
 * lookup is cheap and keeps guest_mem_ptr() the only bounds check. */
static uint8_t *avail_ring(const struct virtqueue *vq, const struct guest_mem *mem)
{
        return guest_mem_ptr(mem, vq->avail_gpa, avail_bytes(vq->size));
}

static uint8_t *used_ring(const struct virtqueue *vq, const struct guest_mem *mem)
{
        return guest_mem_ptr(mem, vq->used_gpa, used_bytes(vq->size));
}

int virtq_enable(struct virtqueue *vq, const struct guest_mem *mem)
{
        uint16_t n = vq->size;
        if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
                return -EINVAL;
        if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
                return -EINVAL;
        if (!guest_mem_ptr(mem, vq->desc_gpa, desc_bytes(n)) || !avail_ring(vq, mem) ||
            !used_ring(vq, mem))
                return -EFAULT;
        vq->last_avail = 0;
        vq->used_idx = 0;
        vq->signalled_used = 0;
        vq->signalled_valid = false;
        vq->ready = true;
        return 0;
}

void virtq_reset(struct virtqueue *vq)
{
        uint16_t notify_off = vq->notify_off;
        memset(vq, 0, sizeof(*vq));
        vq->notify_off = notify_off;
        vq->msix_vector = 0xffff;
}

/* Why the last virtq_pop() on this thread returned VIRTQ_BROKEN. */
static _Thread_local const char *broken_reason = "invalid ring";

const char *virtq_broken_reason(void)
{
        return broken_reason;
}

static bool fail(const char *why)
{
        broken_reason = why;
        return false;
}

/* Stops the queue; why NULL keeps the reason a helper already recorded. */
static enum virtq_pop_result broken(struct virtqueue *vq, const char *why)
{
        if (why)
                broken_reason = why;
        vq->ready = false;
        return VIRTQ_BROKEN;
}

/* Appends one descriptor's buffer to the chain; false when the chain breaks a rule. */
static bool chain_add(struct virtq_chain *c, const struct guest_mem *mem,
                      const struct vring_desc *d, unsigned *nsegs)
{
        bool writable = d->flags & VIRTQ_DESC_F_WRITE;
        if (!writable && c->nin > 0)
                return fail("readable descriptor after a writable one");
        if (++*nsegs > VIRTQ_MAX_CHAIN)
                return fail("more than VIRTQ_MAX_CHAIN segments");
        if (d->len == 0)
                return true;
        void *p = guest_mem_ptr(mem, d->addr, d->len);
        if (!p)
                return fail("buffer outside guest RAM");
        uint64_t total = c->out_bytes + c->in_bytes + d->len;
        if (total > VIRTQ_MAX_CHAIN_BYTES)
                return fail("request larger than VIRTQ_MAX_CHAIN_BYTES");
        c->iov[c->nout + c->nin] = (struct iovec){.iov_base = p, .iov_len = d->len};
        if (writable) {
                c->nin++;
                c->in_bytes += d->len;
        } else {
                c->nout++;
                c->out_bytes += d->len;
        }
        return true;
}

static bool read_desc(const struct guest_mem *mem, uint64_t table, uint16_t i,
                      struct vring_desc *out)
{
        const void *p = guest_mem_ptr(mem, table + 16ull * i, 16);
        if (!p)
                return false;
        memcpy(out, p, sizeof(*out));
        return true;
}

/* Walks an indirect table (§2.7.5.3): no nesting, bounded by its own size. */
static bool walk_indirect(struct virtq_chain *c, const struct guest_mem *mem,
                          const struct vring_desc *ind, unsigned *nsegs)
{
        if (ind->len == 0 || ind->len % 16 || ind->len / 16 > VIRTQ_MAX_CHAIN)
                return fail("bad indirect table length");
        if (ind->flags & VIRTQ_DESC_F_NEXT)
                return fail("indirect descriptor with NEXT");
        uint32_t n = ind->len / 16;
        if (!guest_mem_ptr(mem, ind->addr, ind->len))
                return fail("indirect table outside guest RAM");
        uint16_t i = 0;
        for (uint32_t steps = 0;; steps++) {
                struct vring_desc d;
                if (steps >= n || !read_desc(mem, ind->addr, i, &d))
                        return fail("loop in an indirect table");
                if (d.flags & VIRTQ_DESC_F_INDIRECT)
                        return fail("nested indirect descriptor");
                if (!chain_add(c, mem, &d, nsegs))
                        return false;
                if (!(d.flags & VIRTQ_DESC_F_NEXT))
                        return true;
                if (d.next >= n)
                        return fail("indirect next index out of range");
                i = d.next;
        }
}

enum virtq_pop_result virtq_pop(struct virtqueue *vq, const struct guest_mem *mem,
                                struct virtq_chain *chain)
{
        if (!vq->ready)
                return VIRTQ_EMPTY;
        uint8_t *avail = avail_ring(vq, mem);
        if (!avail)
                return broken(vq, "avail ring outside guest RAM");
        uint16_t avail_idx = load16(avail + 2);
        uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
        if (pending == 0)
                return VIRTQ_EMPTY;
        if (pending > vq->size)
                return broken(vq, "avail index more than the queue size ahead");
        uint16_t head = load16(avail + 4 + 2u * (vq->last_avail & (vq->size - 1)));
        if (head >= vq->size)
                return broken(vq, "head index out of range");

        chain->head = head;
        chain->nout = chain->nin = 0;
        chain->out_bytes = chain->in_bytes = 0;
        unsigned nsegs = 0;
        uint16_t i = head;
        for (unsigned steps = 0;; steps++) {
                struct vring_desc d;
                if (steps >= vq->size || !read_desc(mem, vq->desc_gpa, i, &d))
                        return broken(vq, "descriptor chain loops");
                if (d.flags & VIRTQ_DESC_F_INDIRECT) {
                        if (!walk_indirect(chain, mem, &d, &nsegs))
                                return broken(vq, NULL);
                        break;
                }
                if (!chain_add(chain, mem, &d, &nsegs))
                        return broken(vq, NULL);
                if (!(d.flags & VIRTQ_DESC_F_NEXT))
                        break;
                if (d.next >= vq->size)
                        return broken(vq, "next index out of range");
                i = d.next;
        }
        vq->last_avail++;
        return VIRTQ_CHAIN;
}

int virtq_push(struct virtqueue *vq, const struct guest_mem *mem, uint16_t head, uint32_t len)
{
        uint8_t *used = used_ring(vq, mem);
        if (!used)
                return -EFAULT;
        uint8_t *elem = used + 4 + 8u * (vq->used_idx & (vq->size - 1));
        uint32_t id = head;
        memcpy(elem, &id, 4);
        memcpy(elem + 4, &len, 4);
        vq->used_idx++;
        /* the element must be visible before the index that publishes it */
        store16(used + 2, vq->used_idx);
        return 0;
}

/* §2.7.10: interrupt when used_idx moved past used_event since the last one. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
        return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_notify(struct virtqueue *vq, const struct guest_mem *mem)
{
        /* our used->idx store must be ordered before reading the driver's flags */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        const uint8_t *avail = avail_ring(vq, mem);
        if (!avail)
                return true;
        if (!vq->event_idx)
                return !(load16(avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
        uint16_t used_event = load16(avail + 4 + 2u * vq->size);
        bool notify =
            !vq->signalled_valid || need_event(used_event, vq->used_idx, vq->signalled_used);
        vq->signalled_used = vq->used_idx;
        vq->signalled_valid = true;
        return notify;
}

void virtq_set_notification(struct virtqueue *vq, const struct guest_mem *mem, bool enable)
{
        uint8_t *used = used_ring(vq, mem);
        if (!vq->ready || !used)
                return;
        if (vq->event_idx) {
                /* With EVENT_IDX, "disabled" just leaves avail_event behind; the
                 * driver then kicks only when it wraps past it. */
                if (enable)
                        store16(used + 4 + 8u * vq->size, vq->last_avail);
        } else {
                store16(used, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
        }
        /* publish before the caller re-reads avail->idx */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_has_work(const struct virtqueue *vq, const struct guest_mem *mem)
{
        if (!vq->ready)
                return false;
        const uint8_t *avail = avail_ring(vq, mem);
        return avail && load16(avail + 2) != vq->last_avail;
}
