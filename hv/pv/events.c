/* Event channels of the legacy guest: 32 ports, a pending mask, and the
 * block-until-event hypercall that parks the vCPU thread on a condition
 * variable until a port fires, the one-shot timer expires, or the VM needs
 * the vCPU back (pause, shutdown). */
#include <errno.h>
#include <time.h>

#include "../display/display.h"
#include "../vmm/vm.h"
#include "../../pvdrivers/virtio/virtio_core.h"
#include "legacy_priv.h"

uint64_t legacy_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void legacy_raise_locked(struct legacy_domain *d, unsigned source)
{
        if (source >= EVS_COUNT || d->port_of[source] < 0)
                return;
        d->pending |= 1u << d->port_of[source];
        pthread_cond_broadcast(&d->wake);
}

void legacy_raise(struct legacy_domain *d, unsigned source)
{
        pthread_mutex_lock(&d->lock);
        legacy_raise_locked(d, source);
        pthread_mutex_unlock(&d->lock);
}

void legacy_kick(void *opaque)
{
        struct legacy_domain *d = opaque;
        pthread_mutex_lock(&d->lock);
        pthread_cond_broadcast(&d->wake);
        pthread_mutex_unlock(&d->lock);
}

static int source_index(uint32_t source)
{
        switch (source) {
        case TPV_EVSRC_TIMER:
                return EVS_TIMER;
        case TPV_EVSRC_KEYBOARD:
                return EVS_KEYBOARD;
        case TPV_EVSRC_CONTROL:
                return EVS_CONTROL;
        default:
                return source < LEGACY_MAX_BUS ? EVS_DEVICE0 + (int)source : -1;
        }
}

int32_t legacy_bind(struct legacy_domain *d, uint32_t source, uint32_t port)
{
        int s = source_index(source);
        if (s < 0 || port >= TPV_NR_PORTS)
                return TPV_EINVAL;
        if (s >= EVS_DEVICE0 && (unsigned)(s - EVS_DEVICE0) >= d->nbus)
                return TPV_ENODEV;
        pthread_mutex_lock(&d->lock);
        for (int i = 0; i < EVS_COUNT; i++) {
                if (i != s && d->port_of[i] == (int8_t)port) {
                        pthread_mutex_unlock(&d->lock);
                        return TPV_EBUSY;
                }
        }
        d->port_of[s] = (int8_t)port;
        /* A source that is already due shows up at once on its new port. */
        if (s == EVS_KEYBOARD && d->keyq_len)
                legacy_raise_locked(d, EVS_KEYBOARD);
        if (s == EVS_CONTROL && d->control_request)
                legacy_raise_locked(d, EVS_CONTROL);
        pthread_mutex_unlock(&d->lock);
        return 0;
}

int32_t legacy_notify(struct legacy_domain *d, uint32_t port)
{
        if (port >= TPV_NR_PORTS)
                return TPV_EINVAL;
        int src = -1;
        pthread_mutex_lock(&d->lock);
        for (int i = 0; i < EVS_COUNT; i++)
                if (d->port_of[i] == (int8_t)port)
                        src = i;
        pthread_mutex_unlock(&d->lock);
        if (src < EVS_DEVICE0)
                return src < 0 ? TPV_ENOENT : TPV_EINVAL; /* nothing to notify on that side */
        struct virtio_device *vdev = d->bus[src - EVS_DEVICE0].vdev;
        vm_lock(d->vm);
        for (unsigned q = 0; q < vdev->ops->num_queues; q++)
                if (vdev->vq[q].ready)
                        virtio_kick(vdev, q);
        vm_unlock(d->vm);
        pthread_mutex_lock(&d->lock);
        uint32_t pending = d->pending;
        d->pending &= ~(1u << port);
        pthread_mutex_unlock(&d->lock);
        return (int32_t)pending;
}

/* The guest's display damage and cursor, read from the shared page while the
 * vCPU is stopped in the hypercall. */
static void publish_display(struct legacy_domain *d)
{
        if (!d->shared_gpa || !d->display)
                return;
        struct tpv_shared_info *s = guest_mem_ptr(&d->vm->mem, d->shared_gpa, sizeof(*s));
        if (!s || !s->disp_dirty)
                return;
        uint32_t x0 = s->disp_x0, y0 = s->disp_y0, x1 = s->disp_x1, y1 = s->disp_y1;
        uint32_t cx = s->cursor_x, cy = s->cursor_y, cv = s->cursor_visible;
        s->disp_dirty = 0;
        vm_lock(d->vm);
        if (x1 > x0 && y1 > y0)
                display_damage(d->display, x0, y0, x1 - x0, y1 - y0); /* clips */
        display_set_cursor(d->display, cx, cy, cv != 0);
        vm_unlock(d->vm);
}

int32_t legacy_block(struct legacy_domain *d, uint32_t mask)
{
        publish_display(d);
        pthread_mutex_lock(&d->lock);
        legacy_keys_to_ring_locked(d);
        while (!(d->pending & mask) && !vm_should_yield(d->vm)) {
                if (d->timer_deadline) {
                        uint64_t now = legacy_now_ns();
                        if (now >= d->timer_deadline) {
                                d->timer_deadline = 0;
                                legacy_raise_locked(d, EVS_TIMER);
                                continue;
                        }
                        struct timespec ts = {.tv_sec = (time_t)(d->timer_deadline / 1000000000ull),
                                              .tv_nsec = (long)(d->timer_deadline % 1000000000ull)};
                        pthread_cond_timedwait(&d->wake, &d->lock, &ts);
                } else {
                        pthread_cond_wait(&d->wake, &d->lock);
                }
                legacy_keys_to_ring_locked(d);
        }
        uint32_t got = d->pending & mask;
        d->pending &= ~got;
        pthread_mutex_unlock(&d->lock);
        return (int32_t)got; /* ports are 0..30: never negative */
}
