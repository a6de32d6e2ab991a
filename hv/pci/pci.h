/* A conventional PCI bus 0 behind a host bridge (00:00.0), configuration
 * mechanism #1 on ports 0xCF8/0xCFC, and a generic PCI function (type 0
 * header, BARs, capability list, MSI-X, INTx) that devices embed: virtio-pci,
 * xHCI, AC97. We act as the firmware: BARs get addresses in the windows below
 * at registration, and memory/I/O decode is enabled. The guest may move them. */
#ifndef TANDEM_PCI_H
#define TANDEM_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/vm.h"

#define PCI_MMIO_WINDOW_BASE 0xE0000000ULL /* BARs are assigned here by us ("firmware") */
#define PCI_MMIO_WINDOW_SIZE 0x1EC00000ULL /* up to 0xFEBFFFFF, below the IOAPIC */
#define PCI_IO_WINDOW_BASE   0xC000
#define PCI_IO_WINDOW_SIZE   0x3000 /* 0xC000-0xEFFF */

#define PCI_CONFIG_ADDR_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT 0xCFC
#define PCI_RESET_PORT       0xCF9 /* reset control register (bit 2: reset) */

#define PCI_MAX_SLOTS 32
#define PCI_NUM_BARS  6
#define PCI_CFG_SIZE  256

/* Type 0 header offsets */
#define PCI_VENDOR_ID           0x00
#define PCI_DEVICE_ID           0x02
#define PCI_COMMAND             0x04
#define PCI_STATUS              0x06
#define PCI_REVISION_ID         0x08
#define PCI_CLASS_PROG          0x09
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID        0x2e
#define PCI_CAPABILITY_LIST     0x34
#define PCI_INTERRUPT_LINE      0x3c
#define PCI_INTERRUPT_PIN       0x3d

#define PCI_COMMAND_IO           0x1
#define PCI_COMMAND_MEMORY       0x2
#define PCI_COMMAND_MASTER       0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST      0x10
#define PCI_STATUS_INTERRUPT     0x08

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* BAR flags for pci_device_add_bar */
#define PCI_BAR_MEM32    0
#define PCI_BAR_IO       1
#define PCI_BAR_MEM64    2
#define PCI_BAR_PREFETCH 4

struct pci_bus;
struct pci_device;

struct pci_device_ops {
        /* Access to BAR bar at offset off (MSI-X table/PBA ranges excluded). */
        void (*bar_access)(struct pci_device *dev, unsigned bar, uint64_t off, void *data,
                           unsigned len, bool is_write);
        /* A BAR was mapped at addr, moved there, or unmapped (mapped false). May be NULL. */
        void (*bar_mapped)(struct pci_device *dev, unsigned bar, bool mapped, uint64_t addr);
        /* After the generic code answered a config read or applied a write, for
         * registers with side effects (capability windows). May be NULL. */
        void (*config_read)(struct pci_device *dev, unsigned off, void *data, unsigned len);
        void (*config_write)(struct pci_device *dev, unsigned off, const void *data, unsigned len);
        /* The bus is going away: release what the owner allocated. May be NULL. */
        void (*release)(struct pci_device *dev);
};

struct pci_bar {
        struct pci_device *dev;
        unsigned index;
        uint64_t size; /* 0: BAR not implemented */
        unsigned flags;
        uint64_t addr; /* as programmed in config space */
        bool mapped;   /* claimed on the bus at mapped_addr */
        uint64_t mapped_addr;
};

struct pci_msix_vector {
        int gsi;    /* KVM route, -1 until first used */
        int efd;    /* irqfd bound to gsi, -1 when none */
        bool dirty; /* the table entry changed since gsi was routed */
        bool pending;
};

struct pci_msix {
        unsigned nvec;
        unsigned cap; /* config offset of the capability, 0 when absent */
        unsigned bar;
        uint32_t table_off, pba_off;
        uint8_t *table; /* nvec * 16 bytes, guest-visible layout */
        struct pci_msix_vector *vec;
};

