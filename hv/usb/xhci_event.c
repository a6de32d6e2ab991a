/* The event ring of interrupter 0 (xHCI 4.9.4, 5.5.2): segments from the
 * guest's Event Ring Segment Table, producer cycle state, the full-ring rule,
 * and the interrupt that follows an event (with INTx, IMAN.IP gates
 * re-sending until the guest clears it). */
#include <stdio.h>
#include <string.h>

#include "../vmm/guest_mem.h"
#include "xhci_internal.h"

static struct guest_mem *mem(struct xhci *x)
{
        return &x->vm->mem;
}

void xhci_event_ring_setup(struct xhci *x)
{
        x->ev_nsegs = 0;
        x->ev_full = false;
        unsigned n = x->erstsz;
        if (n == 0)
                return; /* ring disabled */
        if (n > XHCI_ERST_MAX) {
                xhci_fail(x, "ERSTSZ larger than ERST Max");
                return;
        }
        const uint8_t *erst = guest_mem_ptr(mem(x), x->erstba, 16ull * n);
        if (!erst) {
                xhci_fail(x, "event ring segment table outside guest RAM");
                return;
        }
        for (unsigned i = 0; i < n; i++) {
                uint64_t base;
                uint32_t size;
                memcpy(&base, erst + 16 * i, 8);
                memcpy(&size, erst + 16 * i + 8, 4);
                base &= ~0x3full;
                size &= 0xffff;
                if (size < 16 || size > 4096 || !guest_mem_ptr(mem(x), base, 16ull * size)) {
                        xhci_fail(x, "bad event ring segment");
                        return;
                }
                x->ev_seg_base[i] = base;
                x->ev_seg_size[i] = size;
        }
        x->ev_nsegs = n;
        x->ev_seg = x->ev_idx = 0;
        x->ev_pcs = true;
}

static uint64_t enqueue_addr(const struct xhci *x, unsigned seg, unsigned idx)
{
        return x->ev_seg_base[seg] + 16ull * idx;
}

static void next_pos(const struct xhci *x, unsigned *seg, unsigned *idx, bool *pcs)
{
        if (++*idx < x->ev_seg_size[*seg])
                return;
        *idx = 0;
        if (++*seg == x->ev_nsegs) {
                *seg = 0;
                *pcs = !*pcs;
        }
}

static void raise_interrupt(struct xhci *x)
{
        x->usbsts |= STS_EINT;
        if (x->iman & IMAN_IP)
                return;
        x->iman |= IMAN_IP;
        x->erdp |= ERDP_EHB;
        if (!(x->iman & IMAN_IE) || !(x->usbcmd & CMD_INTE))
                return;
        if (pci_msix_enabled(&x->pci)) {
                /* With MSI-X, IP clears once the message is written (5.5.2.1);
                 * Linux relies on that and never writes IMAN.IP itself. A
                 * masked vector keeps the message in the PBA instead. */
                pci_msix_notify(&x->pci, 0);
                x->iman &= ~IMAN_IP;
        } else
                pci_intx_set(&x->pci, true);
}

static void put_trb(struct xhci *x, const struct xhci_trb *ev)
{
        uint8_t *p = guest_mem_ptr(mem(x), enqueue_addr(x, x->ev_seg, x->ev_idx), 16);
        if (!p) { /* checked at setup; RAM does not shrink */
                xhci_fail(x, "event ring left guest RAM");
                return;
        }
        uint32_t control = (ev->control & ~TRB_CYCLE) | (x->ev_pcs ? TRB_CYCLE : 0);
        memcpy(p, &ev->param, 8);
        memcpy(p + 8, &ev->status, 4);
        /* The cycle bit hands the TRB to the guest: everything before it first. */
        __atomic_store_n((uint32_t *)(p + 12), control, __ATOMIC_RELEASE);
        next_pos(x, &x->ev_seg, &x->ev_idx, &x->ev_pcs);
}

void xhci_event(struct xhci *x, const struct xhci_trb *ev)
{
        if (x->ev_nsegs == 0 || x->ev_full || (x->usbsts & STS_HCE)) {
                x->errors++;
                return;
        }
        unsigned seg = x->ev_seg, idx = x->ev_idx;
        bool pcs = x->ev_pcs;
        next_pos(x, &seg, &idx, &pcs);
        if (enqueue_addr(x, seg, idx) == (x->erdp & ~0xfull)) {
                /* One slot left: it carries the Event Ring Full error (4.9.4). */
                struct xhci_trb full = {
                    .status = (uint32_t)CC_EVENT_RING_FULL << 24,
                    .control = TRB_EV_HOST_CONTROLLER << 10,
                };
                put_trb(x, &full);
                x->ev_full = true;
        } else {
                put_trb(x, ev);
        }
        raise_interrupt(x);
}

void xhci_erdp_written(struct xhci *x)
{
        if (x->ev_nsegs == 0)
                return;
        uint64_t deq = x->erdp & ~0xfull;
        uint64_t enq = enqueue_addr(x, x->ev_seg, x->ev_idx);
        unsigned seg = x->ev_seg, idx = x->ev_idx;
        bool pcs = x->ev_pcs;
        next_pos(x, &seg, &idx, &pcs);
        if (x->ev_full && deq != enqueue_addr(x, seg, idx))
                x->ev_full = false;
        /* Events the guest has not consumed yet: interrupt again (4.17.2). */
        if (deq != enq && !(x->erdp & ERDP_EHB))
                raise_interrupt(x);
}

void xhci_event_cmd(struct xhci *x, uint64_t trb, unsigned cc, unsigned slot)
{
        struct xhci_trb ev = {
            .param = trb,
            .status = cc << 24,
            .control = TRB_EV_CMD_COMPLETE << 10 | slot << 24,
        };
        if (cc != CC_SUCCESS)
                x->errors++;
        xhci_event(x, &ev);
}

void xhci_event_port(struct xhci *x, unsigned port)
{
        struct xhci_trb ev = {
            .param = (uint64_t)port << 24,
            .status = (uint32_t)CC_SUCCESS << 24,
            .control = TRB_EV_PORT_STATUS << 10,
        };
        x->usbsts |= STS_PCD;
        if (x->usbcmd & CMD_RUN)
                xhci_event(x, &ev);
}
