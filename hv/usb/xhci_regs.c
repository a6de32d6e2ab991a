/* xHCI register file (xHCI 1.2 chapter 5) behind BAR 0, the PCI function
 * around it, and controller reset. Register writes with side effects call
 * into the command, transfer, event and port code; everything runs on the
 * vCPU thread under the VM lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xhci_internal.h"

#define XHCI_VENDOR 0x1b36 /* Red Hat PCI IDs for emulated devices */
#define XHCI_DEVICE 0x000d
#define XHCI_CLASS  0x0c0330 /* serial bus, USB, xHCI */
#define XHCI_SBRN   0x60     /* serial bus release number register */

static uint32_t cap_read(unsigned off)
{
        switch (off) {
        case 0x00:
                return XHCI_CAPLENGTH | 0x0120u << 16; /* HCIVERSION 1.2 */
        case 0x04:
                return XHCI_MAX_SLOTS | 1u << 8 | (uint32_t)XHCI_NUM_PORTS << 24;
        case 0x08:
                return 2u << 4; /* ERST Max: 2^2 segments; no scratchpad */
        case 0x10:
                return 1u | (XHCI_XECP / 4) << 16; /* AC64, xECP */
        case 0x14:
                return XHCI_DOORBELL;
        case 0x18:
                return XHCI_RUNTIME;
        /* Supported Protocol capabilities (7.2): USB 2.0 then USB 3.0 ports. */
        case XHCI_XECP + 0x00:
                return 0x02 | 4u << 8 | 0x02u << 24;
        case XHCI_XECP + 0x04:
        case XHCI_XECP + 0x14:
                return 0x20425355; /* "USB " */
        case XHCI_XECP + 0x08:
                return 1 | (uint32_t)XHCI_USB2_PORTS << 8;
        case XHCI_XECP + 0x10:
                return 0x02 | 0x03u << 24;
        case XHCI_XECP + 0x18:
                return (XHCI_USB2_PORTS + 1) | (uint32_t)XHCI_USB3_PORTS << 8;
        default:
                return 0;
        }
}

static uint32_t op_read(struct xhci *x, unsigned off)
{
        if (off >= 0x400) {
                unsigned port = (off - 0x400) / 16 + 1;
                if (port <= XHCI_NUM_PORTS && (off & 15) == 0)
                        return xhci_portsc_read(x, port);
                return 0;
        }
        switch (off) {
        case 0x00:
                return x->usbcmd;
        case 0x04:
                return x->usbsts;
        case 0x08:
                return 1; /* 4 KiB pages */
        case 0x14:
                return x->dnctrl;
        case 0x18: /* CRCR reads back only CRR (5.4.5) */
                return x->cmd_running ? CRCR_CRR : 0;
        case 0x30:
                return (uint32_t)x->dcbaap;
        case 0x34:
                return (uint32_t)(x->dcbaap >> 32);
        case 0x38:
                return x->config;
        default:
                return 0;
        }
}

static void usbcmd_write(struct xhci *x, uint32_t v)
{
        if (v & CMD_HCRST) {
                xhci_reset(x);
                return;
        }
        bool was_running = x->usbcmd & CMD_RUN;
        x->usbcmd = v & (CMD_RUN | CMD_INTE | (1u << 3) | (1u << 10));
        if ((v & CMD_RUN) && !was_running && !(x->usbsts & STS_HCE)) {
                x->usbsts &= ~STS_HCH;
        } else if (!(v & CMD_RUN) && was_running) {
                x->usbsts |= STS_HCH;
                x->cmd_running = false;
        }
}

static void crcr_write(struct xhci *x, unsigned half, uint32_t v)
{
        if (x->cmd_running) {
                if (half == 0 && (v & (CRCR_CS | CRCR_CA))) {
                        /* 4.6.1.2: stop after the current command, report the stop. */
                        x->cmd_running = false;
                        xhci_event_cmd(x, x->cmd_ring.dequeue, CC_CMD_RING_STOPPED, 0);
                }
                return;
        }
        if (half == 0)
                x->crcr = (x->crcr & ~0xffffffffull) | (v & ~0x3fu) | (v & CRCR_RCS);
        else
                x->crcr = (x->crcr & 0xffffffffull) | (uint64_t)v << 32;
        x->cmd_ring.dequeue = x->crcr & ~0x3full;
        x->cmd_ring.ccs = x->crcr & CRCR_RCS;
}

