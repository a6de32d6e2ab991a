/* PCI bus and virtio-pci, driven only through port and MMIO dispatch as a
 * guest would: config mechanism #1, the capability list, BAR sizing and
 * relocation, a full virtio handshake through the common configuration, a
 * request kicked through the notify region, MSI-X masking and pending bits,
 * INTx with ISR, the PCI_CFG window, and NEEDS_RESET isolation. The struct vm
 * has no KVM behind it (vm_fd -1): interrupt injection calls fail quietly and
 * the PCI-side state is what is checked. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "harness.h"
#include "../../hv/pci/pci.h"
#include "vdriver.h"
#include "../../hv/pci/virtio_pci.h"

#define RAM  (16ull << 20)
#define Q0   0x1000
#define RNGQ 0x4000
#define DATA 0x20000

static struct vm vm;

static void outl(uint16_t port, uint32_t v)
{
        io_bus_dispatch(&vm.pio, port, &v, 4, true);
}

static uint32_t inl(uint16_t port)
{
        uint32_t v;
        io_bus_dispatch(&vm.pio, port, &v, 4, false);
        return v;
}

static uint32_t cfg_addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
        return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read32(unsigned slot, unsigned reg)
{
        outl(0xcf8, cfg_addr(0, slot, 0, reg));
        return inl(0xcfc);
}

static uint8_t cfg_read8(unsigned slot, unsigned reg)
{
        outl(0xcf8, cfg_addr(0, slot, 0, reg));
        uint8_t v;
        io_bus_dispatch(&vm.pio, 0xcfc + (reg & 3), &v, 1, false);
        return v;
}

static void cfg_write32(unsigned slot, unsigned reg, uint32_t v)
{
        outl(0xcf8, cfg_addr(0, slot, 0, reg));
        outl(0xcfc, v);
}

static void cfg_write16(unsigned slot, unsigned reg, uint16_t v)
{
        outl(0xcf8, cfg_addr(0, slot, 0, reg));
        io_bus_dispatch(&vm.pio, 0xcfc + (reg & 2), &v, 2, true);
}

static bool mmio(uint64_t addr, void *v, unsigned len, bool w)
{
        return io_bus_dispatch(&vm.mmio, addr, v, len, w);
}

static uint64_t rd(uint64_t addr, unsigned len)
{
        uint64_t v = 0;
        mmio(addr, &v, len, false);
        return v;
}

static void wr(uint64_t addr, uint64_t v, unsigned len)
{
        mmio(addr, &v, len, true);
}

/* Walks the capability list for a virtio cap of the given type. */
static unsigned find_virtio_cap(unsigned slot, uint8_t type)
{
        unsigned off = cfg_read8(slot, PCI_CAPABILITY_LIST);
        for (int guard = 0; off && guard < 48; guard++) {
                if (cfg_read8(slot, off) == PCI_CAP_ID_VNDR && cfg_read8(slot, off + 3) == type)
                        return off;
                off = cfg_read8(slot, off + 1);
        }
        return 0;
}

static unsigned find_cap(unsigned slot, uint8_t id)
{
        unsigned off = cfg_read8(slot, PCI_CAPABILITY_LIST);
        for (int guard = 0; off && guard < 48; guard++) {
                if (cfg_read8(slot, off) == id)
                        return off;
                off = cfg_read8(slot, off + 1);
        }
        return 0;
}

