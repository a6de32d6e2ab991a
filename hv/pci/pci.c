/* PCI bus 0: configuration mechanism #1, the host bridge, type 0 config
 * space with BAR sizing and relocation, capability lists, and INTx. */
#include "pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci_internal.h"

/* Host bridge identity: a generic Red Hat/QEMU-compatible host bridge ID that
 * no Linux quirk matches. */
#define HOST_BRIDGE_VENDOR    0x1b36
#define HOST_BRIDGE_DEVICE    0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

/* ISA IRQs that are free on our platform and need no MP/ACPI routing entry:
 * Linux falls back to the Interrupt Line register for them. */
static const unsigned intx_gsis[] = {10, 11};

struct pci_bus {
        struct vm *vm;
        uint32_t config_addr;
        struct pci_device *slot[PCI_MAX_SLOTS];
        struct pci_device host;
        uint64_t next_mmio;
        uint32_t next_io;
        unsigned next_intx;
};

void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
                     const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
                     uint8_t revision)
{
        memset(dev, 0, sizeof(*dev));
        dev->ops = ops;
        dev->opaque = opaque;
        dev->name = name;
        dev->intx_gsi = -1;
        dev->next_cap = 0x40;
        for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
                dev->bar[i].dev = dev;
                dev->bar[i].index = i;
        }
        pci_cfg_set16(dev, PCI_VENDOR_ID, vendor);
        pci_cfg_set16(dev, PCI_DEVICE_ID, device);
        dev->cfg[PCI_REVISION_ID] = revision;
        dev->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
        pci_cfg_set16(dev, PCI_CLASS_PROG + 1, (uint16_t)(class_code >> 8));
        /* command: I/O, memory, bus master, INTx disable */
        dev->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        dev->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
        dev->wmask[0x0c] = 0xff; /* cache line size */
        dev->wmask[0x0d] = 0xff; /* latency timer */
        dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_device_set_subsystem(struct pci_device *dev, uint16_t vendor, uint16_t id)
{
        pci_cfg_set16(dev, PCI_SUBSYSTEM_VENDOR_ID, vendor);
        pci_cfg_set16(dev, PCI_SUBSYSTEM_ID, id);
}

static uint32_t cfg_get32(const struct pci_device *dev, unsigned off)
{
        uint32_t v;
        memcpy(&v, dev->cfg + off, 4);
        return v;
}

static uint16_t cfg_get16(const struct pci_device *dev, unsigned off)
{
        uint16_t v;
        memcpy(&v, dev->cfg + off, 2);
        return v;
}

int pci_device_add_bar(struct pci_device *dev, unsigned bar, uint64_t size, unsigned flags)
{
        bool io = flags & PCI_BAR_IO, is64 = flags & PCI_BAR_MEM64;
        if (bar >= PCI_NUM_BARS || (is64 && bar + 1 >= PCI_NUM_BARS) || dev->bar[bar].size)
                return -EINVAL;
        if (size & (size - 1) || size < (io ? 4u : 16u) || (io && size > 256))
                return -EINVAL;
        dev->bar[bar].size = size;
        dev->bar[bar].flags = flags;
        uint32_t low = io ? 1u : (is64 ? 4u : 0u) | ((flags & PCI_BAR_PREFETCH) ? 8u : 0u);
        pci_cfg_set32(dev, PCI_BAR0 + 4 * bar, low);
        return 0;
}

int pci_device_add_cap(struct pci_device *dev, uint8_t id, unsigned len)
{
        unsigned off = (dev->next_cap + 3u) & ~3u;
        if (len < 2 || off + len > PCI_CFG_SIZE)
                return -ENOSPC;
        dev->cfg[off] = id;
        dev->cfg[off + 1] = 0;
        if (dev->last_cap)
                dev->cfg[dev->last_cap + 1] = (uint8_t)off;
        else
                dev->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
        dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
        dev->last_cap = (uint8_t)off;
        dev->next_cap = (uint8_t)(off + len > 0xff ? 0xff : off + len);
        return (int)off;
}

void pci_device_enable_intx(struct pci_device *dev)
{
        dev->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA# */
        dev->intx_gsi = 0;               /* chosen by the bus at add time */
}