struct pci_device {
        struct pci_bus *bus;
        struct vm *vm;
        const struct pci_device_ops *ops;
        void *opaque;
        const char *name;
        unsigned slot;
        uint8_t cfg[PCI_CFG_SIZE];
        uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may write */
        uint8_t next_cap;            /* where the next capability goes */
        uint8_t last_cap;            /* to chain the next one; 0 = none yet */
        struct pci_bar bar[PCI_NUM_BARS];
        struct pci_msix msix;
        int intx_gsi; /* -1 when the device has no INTx pin */
        bool intx_level;
        uint64_t irqs_sent; /* MSI-X messages and INTx assertions, for stats */
};

/* Host bridge 00:00.0 and the config ports. NULL with a reason on failure. */
struct pci_bus *pci_bus_create(struct vm *vm, char *err, size_t errlen);
struct vm *pci_bus_vm(const struct pci_bus *bus);
/* The function in slot (0 is the host bridge), or NULL; for stats and tests. */
struct pci_device *pci_bus_device(const struct pci_bus *bus, unsigned slot);
/* Unmaps every BAR, releases every device (ops->release), frees the bus. */
void pci_bus_destroy(struct pci_bus *bus);

/* Fills a type 0 header. Call before adding BARs and capabilities. */
void pci_device_init(struct pci_device *dev, const struct pci_device_ops *ops, void *opaque,
                     const char *name, uint16_t vendor, uint16_t device, uint32_t class_code,
                     uint8_t revision);
void pci_device_set_subsystem(struct pci_device *dev, uint16_t vendor, uint16_t id);
/* size: a power of two (>= 16 for memory, >= 4 for I/O). */
int pci_device_add_bar(struct pci_device *dev, unsigned bar, uint64_t size, unsigned flags);
/* Appends a capability of len bytes with the given ID; returns its config
 * offset (body bytes start at +2) or -ENOSPC. The body is read-only unless the
 * caller marks bytes in dev->wmask. */
int pci_device_add_cap(struct pci_device *dev, uint8_t id, unsigned len);
/* MSI-X with nvec vectors, table and PBA at the given offsets of bar. */
int pci_device_add_msix(struct pci_device *dev, unsigned nvec, unsigned bar, uint32_t table_off,
                        uint32_t pba_off);
/* Gives the device an INTx pin A routed to a GSI the bus picks. */
void pci_device_enable_intx(struct pci_device *dev);
/* Places the device in the first free slot, assigns and maps its BARs. */
int pci_bus_add_device(struct pci_bus *bus, struct pci_device *dev, char *err, size_t errlen);

/* Interrupts. pci_msix_enabled tells which one the driver chose. */
bool pci_msix_enabled(const struct pci_device *dev);
/* Sends (or, while masked, records as pending) MSI-X vector vec. */
void pci_msix_notify(struct pci_device *dev, unsigned vec);
void pci_intx_set(struct pci_device *dev, bool level);

/* Config space access as the guest sees it (also used by tests). */
void pci_config_read(struct pci_device *dev, unsigned off, void *data, unsigned len);
void pci_config_write(struct pci_device *dev, unsigned off, const void *data, unsigned len);
/* BAR access as a guest MMIO/PIO access would do it (MSI-X table included). */
void pci_bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data, unsigned len,
                    bool is_write);

static inline void pci_cfg_set16(struct pci_device *dev, unsigned off, uint16_t v)
{
        dev->cfg[off] = (uint8_t)v;
        dev->cfg[off + 1] = (uint8_t)(v >> 8);
}

static inline void pci_cfg_set32(struct pci_device *dev, unsigned off, uint32_t v)
{
        pci_cfg_set16(dev, off, (uint16_t)v);
        pci_cfg_set16(dev, off + 2, (uint16_t)(v >> 16));
}

/* virtio-pci transport (hv/pci/virtio_pci.c) */
struct virtio_device;
int virtio_pci_add(struct pci_bus *bus, struct virtio_device *vdev, char *err, size_t errlen);

#endif