static void test_config_space(void)
{
        CHECK_EQ(cfg_read32(0, 0), 0x00081b36u);    /* host bridge */
        CHECK_EQ(cfg_read32(0, 8) >> 8, 0x060000u); /* class: host bridge */
        CHECK_EQ(cfg_read32(1, 0), 0x10421af4u);    /* virtio-blk, modern */
        CHECK_EQ(cfg_read32(2, 0), 0x10441af4u);    /* virtio-rng */
        CHECK_EQ(cfg_read8(1, PCI_REVISION_ID), 1);
        CHECK_EQ(cfg_read32(1, PCI_SUBSYSTEM_VENDOR_ID), 0x10421af4u);
        CHECK_EQ(cfg_read32(5, 0), 0xffffffffu); /* empty slot */
        outl(0xcf8, cfg_addr(0, 1, 1, 0));       /* function 1 */
        CHECK_EQ(inl(0xcfc), 0xffffffffu);
        outl(0xcf8, cfg_addr(1, 1, 0, 0)); /* bus 1 */
        CHECK_EQ(inl(0xcfc), 0xffffffffu);
        outl(0xcf8, cfg_addr(0, 1, 0, 0) & ~0x80000000u); /* enable bit clear */
        CHECK_EQ(inl(0xcfc), 0xffffffffu);
        outl(0xcf8, 0x80000000u); /* Linux's type 1 probe reads the latch back */
        CHECK_EQ(inl(0xcf8), 0x80000000u);
        CHECK_EQ(cfg_read8(1, PCI_HEADER_TYPE), 0);
        CHECK(cfg_read32(1, PCI_COMMAND) >> 16 & PCI_STATUS_CAP_LIST);
        CHECK_EQ(cfg_read8(1, PCI_INTERRUPT_PIN), 1);
        CHECK(cfg_read8(1, PCI_INTERRUPT_LINE) != 0);

        /* virtio structures, all in BAR 0 */
        struct {
                uint8_t type;
                uint32_t off;
        } caps[] = {{VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF},
                    {VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF},
                    {VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF},
                    {VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF},
                    {VIRTIO_PCI_CAP_PCI_CFG, 0}};
        for (unsigned i = 0; i < 5; i++) {
                unsigned c = find_virtio_cap(1, caps[i].type);
                CHECK(c != 0);
                CHECK_EQ(cfg_read8(1, c + 4), VIRTIO_PCI_BAR);
                CHECK_EQ(cfg_read32(1, c + 8), caps[i].off);
        }
        unsigned n = find_virtio_cap(1, VIRTIO_PCI_CAP_NOTIFY_CFG);
        CHECK_EQ(cfg_read32(1, n + 16), VIRTIO_PCI_NOTIFY_MULT);
        CHECK_EQ(cfg_read32(1, find_virtio_cap(1, VIRTIO_PCI_CAP_DEVICE_CFG) + 12), 60);
        CHECK_EQ(find_virtio_cap(2, VIRTIO_PCI_CAP_DEVICE_CFG), 0); /* rng has no config */
        unsigned m = find_cap(1, PCI_CAP_ID_MSIX);
        CHECK(m != 0);
        CHECK_EQ(cfg_read32(1, m) >> 16 & 0x7ff, 1); /* 2 vectors: config + 1 queue */
        CHECK_EQ(cfg_read32(1, m + 4), VIRTIO_PCI_MSIX_TABLE_OFF | VIRTIO_PCI_BAR);
        CHECK_EQ(cfg_read32(1, m + 8), VIRTIO_PCI_MSIX_PBA_OFF | VIRTIO_PCI_BAR);

        /* read-only fields stay put */
        cfg_write32(1, 0, 0x12345678);
        CHECK_EQ(cfg_read32(1, 0), 0x10421af4u);
}

static uint64_t bar0(unsigned slot)
{
        return cfg_read32(slot, PCI_BAR0) & ~15u;
}

