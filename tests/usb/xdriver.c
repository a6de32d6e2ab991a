/* Test-side xHCI driver (see xdriver.h). */
#include <string.h>

#include "../../hv/usb/xhci_internal.h"
#include "xdriver.h"

void *xd_gpa(struct xd *d, uint64_t gpa)
{
        return guest_mem_ptr(&d->vm->mem, gpa, 1);
}

uint32_t xd_rd(struct xd *d, uint32_t off)
{
        uint32_t v = 0;
        io_bus_dispatch(&d->vm->mmio, d->bar + off, &v, 4, false);
        return v;
}

void xd_wr(struct xd *d, uint32_t off, uint32_t v)
{
        io_bus_dispatch(&d->vm->mmio, d->bar + off, &v, 4, true);
}

static void put_trb(struct xd *d, uint64_t addr, uint64_t param, uint32_t status, uint32_t control)
{
        uint8_t *p = guest_mem_ptr(&d->vm->mem, addr, 16);
        memcpy(p, &param, 8);
        memcpy(p + 8, &status, 4);
        memcpy(p + 12, &control, 4);
}

void xd_ring_init(struct xd *d, struct xd_ring *r, uint64_t base)
{
        memset(guest_mem_ptr(&d->vm->mem, base, 16 * XD_RING_TRBS), 0, 16 * XD_RING_TRBS);
        r->base = base;
        r->idx = 0;
        r->pcs = true;
}

uint64_t xd_ring_put(struct xd *d, struct xd_ring *r, uint64_t param, uint32_t status,
                     uint32_t control)
{
        uint64_t addr = r->base + 16ull * r->idx;
        put_trb(d, addr, param, status, (control & ~1u) | (r->pcs ? 1 : 0));
        if (++r->idx == XD_RING_TRBS - 1) {
                put_trb(d, r->base + 16ull * r->idx, r->base, 0,
                        TRB_LINK << 10 | TRB_TC | (r->pcs ? 1 : 0));
                r->idx = 0;
                r->pcs = !r->pcs;
        }
        return addr;
}

bool xd_start(struct xd *d, struct vm *vm, struct xhci *x)
{
        memset(d, 0, sizeof(*d));
        d->vm = vm;
        d->bar = xhci_pci(x)->bar[0].mapped_addr;
        uint32_t cap = xd_rd(d, 0);
        d->op = cap & 0xff;
        d->db = xd_rd(d, 0x14);
        d->rt = xd_rd(d, 0x18);
        xd_wr(d, d->op, CMD_HCRST);
        if (!(xd_rd(d, d->op + 4) & STS_HCH) || (xd_rd(d, d->op + 4) & STS_CNR))
                return false;
        memset(xd_gpa(d, XD_DCBAA), 0, 0x800);
        xd_wr(d, d->op + 0x38, 16);
        xd_wr(d, d->op + 0x30, (uint32_t)XD_DCBAA);
        xd_wr(d, d->op + 0x34, 0);
        xd_ring_init(d, &d->cmd, XD_CMD_RING);
        xd_wr(d, d->op + 0x18, (uint32_t)XD_CMD_RING | CRCR_RCS);
        xd_wr(d, d->op + 0x1c, 0);
        memset(xd_gpa(d, XD_EV_RING), 0, 16 * XD_RING_TRBS);
        uint64_t erst[2] = {XD_EV_RING, XD_RING_TRBS};
        memcpy(xd_gpa(d, XD_ERST), erst, 16);
        d->ev_ccs = true;
        xd_wr(d, d->rt + 0x28, 1);
        xd_wr(d, d->rt + 0x38, (uint32_t)XD_EV_RING);
        xd_wr(d, d->rt + 0x3c, 0);
        xd_wr(d, d->rt + 0x30, (uint32_t)XD_ERST);
        xd_wr(d, d->rt + 0x34, 0);
        xd_wr(d, d->rt + 0x20, IMAN_IE);
        xd_wr(d, d->op, CMD_RUN | CMD_INTE);
        return !(xd_rd(d, d->op + 4) & STS_HCH);
}

bool xd_event(struct xd *d, struct xd_event *ev)
{
        uint64_t addr = XD_EV_RING + 16ull * d->ev_idx;
        const uint8_t *p = guest_mem_ptr(&d->vm->mem, addr, 16);
        uint32_t control;
        memcpy(&control, p + 12, 4);
        if ((bool)(control & 1) != d->ev_ccs)
                return false;
        memcpy(&ev->param, p, 8);
        memcpy(&ev->status, p + 8, 4);
        ev->control = control;
        if (++d->ev_idx == XD_RING_TRBS) {
                d->ev_idx = 0;
                d->ev_ccs = !d->ev_ccs;
        }
        xd_wr(d, d->rt + 0x20, IMAN_IP | IMAN_IE);
        xd_wr(d, d->rt + 0x38, (uint32_t)(XD_EV_RING + 16ull * d->ev_idx) | ERDP_EHB);
        xd_wr(d, d->rt + 0x3c, 0);
        return true;
}

bool xd_event_of(struct xd *d, unsigned type, struct xd_event *ev)
{
        while (xd_event(d, ev))
                if (XD_EV_TYPE(ev) == type)
                        return true;
        return false;
}

void xd_doorbell(struct xd *d, unsigned slot, unsigned target)
{
        xd_wr(d, d->db + 4 * slot, target);
}