static void op_write(struct xhci *x, unsigned off, uint32_t v)
{
        if (off >= 0x400) {
                unsigned port = (off - 0x400) / 16 + 1;
                if (port <= XHCI_NUM_PORTS && (off & 15) == 0)
                        xhci_portsc_write(x, port, v);
                return;
        }
        switch (off) {
        case 0x00:
                usbcmd_write(x, v);
                break;
        case 0x04:
                x->usbsts &= ~(v & (STS_HSE | STS_EINT | STS_PCD | STS_SRE));
                break;
        case 0x14:
                x->dnctrl = v & 0xffff;
                break;
        case 0x18:
        case 0x1c:
                crcr_write(x, (off - 0x18) / 4, v);
                break;
        case 0x30:
                x->dcbaap = (x->dcbaap & ~0xffffffffull) | (v & ~0x3fu);
                break;
        case 0x34:
                x->dcbaap = (x->dcbaap & 0xffffffffull) | (uint64_t)v << 32;
                break;
        case 0x38:
                x->config = v & 0xff;
                if ((x->config & 0xff) > XHCI_MAX_SLOTS)
                        x->config = XHCI_MAX_SLOTS;
                break;
        default:
                break;
        }
}

static uint32_t rt_read(struct xhci *x, unsigned off)
{
        switch (off) {
        case 0x20:
                return x->iman;
        case 0x24:
                return x->imod;
        case 0x28:
                return x->erstsz;
        case 0x30:
                return (uint32_t)x->erstba;
        case 0x34:
                return (uint32_t)(x->erstba >> 32);
        case 0x38:
                return (uint32_t)x->erdp;
        case 0x3c:
                return (uint32_t)(x->erdp >> 32);
        default:
                return 0; /* MFINDEX: no isochronous scheduling, stays 0 */
        }
}

static void iman_write(struct xhci *x, uint32_t v)
{
        if (v & IMAN_IP)
                x->iman &= ~IMAN_IP;
        x->iman = (x->iman & ~IMAN_IE) | (v & IMAN_IE);
        if (!(x->iman & IMAN_IP) && !pci_msix_enabled(&x->pci))
                pci_intx_set(&x->pci, false);
}

static void rt_write(struct xhci *x, unsigned off, uint32_t v)
{
        switch (off) {
        case 0x20:
                iman_write(x, v);
                break;
        case 0x24:
                x->imod = v;
                break;
        case 0x28:
                x->erstsz = v & 0xffff;
                break;
        case 0x30:
                x->erstba = (x->erstba & ~0xffffffffull) | (v & ~0x3fu);
                break;
        case 0x34: /* the high half completes the address: the ring starts now */
                x->erstba = (x->erstba & 0xffffffffull) | (uint64_t)v << 32;
                xhci_event_ring_setup(x);
                break;
        case 0x38: {
                uint64_t ehb = x->erdp & ERDP_EHB;
                if (v & ERDP_EHB)
                        ehb = 0;
                x->erdp = (x->erdp & ~0xffffffffull) | (v & ~0xfu) | ehb;
                xhci_erdp_written(x);
                break;
        }
        case 0x3c:
                x->erdp = (x->erdp & 0xffffffffull) | (uint64_t)v << 32;
                break;
        default:
                break;
        }
}

static void doorbell_write(struct xhci *x, unsigned idx, uint32_t v)
{
        if (!(x->usbcmd & CMD_RUN) || (x->usbsts & STS_HCE))
                return;
        if (idx == 0) {
                if ((v & 0xff) == 0)
                        xhci_command_doorbell(x);
                return;
        }
        if (idx <= XHCI_MAX_SLOTS)
                xhci_endpoint_doorbell(x, idx, v & 0xff);
}

static uint32_t read32(struct xhci *x, unsigned off)
{
        if (off < XHCI_OP)
                return cap_read(off);
        if (off < XHCI_RUNTIME)
                return op_read(x, off - XHCI_OP);
        if (off < XHCI_DOORBELL)
                return rt_read(x, off - XHCI_RUNTIME);
        return 0; /* doorbells read as 0 */
}

