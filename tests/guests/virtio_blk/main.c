/* virtio-blk end to end, as a driver would do it from the virtio 1.2 spec:
 * find the PCI function, map its capabilities, negotiate VERSION_1, set up
 * split virtqueue 0 in guest RAM, read sector 0 (the host wrote a known
 * pattern: byte i = i*7+3), write sector 1 (byte i = i^0x5A, checked by the
 * host after the VM exits), polling the used ring. */
#include "guest.h"

const char test_name[] = "virtio_blk";

#define QSIZE        8
#define DESC_F_NEXT  1
#define DESC_F_WRITE 2

/* virtio_pci_common_cfg offsets (virtio 1.2, 4.1.4.3) */
#define CC_DFSELECT 0
#define CC_DF       4
#define CC_GFSELECT 8
#define CC_GF       12
#define CC_NUMQ     18
#define CC_STATUS   20
#define CC_Q_SELECT 22
#define CC_Q_SIZE   24
#define CC_Q_MSIX   26
#define CC_Q_ENABLE 28
#define CC_Q_NOFF   30
#define CC_Q_DESC   32
#define CC_Q_DRIVER 40
#define CC_Q_DEVICE 48

#define S_ACK         1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64

struct desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
};
struct avail {
        uint16_t flags, idx, ring[QSIZE], used_event;
};
struct used_elem {
        uint32_t id, len;
};
struct used {
        uint16_t flags, idx;
        struct used_elem ring[QSIZE];
        uint16_t avail_event;
};
struct blk_req {
        uint32_t type, reserved;
        uint64_t sector;
};

static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(4)));
static volatile struct used used __attribute__((aligned(4)));
static struct blk_req req;
static uint8_t data[512] __attribute__((aligned(16)));
static volatile uint8_t status;

static unsigned dev, fn;
static uint32_t common, notify, devcfg;

static uint32_t bar_address(unsigned bar)
{
        uint32_t lo = pci_read32(dev, fn, 0x10 + 4 * bar);
        EXPECT(!(lo & 1), "BAR %u is an I/O BAR", bar);
        if (((lo >> 1) & 3) == 2)
                EXPECT(pci_read32(dev, fn, 0x14 + 4 * bar) == 0, "BAR %u above 4 GiB", bar);
        EXPECT((lo & ~0xFu) != 0, "BAR %u unassigned", bar);
        return lo & ~0xFu;
}

static void find_structures(void)
{
        uint32_t notify_mult = 0;
        uint8_t ptr = pci_read8(dev, fn, 0x34) & 0xFC;
        for (int n = 0; ptr && n < 48; n++) {
                if (pci_read8(dev, fn, ptr) == 0x09) {
                        uint8_t type = pci_read8(dev, fn, ptr + 3);
                        uint8_t bar = pci_read8(dev, fn, ptr + 4);
                        uint32_t off = pci_read32(dev, fn, ptr + 8);
                        if (type == 1)
                                common = bar_address(bar) + off;
                        else if (type == 2) {
                                notify = bar_address(bar) + off;
                                notify_mult = pci_read32(dev, fn, ptr + 16);
                        } else if (type == 4)
                                devcfg = bar_address(bar) + off;
                }
                ptr = pci_read8(dev, fn, ptr + 1) & 0xFC;
        }
        EXPECT(common && notify && devcfg, "virtio structures missing (%x %x %x)", common, notify,
               devcfg);
        mmio_write16(common + CC_Q_SELECT, 0);
        notify += mmio_read16(common + CC_Q_NOFF) * notify_mult;
}

static void write64(uint32_t addr, uint64_t v)
{
        mmio_write32(addr, (uint32_t)v);
        mmio_write32(addr + 4, (uint32_t)(v >> 32));
}

