/* A hostile guest against the xHCI model: bad context and buffer pointers,
 * malformed TDs, link-TRB loops, endless chains, oversized transfers,
 * nonsense commands, random rings, a command ring and an event ring outside
 * RAM. Each must end in an error completion, a halted endpoint or a
 * controller error (HCE) that a reset clears; never in a crash (run under
 * ASan/UBSan). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hv/usb/xhci_internal.h"
#include "../unit/harness.h"
#include "xdriver.h"

#define RAM     (16ull << 20)
#define OUTSIDE 0x7fff0000000ull /* far beyond guest RAM */

static struct vm vm;
static struct xd d;

static void put_trb(uint64_t addr, uint64_t param, uint32_t status, uint32_t control)
{
        uint8_t *p = xd_gpa(&d, addr);
        memcpy(p, &param, 8);
        memcpy(p + 8, &status, 4);
        memcpy(p + 12, &control, 4);
}

/* Points endpoint dci of slot at a fresh ring after a halt. */
static void recover(unsigned slot, unsigned dci)
{
        CHECK_EQ(xd_command(&d, 0, 0, TRB_RESET_EP << 10 | dci << 16 | slot << 24, NULL),
                 CC_SUCCESS);
        struct xd_ring *r = &d.xfer[slot][dci];
        xd_ring_init(&d, r, r->base);
        CHECK_EQ(
            xd_command(&d, r->base | 1, 0, TRB_SET_TR_DEQ << 10 | dci << 16 | slot << 24, NULL),
            CC_SUCCESS);
}

static unsigned last_transfer_cc(void)
{
        struct xd_event ev;
        unsigned cc = 0;
        while (xd_event_of(&d, TRB_EV_TRANSFER, &ev))
                cc = XD_EV_CC(&ev);
        return cc;
}

static void bad_commands(void)
{
        unsigned slot;
        CHECK_EQ(xd_command(&d, 0, 0, 40u << 10, NULL), CC_TRB); /* no such command */
        CHECK_EQ(xd_command(&d, 0, 0, TRB_NORMAL << 10, NULL), CC_TRB);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_ADDRESS_DEVICE << 10 | 200u << 24, NULL),
                 CC_SLOT_NOT_ENABLED);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_CONFIGURE_EP << 10 | 5u << 24, NULL),
                 CC_SLOT_NOT_ENABLED);
        REQUIRE(xd_command(&d, 0, 0, TRB_ENABLE_SLOT << 10, &slot) == CC_SUCCESS);
        /* Input context outside RAM; then a DCBAA entry outside RAM. */
        CHECK_EQ(xd_command(&d, OUTSIDE, 0, TRB_ADDRESS_DEVICE << 10 | slot << 24, NULL), CC_TRB);
        uint64_t bad = OUTSIDE;
        memcpy(xd_gpa(&d, XD_DCBAA + 8 * slot), &bad, 8);
        memset(xd_gpa(&d, XD_IN_CTX), 0, 33 * 32);
        uint32_t add = 3;
        memcpy(xd_gpa(&d, XD_IN_CTX + 4), &add, 4);
        CHECK_EQ(xd_command(&d, XD_IN_CTX, 0, TRB_ADDRESS_DEVICE << 10 | slot << 24, NULL), CC_TRB);
        /* Endpoint commands on a slot that has no device yet */
        CHECK_EQ(xd_command(&d, 0, 0, TRB_STOP_EP << 10 | 1 << 16 | slot << 24, NULL),
                 CC_EP_NOT_ENABLED);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_CONFIGURE_EP << 10 | slot << 24, NULL), CC_CONTEXT_STATE);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_DISABLE_SLOT << 10 | slot << 24, NULL), CC_SUCCESS);
        /* All slots taken: No Slots Available */
        unsigned n = 0;
        while (xd_command(&d, 0, 0, TRB_ENABLE_SLOT << 10, &slot) == CC_SUCCESS)
                n++;
        CHECK_EQ(n, XHCI_MAX_SLOTS);
        for (unsigned i = 1; i <= XHCI_MAX_SLOTS; i++)
                xd_command(&d, 0, 0, TRB_DISABLE_SLOT << 10 | i << 24, NULL);
}