static bool intx_disabled(const struct pci_device *dev)
{
        return cfg_get16(dev, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
}

static void intx_update(struct pci_device *dev)
{
        if (dev->intx_gsi <= 0 || !dev->vm)
                return;
        bool level = dev->intx_level && !intx_disabled(dev);
        if (level)
                dev->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
        else
                dev->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
        vm_irq_line(dev->vm, (unsigned)dev->intx_gsi, level);
}

void pci_intx_set(struct pci_device *dev, bool level)
{
        if (level == dev->intx_level)
                return;
        dev->intx_level = level;
        if (level)
                dev->irqs_sent++;
        intx_update(dev);
}

/* --- BAR mapping --- */

static uint64_t bar_address(const struct pci_device *dev, const struct pci_bar *b)
{
        uint32_t low = cfg_get32(dev, PCI_BAR0 + 4 * b->index);
        if (b->flags & PCI_BAR_IO)
                return low & ~3u;
        uint64_t addr = low & ~15u;
        if (b->flags & PCI_BAR_MEM64)
                addr |= (uint64_t)cfg_get32(dev, PCI_BAR0 + 4 * (b->index + 1)) << 32;
        return addr;
}

void pci_bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data, unsigned len,
                    bool is_write)
{
        if (bar >= PCI_NUM_BARS || off >= dev->bar[bar].size || len > dev->bar[bar].size - off) {
                if (!is_write)
                        memset(data, 0xff, len);
                return;
        }
        if (pci_msix_bar_access(dev, bar, off, data, len, is_write))
                return;
        if (dev->ops && dev->ops->bar_access)
                dev->ops->bar_access(dev, bar, off, data, len, is_write);
        else if (!is_write)
                memset(data, 0xff, len);
}

static void bar_io(void *opaque, uint64_t off, void *data, unsigned len, bool is_write)
{
        struct pci_bar *b = opaque;
        pci_bar_access(b->dev, b->index, off, data, len, is_write);
}

static void bar_unmap(struct pci_device *dev, struct pci_bar *b)
{
        if (!b->mapped)
                return;
        struct io_bus *bus = (b->flags & PCI_BAR_IO) ? &dev->vm->pio : &dev->vm->mmio;
        io_bus_unregister(bus, b->mapped_addr, b);
        b->mapped = false;
        if (dev->ops && dev->ops->bar_mapped)
                dev->ops->bar_mapped(dev, b->index, false, b->mapped_addr);
}

/* A BAR decodes when its command bit is set and it holds a plausible address:
 * not 0, not the all-ones sizing pattern, and inside the address space. */
static bool bar_should_map(const struct pci_device *dev, const struct pci_bar *b, uint64_t addr)
{
        uint16_t cmd = cfg_get16(dev, PCI_COMMAND);
        bool io = b->flags & PCI_BAR_IO;
        if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) || addr == 0)
                return false;
        uint64_t limit = io ? 0x10000 : (b->flags & PCI_BAR_MEM64) ? (1ull << 52) : (1ull << 32);
        if (addr > limit - b->size)
                return false;
        uint64_t sizing = ~(b->size - 1) & (limit - 1);
        return addr != sizing;
}

static void bar_update(struct pci_device *dev, struct pci_bar *b)
{
        if (!b->size || !dev->vm)
                return;
        uint64_t addr = bar_address(dev, b);
        if (!bar_should_map(dev, b, addr)) {
                bar_unmap(dev, b);
                return;
        }
        if (b->mapped && b->mapped_addr == addr)
                return;
        struct io_bus *bus = (b->flags & PCI_BAR_IO) ? &dev->vm->pio : &dev->vm->mmio;
        int rc;
        if (b->mapped) {
                rc = io_bus_move(bus, b->mapped_addr, b, addr);
                if (rc < 0) {
                        bar_unmap(dev, b);
                        return; /* overlaps something: stays off until moved again */
                }
        } else {
                rc = io_bus_register(bus, addr, b->size, bar_io, b, dev->name);
                if (rc < 0)
                        return;
        }
        b->mapped = true;
        b->mapped_addr = addr;
        if (dev->ops && dev->ops->bar_mapped)
                dev->ops->bar_mapped(dev, b->index, true, addr);
}

static void bars_update(struct pci_device *dev)
{
        for (unsigned i = 0; i < PCI_NUM_BARS; i++)
                bar_update(dev, &dev->bar[i]);
}