unsigned xd_command(struct xd *d, uint64_t param, uint32_t status, uint32_t control, unsigned *slot)
{
        uint64_t addr = xd_ring_put(d, &d->cmd, param, status, control);
        xd_doorbell(d, 0, 0);
        struct xd_event ev;
        while (xd_event_of(d, TRB_EV_CMD_COMPLETE, &ev)) {
                if (ev.param != addr)
                        continue;
                if (slot)
                        *slot = XD_EV_SLOT(&ev);
                return XD_EV_CC(&ev);
        }
        return 0; /* no completion at all */
}

static uint8_t *in_ctx(struct xd *d)
{
        uint8_t *c = xd_gpa(d, XD_IN_CTX);
        memset(c, 0, 33 * 32);
        return c;
}

static void set32(uint8_t *p, unsigned dword, uint32_t v)
{
        memcpy(p + 4 * dword, &v, 4);
}

unsigned xd_enumerate(struct xd *d, unsigned port, unsigned speed, unsigned ep0_mps)
{
        uint32_t sc = d->op + 0x400 + 16 * (port - 1);
        xd_wr(d, sc, PORT_PP | PORT_PR);
        if (!(xd_rd(d, sc) & PORT_PED))
                return 0;
        xd_wr(d, sc, PORT_PP | PORT_CHANGES);
        unsigned slot = 0;
        if (xd_command(d, 0, 0, TRB_ENABLE_SLOT << 10, &slot) != CC_SUCCESS || slot == 0)
                return 0;
        uint64_t out = XD_OUT_CTX + 0x1000ull * slot;
        memset(xd_gpa(d, out), 0, 0x400);
        memcpy(xd_gpa(d, XD_DCBAA + 8 * slot), &out, 8);
        struct xd_ring *r = &d->xfer[slot][1];
        xd_ring_init(d, r, XD_XFER + 0x400ull * (slot * 32 + 1));
        uint8_t *c = in_ctx(d);
        set32(c, 1, 3);
        set32(c + 32, 0, speed << 20 | 1u << 27);
        set32(c + 32, 1, port << 16);
        set32(c + 64, 1, 3u << 1 | EPT_CONTROL << 3 | ep0_mps << 16);
        set32(c + 64, 2, (uint32_t)r->base | 1);
        if (xd_command(d, XD_IN_CTX, 0, TRB_ADDRESS_DEVICE << 10 | slot << 24, NULL) != CC_SUCCESS)
                return 0;
        return slot;
}

unsigned xd_control(struct xd *d, unsigned slot, uint8_t type, uint8_t req, uint16_t value,
                    uint16_t index, uint16_t length, uint64_t buf, unsigned *moved)
{
        struct xd_ring *r = &d->xfer[slot][1];
        bool in = type & 0x80;
        uint64_t setup = type | (uint64_t)req << 8 | (uint64_t)value << 16 | (uint64_t)index << 32 |
                         (uint64_t)length << 48;
        unsigned trt = length ? (in ? 3 : 2) : 0;
        xd_ring_put(d, r, setup, 8, TRB_SETUP << 10 | TRB_IDT | trt << 16);
        if (length)
                xd_ring_put(d, r, buf, length, TRB_DATA << 10 | TRB_ISP | (in ? TRB_DIR_IN : 0));
        uint64_t st =
            xd_ring_put(d, r, 0, 0, TRB_STATUS << 10 | TRB_IOC | (in && length ? 0 : TRB_DIR_IN));
        xd_doorbell(d, slot, 1);
        *moved = length;
        struct xd_event ev;
        while (xd_event_of(d, TRB_EV_TRANSFER, &ev)) {
                unsigned cc = XD_EV_CC(&ev);
                if (cc == CC_SHORT_PACKET) {
                        *moved = length - XD_EV_LEN(&ev);
                        continue;
                }
                if (cc != CC_SUCCESS || ev.param == st)
                        return cc;
        }
        return 0;
}

unsigned xd_add_endpoint(struct xd *d, unsigned slot, unsigned dci, unsigned ept, unsigned mps)
{
        struct xd_ring *r = &d->xfer[slot][dci];
        xd_ring_init(d, r, XD_XFER + 0x400ull * (slot * 32 + dci));
        uint8_t *c = in_ctx(d);
        set32(c, 1, 1u | 1u << dci);
        set32(c + 32, 0, dci << 27);
        uint8_t *ep = c + 32 * (dci + 1);
        set32(ep, 1, 3u << 1 | ept << 3 | mps << 16);
        set32(ep, 2, (uint32_t)r->base | 1);
        return xd_command(d, XD_IN_CTX, 0, TRB_CONFIGURE_EP << 10 | slot << 24, NULL);
}

unsigned xd_bulk(struct xd *d, unsigned slot, unsigned dci, uint64_t buf, uint32_t len,
                 unsigned *moved)
{
        xd_ring_put(d, &d->xfer[slot][dci], buf, len, TRB_NORMAL << 10 | TRB_ISP | TRB_IOC);
        xd_doorbell(d, slot, dci);
        struct xd_event ev;
        if (!xd_event_of(d, TRB_EV_TRANSFER, &ev))
                return 0;
        *moved = len - XD_EV_LEN(&ev);
        return XD_EV_CC(&ev);
}