static void bad_transfers(unsigned slot)
{
        struct xd_ring *r = &d.xfer[slot][2];
        unsigned moved;
        /* Buffer outside RAM */
        CHECK_EQ(xd_bulk(&d, slot, 2, OUTSIDE, 64, &moved), CC_DATA_BUFFER);
        recover(slot, 2);
        /* Buffer straddling the end of RAM */
        CHECK_EQ(xd_bulk(&d, slot, 2, RAM - 16, 64, &moved), CC_DATA_BUFFER);
        recover(slot, 2);
        /* Oversized TD: 40 chained TRBs of 128 KiB - 1 exceed the TD limit. */
        for (int i = 0; i < 40; i++)
                xd_ring_put(&d, r, XD_DATA, 0x1ffff,
                            TRB_NORMAL << 10 | (i < 39 ? TRB_CH : TRB_IOC));
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(last_transfer_cc(), CC_DATA_BUFFER);
        recover(slot, 2);
        /* Wrong TRB types on a bulk ring */
        xd_ring_put(&d, r, 0, 8, TRB_SETUP << 10 | TRB_IDT | TRB_IOC);
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(last_transfer_cc(), CC_TRB);
        recover(slot, 2);
        /* Link TRB pointing at itself */
        put_trb(r->base, r->base, 0, TRB_LINK << 10 | 1);
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(last_transfer_cc(), CC_TRB);
        recover(slot, 2);
        /* Two links pointing at each other, toggling cycle each time */
        put_trb(r->base, r->base + 16, 0, TRB_LINK << 10 | TRB_TC | 1);
        put_trb(r->base + 16, r->base, 0, TRB_LINK << 10 | TRB_TC | 0);
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(last_transfer_cc(), CC_TRB);
        recover(slot, 2);
        /* An endless chain: every TRB chained, the ring wraps without toggling. */
        for (int i = 0; i < XD_RING_TRBS - 1; i++)
                put_trb(r->base + 16ull * i, XD_DATA, 1, TRB_NORMAL << 10 | TRB_CH | 1);
        put_trb(r->base + 16ull * (XD_RING_TRBS - 1), r->base, 0, TRB_LINK << 10 | TRB_CH | 1);
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(last_transfer_cc(), CC_TRB);
        recover(slot, 2);
        /* Link to outside RAM */
        put_trb(r->base, OUTSIDE, 0, TRB_LINK << 10 | 1);
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(last_transfer_cc(), CC_TRB);
        recover(slot, 2);
        /* Set TR Dequeue outside RAM is refused (an empty doorbell restarts it first). */
        xd_doorbell(&d, slot, 2);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_STOP_EP << 10 | 2 << 16 | slot << 24, NULL), CC_SUCCESS);
        CHECK_EQ(xd_command(&d, OUTSIDE | 1, 0, TRB_SET_TR_DEQ << 10 | 2 << 16 | slot << 24, NULL),
                 CC_PARAMETER);
        /* Doorbells for endpoints and slots that do not exist are ignored. */
        xd_doorbell(&d, slot, 31);
        xd_doorbell(&d, slot, 0xff);
        xd_doorbell(&d, 15, 1);
        /* Control ring without a Setup TRB first */
        struct xd_ring *r0 = &d.xfer[slot][1];
        xd_ring_put(&d, r0, 0, 0, TRB_STATUS << 10 | TRB_IOC);
        xd_doorbell(&d, slot, 1);
        CHECK_EQ(last_transfer_cc(), CC_TRB);
        recover(slot, 1);
        /* Setup with a data buffer outside RAM */
        xd_ring_put(&d, r0, 0x0012000001000680ull, 8, TRB_SETUP << 10 | TRB_IDT | 3u << 16);
        xd_ring_put(&d, r0, OUTSIDE, 18, TRB_DATA << 10 | TRB_DIR_IN);
        xd_ring_put(&d, r0, 0, 0, TRB_STATUS << 10 | TRB_IOC);
        xd_doorbell(&d, slot, 1);
        CHECK_EQ(last_transfer_cc(), CC_DATA_BUFFER);
        recover(slot, 1);
        /* The endpoint still works afterwards. */
        memcpy(xd_gpa(&d, XD_DATA), "ok\n", 3);
        CHECK_EQ(xd_bulk(&d, slot, 2, XD_DATA, 3, &moved), CC_SUCCESS);
}

static void random_rings(unsigned slot)
{
        srand(1234);
        struct xd_ring *r = &d.xfer[slot][2];
        for (int round = 0; round < 200; round++) {
                uint8_t *p = xd_gpa(&d, r->base);
                for (int i = 0; i < 16 * XD_RING_TRBS; i++)
                        p[i] = (uint8_t)rand();
                for (int i = 0; i < XD_RING_TRBS; i++) {
                        p[16 * i + 12] |= 1;   /* guest-owned everywhere */
                        if (rand() % 4 == 0) { /* in-RAM buffers sometimes */
                                uint64_t a = XD_DATA + (uint64_t)(rand() % 0x10000);
                                memcpy(p + 16 * i, &a, 8);
                        }
                }
                xd_doorbell(&d, slot, 2);
                while (last_transfer_cc())
                        ;
                xd_command(&d, 0, 0, TRB_RESET_EP << 10 | 2 << 16 | slot << 24, NULL);
                xd_command(&d, 0, 0, TRB_STOP_EP << 10 | 2 << 16 | slot << 24, NULL);
                xd_command(&d, r->base | 1, 0, TRB_SET_TR_DEQ << 10 | 2 << 16 | slot << 24, NULL);
                /* Random commands too (slot, context pointers, types) */
                uint64_t param = rand() % 2 ? XD_IN_CTX : ((uint64_t)rand() << 20);
                uint8_t *ic = xd_gpa(&d, XD_IN_CTX);
                for (int i = 0; i < 33 * 32; i++)
                        ic[i] = (uint8_t)rand();
                unsigned type = 9 + (unsigned)rand() % 16;
                if (type != TRB_DISABLE_SLOT && type != TRB_ENABLE_SLOT)
                        xd_command(&d, param, 0,
                                   type << 10 | (unsigned)(rand() % 20) << 24 |
                                       (unsigned)(rand() & 0x1ff) << 16,
                                   NULL);
                CHECK(!(xd_rd(&d, d.op + 4) & STS_HCE));
        }
}