/* The guest wrote dword i of the BAR area (possibly partially, already merged). */
static void bar_write(struct pci_device *dev, unsigned i, uint32_t val)
{
        struct pci_bar *b = &dev->bar[i];
        if (b->size) {
                uint32_t keep =
                    cfg_get32(dev, PCI_BAR0 + 4 * i) & ((b->flags & PCI_BAR_IO) ? 3u : 15u);
                uint32_t mask = (uint32_t) ~(b->size - 1) & ((b->flags & PCI_BAR_IO) ? ~3u : ~15u);
                pci_cfg_set32(dev, PCI_BAR0 + 4 * i, (val & mask) | keep);
        } else if (i > 0 && (dev->bar[i - 1].flags & PCI_BAR_MEM64) && dev->bar[i - 1].size) {
                /* upper half of a 64-bit BAR: sizes are below 4 GiB */
                pci_cfg_set32(dev, PCI_BAR0 + 4 * i, val);
        }
}

/* --- config space --- */

void pci_config_read(struct pci_device *dev, unsigned off, void *data, unsigned len)
{
        if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off) {
                memset(data, 0xff, len);
                return;
        }
        memcpy(data, dev->cfg + off, len);
        if (dev->ops && dev->ops->config_read)
                dev->ops->config_read(dev, off, data, len);
}

void pci_config_write(struct pci_device *dev, unsigned off, const void *data, unsigned len)
{
        if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
                return;
        const uint8_t *src = data;
        bool bars_touched = false, cmd_touched = false;
        uint16_t old_cmd = cfg_get16(dev, PCI_COMMAND);
        for (unsigned i = 0; i < len; i++) {
                unsigned o = off + i;
                if (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NUM_BARS) {
                        bars_touched = true;
                        continue;
                }
                dev->cfg[o] = (uint8_t)((dev->cfg[o] & ~dev->wmask[o]) | (src[i] & dev->wmask[o]));
                if (o == PCI_COMMAND || o == PCI_COMMAND + 1)
                        cmd_touched = true;
        }
        if (bars_touched) {
                for (unsigned d = 0; d < PCI_NUM_BARS; d++) {
                        unsigned base = PCI_BAR0 + 4 * d;
                        if (base + 4 <= off || base >= off + len)
                                continue;
                        uint8_t v[4];
                        memcpy(v, dev->cfg + base, 4);
                        for (unsigned k = 0; k < 4; k++)
                                if (base + k >= off && base + k < off + len)
                                        v[k] = src[base + k - off];
                        uint32_t val;
                        memcpy(&val, v, 4);
                        bar_write(dev, d, val);
                }
        }
        if (bars_touched || cmd_touched)
                bars_update(dev);
        if (cmd_touched && ((old_cmd ^ cfg_get16(dev, PCI_COMMAND)) & PCI_COMMAND_INTX_DISABLE))
                intx_update(dev);
        pci_msix_config_written(dev, off, len);
        if (dev->ops && dev->ops->config_write)
                dev->ops->config_write(dev, off, data, len);
}

/* --- the bus --- */

static struct pci_device *addressed_device(struct pci_bus *bus, unsigned *reg)
{
        uint32_t a = bus->config_addr;
        if (!(a & 0x80000000u))
                return NULL;
        unsigned busno = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;
        *reg = a & 0xfc;
        if (busno != 0 || fn != 0)
                return NULL;
        return bus->slot[slot];
}

static void config_port(void *opaque, uint64_t off, void *data, unsigned len, bool is_write)
{
        struct pci_bus *bus = opaque;
        if (off < 4) {
                if (off == 0 && len == 4) {
                        if (is_write)
                                memcpy(&bus->config_addr, data, 4);
                        else
                                memcpy(data, &bus->config_addr, 4);
                        return;
                }
                if (off == 1 && len == 1 && is_write) {
                        /* 0xCF9 reset control: bit 2 starts a reset */
                        if (*(uint8_t *)data & 4)
                                vm_request_exit(bus->vm, VM_EXIT_REBOOT,
                                                "guest reset via port 0xCF9");
                        return;
                }
                if (!is_write)
                        memset(data, 0, len);
                return;
        }
        unsigned reg = 0, byte = (unsigned)off - 4;
        struct pci_device *dev = addressed_device(bus, &reg);
        if (!dev || byte + len > 4) {
                if (!is_write)
                        memset(data, 0xff, len);
                return;
        }
        if (is_write)
                pci_config_write(dev, reg + byte, data, len);
        else
                pci_config_read(dev, reg + byte, data, len);
}