static void write32(struct xhci *x, unsigned off, uint32_t v)
{
        if (off < XHCI_OP)
                return; /* capabilities are read-only */
        if (off < XHCI_RUNTIME)
                op_write(x, off - XHCI_OP, v);
        else if (off < XHCI_DOORBELL)
                rt_write(x, off - XHCI_RUNTIME, v);
        else if (off < XHCI_DOORBELL + 4 * (XHCI_MAX_SLOTS + 1))
                doorbell_write(x, (off - XHCI_DOORBELL) / 4, v);
}

static void bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data, unsigned len,
                       bool is_write)
{
        struct xhci *x = dev->opaque;
        if (bar != 0 || off >= XHCI_BAR_SIZE || (off & 3) + len > (len == 8 ? 8u : 4u)) {
                if (!is_write)
                        memset(data, 0xff, len);
                return;
        }
        unsigned o = (unsigned)off & ~3u;
        if (is_write) {
                if (len == 8) { /* a 64-bit register as two dwords, low first */
                        uint64_t v;
                        memcpy(&v, data, 8);
                        write32(x, o, (uint32_t)v);
                        write32(x, o + 4, (uint32_t)(v >> 32));
                } else if (len == 4) {
                        uint32_t v;
                        memcpy(&v, data, 4);
                        write32(x, o, v);
                }
                /* byte and word writes: no xHCI register takes them (5.1) */
                return;
        }
        uint64_t v = read32(x, o);
        if (len == 8)
                v |= (uint64_t)read32(x, o + 4) << 32;
        else
                v >>= 8 * (off & 3);
        memcpy(data, &v, len);
}

void xhci_fail(struct xhci *x, const char *why)
{
        if (!(x->usbsts & STS_HCE))
                fprintf(stderr, "xhci: host controller error: %s\n", why);
        x->usbsts |= STS_HCE | STS_HCH;
        x->usbcmd &= ~CMD_RUN;
        x->cmd_running = false;
        x->errors++;
}

void xhci_reset(struct xhci *x)
{
        x->usbcmd = 0;
        x->usbsts = STS_HCH;
        x->dnctrl = x->config = 0;
        x->crcr = x->dcbaap = 0;
        memset(&x->cmd_ring, 0, sizeof(x->cmd_ring));
        x->cmd_running = false;
        x->iman = x->imod = x->erstsz = 0;
        x->erstba = x->erdp = 0;
        x->ev_nsegs = 0;
        x->ev_full = false;
        memset(x->slot, 0, sizeof(x->slot));
        xhci_ports_reset(x);
        if (!pci_msix_enabled(&x->pci))
                pci_intx_set(&x->pci, false);
}

static void release(struct pci_device *dev)
{
        struct xhci *x = dev->opaque;
        for (unsigned p = 1; p <= XHCI_NUM_PORTS; p++)
                usb_device_destroy(x->port[p].dev);
        free(x);
}

static const struct pci_device_ops xhci_pci_ops = {
    .bar_access = bar_access,
    .release = release,
};

struct xhci *xhci_create(struct pci_bus *bus, char *err, size_t errlen)
{
        struct xhci *x = calloc(1, sizeof(*x));
        if (!x) {
                snprintf(err, errlen, "xhci: out of memory");
                return NULL;
        }
        x->vm = pci_bus_vm(bus);
        for (unsigned p = 1; p <= XHCI_NUM_PORTS; p++)
                x->port[p].usb3 = p > XHCI_USB2_PORTS;
        struct pci_device *dev = &x->pci;
        pci_device_init(dev, &xhci_pci_ops, x, "xhci", XHCI_VENDOR, XHCI_DEVICE, XHCI_CLASS, 1);
        dev->cfg[XHCI_SBRN] = 0x30;     /* USB 3.0 */
        dev->cfg[XHCI_SBRN + 1] = 0x20; /* FLADJ default */
        if (pci_device_add_bar(dev, 0, XHCI_BAR_SIZE, PCI_BAR_MEM64) < 0 ||
            pci_device_add_msix(dev, 1, 0, XHCI_MSIX_TABLE, XHCI_MSIX_PBA) < 0) {
                snprintf(err, errlen, "xhci: cannot lay out the PCI function");
                free(x);
                return NULL;
        }
        pci_device_enable_intx(dev);
        xhci_reset(x);
        if (pci_bus_add_device(bus, dev, err, errlen) < 0) {
                free(x);
                return NULL;
        }
        return x;
}

struct pci_device *xhci_pci(struct xhci *x)
{
        return &x->pci;
}