static void controller_errors(struct xhci *x)
{
        /* Command ring in a link loop: the controller stops with HCE. */
        put_trb(d.cmd.base + 16ull * d.cmd.idx, d.cmd.base + 16ull * d.cmd.idx, 0,
                TRB_LINK << 10 | (d.cmd.pcs ? 1 : 0));
        xd_doorbell(&d, 0, 0);
        CHECK(xd_rd(&d, d.op + 4) & STS_HCE);
        CHECK(xd_rd(&d, d.op + 4) & STS_HCH);
        /* HCRST recovers; then an event ring segment outside RAM fails again. */
        REQUIRE(xd_start(&d, &vm, x));
        CHECK(!(xd_rd(&d, d.op + 4) & STS_HCE));
        CHECK_EQ(xd_command(&d, 0, 0, TRB_NOOP_CMD << 10, NULL), CC_SUCCESS);
        uint64_t erst[2] = {OUTSIDE, 64};
        memcpy(xd_gpa(&d, XD_ERST), erst, 16);
        xd_wr(&d, d.rt + 0x30, (uint32_t)XD_ERST);
        xd_wr(&d, d.rt + 0x34, 0);
        CHECK(xd_rd(&d, d.op + 4) & STS_HCE);
        /* Command ring pointer outside RAM */
        REQUIRE(xd_start(&d, &vm, x));
        xd_wr(&d, d.op, 0);
        xd_wr(&d, d.op + 0x18, 0xfff00000u | CRCR_RCS);
        xd_wr(&d, d.op + 0x1c, 0x7ff);
        xd_wr(&d, d.op, CMD_RUN);
        xd_doorbell(&d, 0, 0);
        CHECK(xd_rd(&d, d.op + 4) & STS_HCE);
        /* Event ring full: 200 no-ops without consuming any event. */
        REQUIRE(xd_start(&d, &vm, x));
        for (int i = 0; i < 200; i++) {
                xd_ring_put(&d, &d.cmd, 0, 0, TRB_NOOP_CMD << 10);
                xd_doorbell(&d, 0, 0);
        }
        struct xd_event ev;
        unsigned n = 0, full = 0;
        while (xd_event(&d, &ev)) {
                n++;
                full += XD_EV_TYPE(&ev) == TRB_EV_HOST_CONTROLLER &&
                        XD_EV_CC(&ev) == CC_EVENT_RING_FULL;
        }
        /* All but one slot hold completions; the last one says "ring full". */
        CHECK_EQ(n, XD_RING_TRBS);
        CHECK_EQ(full, 1);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_NOOP_CMD << 10, NULL), CC_SUCCESS);
        /* Odd-sized and out-of-range register accesses */
        uint8_t b = 0xff;
        io_bus_dispatch(&vm.mmio, d.bar + d.op, &b, 1, true);
        uint16_t w;
        io_bus_dispatch(&vm.mmio, d.bar + 2, &w, 2, false);
        CHECK_EQ(w, 0x0120);
        CHECK(!(xd_rd(&d, d.op + 4) & STS_HCH));
}

int main(void)
{
        char err[256];
        vm.kvm_fd = vm.vm_fd = -1;
        pthread_mutex_init(&vm.lock, NULL);
        REQUIRE(guest_mem_init(&vm.mem, RAM) == 0);
        struct pci_bus *bus = pci_bus_create(&vm, err, sizeof(err));
        REQUIRE(bus);
        char spool[] = "/tmp/tandem-usb-spool-XXXXXX";
        int fd = mkstemp(spool);
        REQUIRE(fd >= 0);
        close(fd);
        struct xhci *x = xhci_create(bus, err, sizeof(err));
        REQUIRE(x);
        struct usb_device *prn = usb_printer_create(spool, err, sizeof(err));
        REQUIRE(prn && xhci_attach(x, prn, err, sizeof(err)) == 1);
        REQUIRE(xd_start(&d, &vm, x));

        bad_commands();
        unsigned slot = xd_enumerate(&d, 1, USB_SPEED_HIGH, 64);
        REQUIRE(slot);
        unsigned moved;
        CHECK_EQ(xd_control(&d, slot, 0, USB_REQ_SET_CONFIGURATION, 1, 0, 0, 0, &moved),
                 CC_SUCCESS);
        CHECK_EQ(xd_add_endpoint(&d, slot, 2, EPT_BULK_OUT, 512), CC_SUCCESS);
        /* Isochronous endpoints are not offered. */
        CHECK_EQ(xd_add_endpoint(&d, slot, 5, 5, 512), CC_RESOURCE);
        bad_transfers(slot);
        random_rings(slot);
        controller_errors(x);

        pci_bus_destroy(bus);
        guest_mem_destroy(&vm.mem);
        unlink(spool);
        TEST_END();
}