static void init_device(void)
{
        mmio_write8(common + CC_STATUS, 0);
        for (int i = 0; i < 1000 && mmio_read8(common + CC_STATUS); i++)
                io_delay();
        EXPECT(mmio_read8(common + CC_STATUS) == 0, "device does not reset");
        mmio_write8(common + CC_STATUS, S_ACK);
        mmio_write8(common + CC_STATUS, S_ACK | S_DRIVER);
        mmio_write32(common + CC_DFSELECT, 1);
        EXPECT(mmio_read32(common + CC_DF) & 1, "device does not offer VIRTIO_F_VERSION_1");
        mmio_write32(common + CC_GFSELECT, 0);
        mmio_write32(common + CC_GF, 0);
        mmio_write32(common + CC_GFSELECT, 1);
        mmio_write32(common + CC_GF, 1);
        mmio_write8(common + CC_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
        EXPECT(mmio_read8(common + CC_STATUS) & S_FEATURES_OK, "FEATURES_OK not accepted");
        EXPECT(mmio_read16(common + CC_NUMQ) >= 1, "no virtqueues");

        mmio_write16(common + CC_Q_SELECT, 0);
        uint16_t max = mmio_read16(common + CC_Q_SIZE);
        EXPECT(max >= QSIZE, "queue 0 holds only %u descriptors", max);
        mmio_write16(common + CC_Q_SIZE, QSIZE);
        mmio_write16(common + CC_Q_MSIX, 0xFFFF); /* no interrupts: we poll */
        write64(common + CC_Q_DESC, (uint32_t)descs);
        write64(common + CC_Q_DRIVER, (uint32_t)&avail);
        write64(common + CC_Q_DEVICE, (uint32_t)&used);
        mmio_write16(common + CC_Q_ENABLE, 1);
        mmio_write8(common + CC_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

/* One request: header, 512 data bytes, status byte. */
static void transfer(uint32_t type, uint64_t sector)
{
        req = (struct blk_req){.type = type, .sector = sector};
        status = 0xFF;
        descs[0] = (struct desc){(uint32_t)&req, sizeof(req), DESC_F_NEXT, 1};
        descs[1] = (struct desc){(uint32_t)data, sizeof(data),
                                 (uint16_t)(DESC_F_NEXT | (type == 0 ? DESC_F_WRITE : 0)), 2};
        descs[2] = (struct desc){(uint32_t)&status, 1, DESC_F_WRITE, 0};
        uint16_t want = (uint16_t)(used.idx + 1);
        avail.ring[avail.idx % QSIZE] = 0;
        barrier();
        avail.idx++;
        barrier();
        mmio_write16(notify, 0);
        for (int i = 0; i < 200000 && used.idx != want; i++)
                io_delay();
        EXPECT(used.idx == want, "no completion for request type %u (used.idx %u)", type, used.idx);
        EXPECT(!(mmio_read8(common + CC_STATUS) & S_NEEDS_RESET), "device needs reset");
        EXPECT(used.ring[(want - 1) % QSIZE].id == 0, "completion for an unknown chain");
        EXPECT(status == 0, "request type %u sector %u: status %u", type, (uint32_t)sector, status);
}

void test_main(const struct hvm_start_info *si)
{
        (void)si;
        int bdf = pci_find(0x1AF4, 0x1042);
        EXPECT(bdf >= 0, "no virtio-blk (1af4:1042) on bus 0");
        dev = (unsigned)bdf >> 3;
        fn = (unsigned)bdf & 7;
        pci_write16(dev, fn, 4, pci_read16(dev, fn, 4) | 0x6); /* memory + bus master */
        find_structures();
        init_device();
        uint32_t cap_lo = mmio_read32(devcfg), cap_hi = mmio_read32(devcfg + 4);
        EXPECT(cap_hi == 0 && cap_lo == 2048, "capacity %u sectors, want 2048 (1 MiB disk)",
               cap_lo);

        transfer(0, 0);
        for (unsigned i = 0; i < 512; i++)
                EXPECT(data[i] == (uint8_t)(i * 7 + 3), "sector 0 byte %u is 0x%02x", i, data[i]);
        printf("virtio_blk: read sector 0, pattern ok\n");
        for (unsigned i = 0; i < 512; i++)
                data[i] = (uint8_t)(i ^ 0x5A);
        transfer(1, 1);
        printf("virtio_blk: wrote sector 1\n");
        memset(data, 0, sizeof(data));
        transfer(0, 1);
        EXPECT(data[0] == 0x5A && data[511] == (uint8_t)(511 ^ 0x5A), "sector 1 reads back wrong");
        mmio_write8(common + CC_STATUS, 0);
}