struct pci_bus *pci_bus_create(struct vm *vm, char *err, size_t errlen)
{
        struct pci_bus *bus = calloc(1, sizeof(*bus));
        if (!bus) {
                snprintf(err, errlen, "out of memory creating the PCI bus");
                return NULL;
        }
        bus->vm = vm;
        bus->next_mmio = PCI_MMIO_WINDOW_BASE;
        bus->next_io = PCI_IO_WINDOW_BASE;
        int rc = io_bus_register(&vm->pio, PCI_CONFIG_ADDR_PORT, 8, config_port, bus, "pci-config");
        if (rc < 0) {
                snprintf(err, errlen, "cannot claim PCI config ports 0xCF8-0xCFF: %s",
                         strerror(-rc));
                free(bus);
                return NULL;
        }
        pci_device_init(&bus->host, NULL, NULL, "pci-host", HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
                        PCI_CLASS_HOST_BRIDGE, 0);
        bus->host.bus = bus;
        bus->host.vm = vm;
        bus->slot[0] = &bus->host;
        return bus;
}

struct vm *pci_bus_vm(const struct pci_bus *bus)
{
        return bus->vm;
}

struct pci_device *pci_bus_device(const struct pci_bus *bus, unsigned slot)
{
        return slot < PCI_MAX_SLOTS ? bus->slot[slot] : NULL;
}

static int assign_bar(struct pci_bus *bus, struct pci_device *dev, struct pci_bar *b)
{
        uint64_t addr;
        if (b->flags & PCI_BAR_IO) {
                addr = (bus->next_io + b->size - 1) & ~(uint64_t)(b->size - 1);
                if (addr + b->size > PCI_IO_WINDOW_BASE + PCI_IO_WINDOW_SIZE)
                        return -ENOSPC;
                bus->next_io = (uint32_t)(addr + b->size);
        } else {
                addr = (bus->next_mmio + b->size - 1) & ~(b->size - 1);
                if (addr + b->size > PCI_MMIO_WINDOW_BASE + PCI_MMIO_WINDOW_SIZE)
                        return -ENOSPC;
                bus->next_mmio = addr + b->size;
        }
        uint32_t low = cfg_get32(dev, PCI_BAR0 + 4 * b->index);
        pci_cfg_set32(dev, PCI_BAR0 + 4 * b->index, (uint32_t)addr | (low & 15u));
        if (b->flags & PCI_BAR_MEM64)
                pci_cfg_set32(dev, PCI_BAR0 + 4 * (b->index + 1), (uint32_t)(addr >> 32));
        return 0;
}

int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev, char *err, size_t errlen)
{
        unsigned slot = 1;
        while (slot < PCI_MAX_SLOTS && bus->slot[slot])
                slot++;
        if (slot == PCI_MAX_SLOTS) {
                snprintf(err, errlen, "no free PCI slot for %s", dev->name);
                return -ENOSPC;
        }
        dev->bus = bus;
        dev->vm = bus->vm;
        dev->slot = slot;
        for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
                if (!dev->bar[i].size)
                        continue;
                if (assign_bar(bus, dev, &dev->bar[i]) < 0) {
                        snprintf(err, errlen, "PCI window full: no room for %s BAR%u", dev->name,
                                 i);
                        return -ENOSPC;
                }
        }
        if (dev->intx_gsi == 0) {
                dev->intx_gsi = (int)intx_gsis[bus->next_intx++ % 2];
                dev->cfg[PCI_INTERRUPT_LINE] = (uint8_t)dev->intx_gsi;
        }
        /* as firmware would: decode on, so the device works before the OS probes */
        pci_cfg_set16(dev, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
        bus->slot[slot] = dev;
        bars_update(dev);
        for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
                if (dev->bar[i].size && !dev->bar[i].mapped) {
                        snprintf(err, errlen, "cannot map %s BAR%u: address range in use",
                                 dev->name, i);
                        bus->slot[slot] = NULL;
                        for (unsigned j = 0; j < PCI_NUM_BARS; j++)
                                bar_unmap(dev, &dev->bar[j]);
                        return -EBUSY;
                }
        }
        return 0;
}

void pci_bus_destroy(struct pci_bus *bus)
{
        if (!bus)
                return;
        for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
                struct pci_device *dev = bus->slot[s];
                if (!dev)
                        continue;
                for (unsigned i = 0; i < PCI_NUM_BARS; i++)
                        bar_unmap(dev, &dev->bar[i]);
                pci_msix_release(dev);
                if (dev->ops && dev->ops->release)
                        dev->ops->release(dev);
        }
        io_bus_unregister(&bus->vm->pio, PCI_CONFIG_ADDR_PORT, bus);
        free(bus);
}