static void test_bars(void)
{
        uint64_t base = bar0(1);
        CHECK(base >= PCI_MMIO_WINDOW_BASE && base < PCI_MMIO_WINDOW_BASE + PCI_MMIO_WINDOW_SIZE);
        CHECK_EQ(base % VIRTIO_PCI_BAR_SIZE, 0);
        CHECK(bar0(2) != base);
        CHECK_EQ(rd(base + VIRTIO_PCI_COMMON_NUMQ, 2), 1);

        /* sizing, as Linux does it: decode off, all ones, read, restore */
        uint32_t cmd = cfg_read32(1, PCI_COMMAND) & 0xffff;
        cfg_write16(1, PCI_COMMAND, (uint16_t)(cmd & ~PCI_COMMAND_MEMORY));
        uint64_t dummy;
        CHECK(!mmio(base, &dummy, 4, false)); /* decode off */
        cfg_write32(1, PCI_BAR0, 0xffffffff);
        CHECK_EQ(cfg_read32(1, PCI_BAR0), (uint32_t) ~(VIRTIO_PCI_BAR_SIZE - 1));
        cfg_write32(1, PCI_BAR0 + 4, 0xffffffff); /* unimplemented BAR1 reads 0 */
        CHECK_EQ(cfg_read32(1, PCI_BAR0 + 4), 0);
        /* relocate to a new address and decode again */
        uint64_t moved = PCI_MMIO_WINDOW_BASE + 0x8000000;
        cfg_write32(1, PCI_BAR0, (uint32_t)moved);
        cfg_write16(1, PCI_COMMAND, (uint16_t)cmd);
        CHECK_EQ(bar0(1), moved);
        CHECK(!mmio(base, &dummy, 4, false));
        CHECK_EQ(rd(moved + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
        /* moving onto another device's BAR leaves this one unmapped, not overlapping */
        cfg_write32(1, PCI_BAR0, (uint32_t)bar0(2));
        CHECK_EQ(rd(bar0(2) + VIRTIO_PCI_COMMON_NUMQ, 2), 1); /* rng still answers */
        cfg_write32(1, PCI_BAR0, (uint32_t)base);
        CHECK_EQ(rd(base + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
        CHECK(!mmio(moved, &dummy, 4, false));
}

/* Full driver handshake through the common configuration. */
static void bring_up(uint64_t b, struct vd_queue *q, uint16_t qsize, uint64_t qbase)
{
        wr(b + VIRTIO_PCI_COMMON_STATUS, 0, 1);
        wr(b + VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
        wr(b + VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
        wr(b + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
        uint32_t hi = (uint32_t)rd(b + VIRTIO_PCI_COMMON_DF, 4);
        CHECK(hi & 1); /* VERSION_1 */
        wr(b + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
        uint32_t lo = (uint32_t)rd(b + VIRTIO_PCI_COMMON_DF, 4);
        CHECK(lo & (1u << VIRTIO_F_RING_EVENT_IDX));
        wr(b + VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
        wr(b + VIRTIO_PCI_COMMON_GF, lo, 4);
        wr(b + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
        wr(b + VIRTIO_PCI_COMMON_GF, hi, 4);
        wr(b + VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
        wr(b + VIRTIO_PCI_COMMON_MSIX, 0, 2);
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_MSIX, 2), 0);
        wr(b + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
        CHECK(rd(b + VIRTIO_PCI_COMMON_Q_SIZE, 2) >= qsize);
        wr(b + VIRTIO_PCI_COMMON_Q_SIZE, qsize, 2);
        wr(b + VIRTIO_PCI_COMMON_Q_MSIX, 7, 2); /* no such vector */
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_Q_MSIX, 2), 0xffff);
        wr(b + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
        vd_queue_init(q, &vm.mem, qbase, qsize);
        /* 64-bit fields written as two halves, as Linux does */
        wr(b + VIRTIO_PCI_COMMON_Q_DESC, (uint32_t)q->desc, 4);
        wr(b + VIRTIO_PCI_COMMON_Q_DESC + 4, q->desc >> 32, 4);
        wr(b + VIRTIO_PCI_COMMON_Q_AVAIL, (uint32_t)q->avail, 4);
        wr(b + VIRTIO_PCI_COMMON_Q_AVAIL + 4, 0, 4);
        wr(b + VIRTIO_PCI_COMMON_Q_USED, q->used, 8);
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_Q_AVAIL, 8), q->avail);
        wr(b + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
        wr(b + VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
        CHECK_EQ(rd(b + VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
}

/* One rng request of 32 bytes kicked through the notify region. */
static bool rng_request(uint64_t b, struct vd_queue *q, uint64_t buf)
{
        struct vd_buf vb = {buf, 32, true};
        vd_set_used_event(q, q->used_seen); /* EVENT_IDX: interrupt on the next one */
        vd_add_chain(q, &vb, 1);
        wr(b + VIRTIO_PCI_NOTIFY_OFF, 0, 2);
        uint32_t id, len;
        return vd_get_used(q, &id, &len) && len == 32;
}

static void test_virtio_and_msix(struct pci_bus *bus)
{
        uint64_t b = bar0(2);
        struct pci_device *dev = pci_bus_device(bus, 2);
        REQUIRE(dev);
        struct vd_queue q;
        bring_up(b, &q, 8, RNGQ);

        /* INTx path (MSI-X off): ISR bit 0, cleared by the read */
        CHECK(rng_request(b, &q, DATA));
        CHECK(cfg_read32(2, PCI_COMMAND) >> 16 & PCI_STATUS_INTERRUPT);
        CHECK_EQ(rd(b + VIRTIO_PCI_ISR_OFF, 1), 1);
        CHECK_EQ(rd(b + VIRTIO_PCI_ISR_OFF, 1), 0);
        CHECK(!(cfg_read32(2, PCI_COMMAND) >> 16 & PCI_STATUS_INTERRUPT));

        /* MSI-X on; vectors start masked, so the interrupt becomes pending */
        unsigned m = find_cap(2, PCI_CAP_ID_MSIX);
        cfg_write16(2, m + 2, 0x8000);
        CHECK(cfg_read32(2, m) >> 31);
        uint64_t table = b + VIRTIO_PCI_MSIX_TABLE_OFF, pba = b + VIRTIO_PCI_MSIX_PBA_OFF;
        CHECK_EQ(rd(table + 16 + 12, 4), 1); /* vector 1 masked */
        uint64_t sent = dev->irqs_sent;
        CHECK(rng_request(b, &q, DATA));
        CHECK_EQ(rd(pba, 8), 2); /* vector 1 pending */
        CHECK_EQ(dev->irqs_sent, sent);
        CHECK_EQ(rd(b + VIRTIO_PCI_ISR_OFF, 1), 0); /* no INTx with MSI-X */
        wr(table + 16, 0xfee00000, 4);
        wr(table + 16 + 8, 0x41, 4);
        CHECK_EQ(rd(table + 16, 4), 0xfee00000);
        wr(table + 16 + 12, 0, 4); /* unmask: the pending message goes out */
        CHECK_EQ(rd(pba, 8), 0);
        CHECK_EQ(dev->irqs_sent, sent + 1);
        CHECK(rng_request(b, &q, DATA));
        CHECK_EQ(dev->irqs_sent, sent + 2);
        /* function mask holds everything back */
        cfg_write16(2, m + 2, 0xc000);
        CHECK(rng_request(b, &q, DATA));
        CHECK_EQ(dev->irqs_sent, sent + 2);
        CHECK_EQ(rd(pba, 8), 2);
        cfg_write16(2, m + 2, 0x8000);
        CHECK_EQ(dev->irqs_sent, sent + 3);
        CHECK_EQ(rd(pba, 8), 0);
        /* out-of-range table and PBA accesses are harmless */
        uint64_t junk = ~0ull;
        mmio(table + 0x7f0, &junk, 8, true);
        mmio(pba + 0x100, &junk, 8, true);
        CHECK_EQ(rd(pba, 8), 0);
}

static void test_needs_reset_isolation(struct pci_bus *bus)
{
        uint64_t blk = bar0(1), rngb = bar0(2);
        struct vd_queue rq;
        bring_up(rngb, &rq, 8, RNGQ);
        /* capacity through the device-specific region */
        CHECK_EQ(rd(blk + VIRTIO_PCI_DEVICE_OFF, 8), 2048);
        CHECK_EQ(rd(blk + VIRTIO_PCI_DEVICE_OFF + 60, 4), 0); /* past config: reads 0 */

        /* blk: a queue size that is not a power of two */
        wr(blk + VIRTIO_PCI_COMMON_STATUS, 0, 1);
        wr(blk + VIRTIO_PCI_COMMON_STATUS, 3, 1);
        wr(blk + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
        wr(blk + VIRTIO_PCI_COMMON_GF, 1, 4);
        wr(blk + VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
        wr(blk + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
        wr(blk + VIRTIO_PCI_COMMON_Q_SIZE, 12, 2);
        wr(blk + VIRTIO_PCI_COMMON_Q_DESC, Q0, 8);
        wr(blk + VIRTIO_PCI_COMMON_Q_AVAIL, Q0 + 0x1000, 8);
        wr(blk + VIRTIO_PCI_COMMON_Q_USED, Q0 + 0x2000, 8);
        uint8_t gen = (uint8_t)rd(blk + VIRTIO_PCI_COMMON_CFGGENERATION, 1);
        wr(blk + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        CHECK(rd(blk + VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
        CHECK_EQ(rd(blk + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
        CHECK(rd(blk + VIRTIO_PCI_COMMON_CFGGENERATION, 1) != gen);
        CHECK_EQ(rd(blk + VIRTIO_PCI_ISR_OFF, 1), 2); /* config change, INTx */
        /* the other device is unaffected */
        CHECK(rng_request(rngb, &rq, DATA));
        /* reset clears it */
        wr(blk + VIRTIO_PCI_COMMON_STATUS, 0, 1);
        CHECK_EQ(rd(blk + VIRTIO_PCI_COMMON_STATUS, 1), 0);
        /* queue_select past the end: size 0, writes ignored */
        wr(blk + VIRTIO_PCI_COMMON_Q_SELECT, 5, 2);
        CHECK_EQ(rd(blk + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
        wr(blk + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        /* kicks for queues that do not exist, odd widths, unaligned offsets */
        wr(blk + VIRTIO_PCI_NOTIFY_OFF + 0xffc, 0, 4);
        wr(blk + 0x3f, ~0ull, 8);
        wr(blk + VIRTIO_PCI_COMMON_OFF + 0x3e, ~0ull, 4);
        CHECK_EQ(rd(blk + VIRTIO_PCI_COMMON_NUMQ, 2), 1);

        /* VIRTIO_PCI_CAP_PCI_CFG: read num_queues through config space */
        unsigned c = find_virtio_cap(1, VIRTIO_PCI_CAP_PCI_CFG);
        cfg_write32(1, c + 4, VIRTIO_PCI_BAR);
        cfg_write32(1, c + 8, VIRTIO_PCI_COMMON_NUMQ);
        cfg_write32(1, c + 12, 2);
        CHECK_EQ(cfg_read32(1, c + 16) & 0xffff, 1);
        cfg_write32(1, c + 12, 3); /* bad length: ignored */
        cfg_read32(1, c + 16);
        (void)bus;
}

int main(void)
{
        memset(&vm, 0, sizeof(vm));
        vm.kvm_fd = vm.vm_fd = -1;
        pthread_mutex_init(&vm.lock, NULL);
        REQUIRE(guest_mem_init(&vm.mem, RAM) == 0);
        char err[200];
        struct pci_bus *bus = pci_bus_create(&vm, err, sizeof(err));
        REQUIRE(bus);
        CHECK(pci_bus_create(&vm, err, sizeof(err)) == NULL); /* ports already claimed */

        char img[] = "/tmp/tandem-pci-XXXXXX";
        int fd = mkstemp(img);
        REQUIRE(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
        close(fd);
        struct virtio_device *blk = virtio_blk_create(&vm.mem, NULL, img, false, err, sizeof(err));
        struct virtio_device *rng = virtio_rng_create(&vm.mem, err, sizeof(err));
        REQUIRE(blk && rng);
        REQUIRE(virtio_pci_add(bus, blk, err, sizeof(err)) == 0);
        REQUIRE(virtio_pci_add(bus, rng, err, sizeof(err)) == 0);
        CHECK(virtio_pci_add(bus, rng, err, sizeof(err)) < 0); /* already attached */

        test_config_space();
        test_bars();
        test_virtio_and_msix(bus);
        test_needs_reset_isolation(bus);

        pci_bus_destroy(bus);
        CHECK_EQ(vm.pio.count, 0);
        CHECK_EQ(vm.mmio.count, 0);
        virtio_device_destroy(blk);
        virtio_device_destroy(rng);
        unlink(img);
        guest_mem_destroy(&vm.mem);
        TEST_END();
}
