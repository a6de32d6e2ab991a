/* PCI configuration space through 0xCF8/0xCFC: the host bridge at 00:00.0
 * and a virtio-blk function (vendor 0x1AF4, modern device 0x1042) with a
 * well-formed capability list holding the virtio structures and MSI-X. */
#include "guest.h"

const char test_name[] = "pci";

void test_main(const struct hvm_start_info *si)
{
        (void)si;
        uint32_t id = pci_read32(0, 0, 0);
        EXPECT(id == 0x00081b36, "host bridge id %08x, want 1b36:0008", id);
        EXPECT((pci_read32(0, 0, 8) >> 8) == 0x060000, "00:00.0 is not a host bridge");
        EXPECT(pci_read32(31, 7, 0) == 0xFFFFFFFF, "empty slot 31.7 answers");
        outl(0xCF8, 0x00000000); /* enable bit clear: data port decodes nothing */
        EXPECT(inl(0xCFC) == 0xFFFFFFFF, "config data readable with the enable bit clear");

        int bdf = pci_find(0x1AF4, 0x1042);
        EXPECT(bdf >= 0, "no virtio-blk (1af4:1042) on bus 0");
        unsigned dev = (unsigned)bdf >> 3, fn = (unsigned)bdf & 7;
        printf("pci: virtio-blk at 00:%02x.%u\n", dev, fn);
        uint32_t class = pci_read32(dev, fn, 8) >> 8;
        EXPECT((class >> 16) == 0x01, "virtio-blk class 0x%06x is not mass storage", class);
        EXPECT(pci_read16(dev, fn, 0x2C) == 0x1AF4, "subsystem vendor is not 0x1AF4");
        EXPECT(pci_read16(dev, fn, 6) & 0x10, "status: no capability list");

        unsigned seen_types = 0, msix = 0, n = 0;
        uint8_t ptr = pci_read8(dev, fn, 0x34) & 0xFC;
        while (ptr) {
                EXPECT(ptr >= 0x40, "capability pointer 0x%02x inside the header", ptr);
                EXPECT(++n < 48, "capability list loops");
                uint8_t cap = pci_read8(dev, fn, ptr);
                if (cap == 0x09) { /* vendor-specific: struct virtio_pci_cap */
                        uint8_t type = pci_read8(dev, fn, ptr + 3);
                        uint8_t bar = pci_read8(dev, fn, ptr + 4);
                        EXPECT(type >= 1 && type <= 5, "virtio cap type %u", type);
                        EXPECT(type == 5 || bar < 6, "virtio cap %u names BAR %u", type, bar);
                        seen_types |= 1u << type;
                } else if (cap == 0x11) {
                        msix++;
                }
                ptr = pci_read8(dev, fn, ptr + 1) & 0xFC;
        }
        /* common, notify, ISR, device config, PCI config access */
        EXPECT((seen_types & 0x3E) == 0x3E, "virtio capabilities incomplete (mask 0x%x)",
               seen_types);
        EXPECT(msix == 1, "%u MSI-X capabilities", msix);
        printf("pci: %u capabilities, virtio types mask 0x%x\n", n, seen_types);
}
