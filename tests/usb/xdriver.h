/* A test-side xHCI driver: programs the emulated controller through MMIO
 * dispatch exactly as a guest would, with its rings and contexts in real
 * guest memory. Processing is synchronous, so events are there as soon as a
 * doorbell write returns. */
#ifndef TANDEM_TEST_XDRIVER_H
#define TANDEM_TEST_XDRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "../../hv/usb/xhci.h"
#include "../../hv/vmm/vm.h"

/* Guest-physical layout used by the driver */
#define XD_DCBAA     0x10000ull
#define XD_CMD_RING  0x11000ull
#define XD_EV_RING   0x12000ull
#define XD_ERST      0x13000ull
#define XD_OUT_CTX   0x20000ull /* + slot * 0x1000 */
#define XD_IN_CTX    0x40000ull
#define XD_XFER      0x100000ull /* + (slot * 32 + dci) * 0x400 */
#define XD_DATA      0x200000ull
#define XD_RING_TRBS 64

struct xd_ring {
        uint64_t base;
        unsigned idx;
        bool pcs;
};

struct xd_event {
        uint64_t param;
        uint32_t status;
        uint32_t control;
};

#define XD_EV_TYPE(e) (((e)->control >> 10) & 0x3f)
#define XD_EV_CC(e)   ((e)->status >> 24)
#define XD_EV_LEN(e)  ((e)->status & 0xffffff)
#define XD_EV_SLOT(e) ((e)->control >> 24)
#define XD_EV_EP(e)   (((e)->control >> 16) & 0x1f)

struct xd {
        struct vm *vm;
        uint64_t bar;
        uint32_t op, rt, db;
        struct xd_ring cmd;
        unsigned ev_idx;
        bool ev_ccs;
        struct xd_ring xfer[17][32];
};

void *xd_gpa(struct xd *d, uint64_t gpa);
uint32_t xd_rd(struct xd *d, uint32_t off);
void xd_wr(struct xd *d, uint32_t off, uint32_t v);
/* Reset, set up DCBAA, command ring, event ring; run. false if it fails. */
bool xd_start(struct xd *d, struct vm *vm, struct xhci *x);
void xd_ring_init(struct xd *d, struct xd_ring *r, uint64_t base);
uint64_t xd_ring_put(struct xd *d, struct xd_ring *r, uint64_t param, uint32_t status,
                     uint32_t control);
/* Next event, or false when the ring holds none. */
bool xd_event(struct xd *d, struct xd_event *ev);
/* Next event of a type, skipping others; false if none. */
bool xd_event_of(struct xd *d, unsigned type, struct xd_event *ev);
/* Queues a command and returns its completion code (slot id in *slot). */
unsigned xd_command(struct xd *d, uint64_t param, uint32_t status, uint32_t control,
                    unsigned *slot);
void xd_doorbell(struct xd *d, unsigned slot, unsigned target);
/* Port reset, Enable Slot, Address Device. Returns the slot or 0. */
unsigned xd_enumerate(struct xd *d, unsigned port, unsigned speed, unsigned ep0_mps);
/* Control transfer on EP0; returns the completion code of the status stage
 * (or of the first error) and the bytes moved in *moved. */
unsigned xd_control(struct xd *d, unsigned slot, uint8_t type, uint8_t req, uint16_t value,
                    uint16_t index, uint16_t length, uint64_t buf, unsigned *moved);
/* Configure Endpoint adding endpoint dci of type ept. */
unsigned xd_add_endpoint(struct xd *d, unsigned slot, unsigned dci, unsigned ept, unsigned mps);
/* One Normal TRB transfer on dci; returns the event's code, *moved bytes. */
unsigned xd_bulk(struct xd *d, unsigned slot, unsigned dci, uint64_t buf, uint32_t len,
                 unsigned *moved);

#endif
