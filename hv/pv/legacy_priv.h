/* Internal state of the legacy domain's PV backends (hv/pv/ only). */
#ifndef TANDEM_PV_LEGACY_PRIV_H
#define TANDEM_PV_LEGACY_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "../../pvdrivers/legacy/include/tandem_pv.h"
#include "../../pvdrivers/virtio/virtio_dev.h"
#include "legacy.h"

#define LEGACY_DISPLAY_GPA 0xE0000000ULL /* in the 32-bit hole, above RAM */
#define LEGACY_MAX_COLS    132
#define LEGACY_MAX_ROWS    43
#define LEGACY_MAX_BUS     8 /* disk, net, sound, USB and room to grow */
#define LEGACY_KEYQ        512

struct vcpu;
struct display;
struct console_mux;

struct legacy_bus_dev {
        struct legacy_domain *dom;
        struct virtio_device *vdev;
        unsigned index;
};

/* Event sources, indexed for the binding table. */
enum {
        EVS_TIMER,
        EVS_KEYBOARD,
        EVS_CONTROL,
        EVS_DEVICE0,
        EVS_COUNT = EVS_DEVICE0 + LEGACY_MAX_BUS
};

struct legacy_domain {
        struct vm *vm;
        struct control *ctl;
        struct display *display;
        struct console_mux *console;
        int console_fd;
        int printer_fd;
        uint32_t cols, rows;

        /* Everything below is guarded by lock (the vCPU runs hypercalls
         * without the VM lock; input and completions come from the loop). */
        pthread_mutex_t lock;
        pthread_cond_t wake;
        uint64_t shared_gpa;       /* 0 until TPV_HC_SHARED_INFO */
        uint32_t pending;          /* ports */
        int8_t port_of[EVS_COUNT]; /* -1 = unbound */
        uint64_t timer_deadline;   /* CLOCK_MONOTONIC ns; 0 = off */
        uint32_t control_request;
        /* Keys not yet in the guest's ring (full ring, or ring not set up). */
        uint16_t keyq[LEGACY_KEYQ];
        unsigned keyq_head, keyq_len;

        unsigned nbus;
        struct legacy_bus_dev bus[LEGACY_MAX_BUS];

        /* counters for `stats` and bench/legacy */
        uint64_t hypercalls[TPV_HC_COUNT + 1];
        uint64_t keys_delivered;
};

/* hypercall.c */
void legacy_hypercall(struct vcpu *vcpu, void *opaque);
/* events.c: raise a source (any thread); block for the guest (vCPU thread). */
void legacy_raise(struct legacy_domain *d, unsigned source);
void legacy_raise_locked(struct legacy_domain *d, unsigned source);
int32_t legacy_block(struct legacy_domain *d, uint32_t mask);
int32_t legacy_bind(struct legacy_domain *d, uint32_t source, uint32_t port);
int32_t legacy_notify(struct legacy_domain *d, uint32_t port);
void legacy_kick(void *opaque);
uint64_t legacy_now_ns(void);
/* keyboard.c */
void legacy_key(void *opaque, uint32_t evdev_code, bool down);
void legacy_keys_to_ring_locked(struct legacy_domain *d);
int legacy_register_send_keys(struct legacy_domain *d);
/* pvbus.c */
int legacy_bus_add(struct legacy_domain *d, struct virtio_device *vdev, char *err, size_t errlen);
int32_t legacy_bus_op(struct legacy_domain *d, uint32_t index, uint64_t op_gpa);

#endif
