/* virtio 1.x modern PCI transport (virtio 1.2 §4.1). One 32 KiB memory BAR
 * holds every structure (layout in docs/virtio.md); kicks arrive through a
 * per-queue ioeventfd read on the event loop, interrupts leave through MSI-X
 * irqfds (INTx as the fallback when the driver does not enable MSI-X). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../pvdrivers/virtio/virtio_core.h"
#include "pci_internal.h"
#include "virtio_pci.h"

struct virtio_pci;

struct virtio_pci_kick {
        struct virtio_pci *vp;
        unsigned q;
        int efd;       /* -1 when eventfds are unavailable */
        bool assigned; /* registered as an ioeventfd at addr */
        uint64_t addr;
};

struct virtio_pci {
        struct pci_device pci;
        struct virtio_device *vdev;
        char name[32];
        uint32_t device_feature_select;
        uint32_t driver_feature_select;
        uint16_t queue_select;
        uint16_t msix_config;
        unsigned pci_cfg_cap; /* config offset of the VIRTIO_PCI_CAP_PCI_CFG window */
        struct virtio_pci_kick kick[VIRTIO_MAX_QUEUES];
};

static struct virtio_pci *to_vp(struct pci_device *dev)
{
        return dev->opaque;
}

/* --- kicks --- */

static void kick_ready(void *opaque, uint32_t events)
{
        (void)events;
        struct virtio_pci_kick *k = opaque;
        uint64_t n;
        if (read(k->efd, &n, sizeof(n)) != sizeof(n))
                return;
        virtio_kick(k->vp->vdev, k->q);
}

static void kick_unassign(struct virtio_pci *vp, unsigned q)
{
        struct virtio_pci_kick *k = &vp->kick[q];
        if (!k->assigned)
                return;
        vm_ioeventfd(vp->pci.vm, k->efd, k->addr, 2, false, false);
        k->assigned = false;
}

/* Lets a kick of queue q bypass userspace once the queue is live and the BAR
 * is mapped; without it kicks still work through the MMIO exit path. */
static void kick_assign(struct virtio_pci *vp, unsigned q)
{
        struct virtio_pci_kick *k = &vp->kick[q];
        struct pci_bar *bar = &vp->pci.bar[VIRTIO_PCI_BAR];
        if (k->assigned || k->efd < 0 || !bar->mapped || !vp->vdev->vq[q].ready)
                return;
        k->addr = bar->mapped_addr + VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q;
        k->assigned = vm_ioeventfd(vp->pci.vm, k->efd, k->addr, 2, false, true) == 0;
}

static void kicks_reassign(struct virtio_pci *vp)
{
        for (unsigned q = 0; q < vp->vdev->ops->num_queues; q++) {
                kick_unassign(vp, q);
                kick_assign(vp, q);
        }
}

/* --- interrupts (struct virtio_transport) --- */

static void raise_vector(struct virtio_pci *vp, uint16_t vec, uint8_t isr_bit)
{
        if (pci_msix_enabled(&vp->pci)) {
                if (vec != VIRTIO_MSI_NO_VECTOR)
                        pci_msix_notify(&vp->pci, vec);
                return;
        }
        vp->vdev->isr |= isr_bit;
        pci_intx_set(&vp->pci, true);
}

static void vp_notify_queue(struct virtio_device *vdev, unsigned q)
{
        struct virtio_pci *vp = vdev->transport_priv;
        raise_vector(vp, vdev->vq[q].msix_vector, 1);
}

static void vp_notify_config(struct virtio_device *vdev)
{
        struct virtio_pci *vp = vdev->transport_priv;
        raise_vector(vp, vp->msix_config, 2);
}

static const struct virtio_transport vp_transport = {
    .notify_queue = vp_notify_queue,
    .notify_config = vp_notify_config,
};

/* --- common configuration (§4.1.4.3) --- */

static uint16_t valid_vector(struct virtio_pci *vp, uint16_t v)
{
        return v < vp->pci.msix.nvec ? v : VIRTIO_MSI_NO_VECTOR;
}

static void put(uint8_t *buf, unsigned off, uint64_t v, unsigned size)
{
        memcpy(buf + off, &v, size);
}

static uint64_t get(const uint8_t *buf, unsigned off, unsigned size)
{
        uint64_t v = 0;
        memcpy(&v, buf + off, size);
        return v;
}

static void common_snapshot(struct virtio_pci *vp, uint8_t *c)
{
        struct virtio_device *vdev = vp->vdev;
        memset(c, 0, VIRTIO_PCI_COMMON_LEN);
        uint32_t dsel = vp->device_feature_select, gsel = vp->driver_feature_select;
        put(c, VIRTIO_PCI_COMMON_DFSELECT, dsel, 4);
        put(c, VIRTIO_PCI_COMMON_DF, dsel < 2 ? vdev->device_features >> (32 * dsel) : 0, 4);
        put(c, VIRTIO_PCI_COMMON_GFSELECT, gsel, 4);
        put(c, VIRTIO_PCI_COMMON_GF, gsel < 2 ? vdev->driver_features >> (32 * gsel) : 0, 4);
        put(c, VIRTIO_PCI_COMMON_MSIX, vp->msix_config, 2);
        put(c, VIRTIO_PCI_COMMON_NUMQ, vdev->ops->num_queues, 2);
        put(c, VIRTIO_PCI_COMMON_STATUS, vdev->status, 1);
        put(c, VIRTIO_PCI_COMMON_CFGGENERATION, vdev->config_generation, 1);
        put(c, VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select, 2);
        if (vp->queue_select >= vdev->ops->num_queues)
                return; /* queue_size reads 0: no such queue */
        const struct virtqueue *vq = &vdev->vq[vp->queue_select];
        put(c, VIRTIO_PCI_COMMON_Q_SIZE, vq->size, 2);
        put(c, VIRTIO_PCI_COMMON_Q_MSIX, vq->msix_vector, 2);
        put(c, VIRTIO_PCI_COMMON_Q_ENABLE, vq->ready, 2);
        put(c, VIRTIO_PCI_COMMON_Q_NOFF, vq->notify_off, 2);
        put(c, VIRTIO_PCI_COMMON_Q_DESC, vq->desc_gpa, 8);
        put(c, VIRTIO_PCI_COMMON_Q_AVAIL, vq->avail_gpa, 8);
        put(c, VIRTIO_PCI_COMMON_Q_USED, vq->used_gpa, 8);
}

static void transport_reset(struct virtio_pci *vp)
{
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                kick_unassign(vp, q);
        vp->msix_config = VIRTIO_MSI_NO_VECTOR;
        vp->device_feature_select = vp->driver_feature_select = 0;
        vp->queue_select = 0;
        pci_intx_set(&vp->pci, false);
}

static bool touched(unsigned off, unsigned len, unsigned field, unsigned size)
{
        return off < field + size && field < off + len;
}

static void queue_field_write(struct virtio_pci *vp, const uint8_t *c, unsigned off, unsigned len)
{
        struct virtio_device *vdev = vp->vdev;
        unsigned q = vp->queue_select;
        if (q >= vdev->ops->num_queues)
                return;
        struct virtqueue *vq = &vdev->vq[q];
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_MSIX, 2))
                vq->msix_vector = valid_vector(vp, (uint16_t)get(c, VIRTIO_PCI_COMMON_Q_MSIX, 2));
        if (vq->ready)
                return; /* §4.1.4.3.2: no changes to a live queue */
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_SIZE, 2))
                vq->size = (uint16_t)get(c, VIRTIO_PCI_COMMON_Q_SIZE, 2);
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_DESC, 8))
                vq->desc_gpa = get(c, VIRTIO_PCI_COMMON_Q_DESC, 8);
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_AVAIL, 8))
                vq->avail_gpa = get(c, VIRTIO_PCI_COMMON_Q_AVAIL, 8);
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_USED, 8))
                vq->used_gpa = get(c, VIRTIO_PCI_COMMON_Q_USED, 8);
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_ENABLE, 2) &&
            get(c, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1 && virtio_queue_enable(vdev, q) == 0)
                kick_assign(vp, q);
}

static void common_write(struct virtio_pci *vp, unsigned off, const void *data, unsigned len)
{
        uint8_t c[VIRTIO_PCI_COMMON_LEN];
        common_snapshot(vp, c);
        memcpy(c + off, data, len);
        struct virtio_device *vdev = vp->vdev;
        if (touched(off, len, VIRTIO_PCI_COMMON_DFSELECT, 4))
                vp->device_feature_select = (uint32_t)get(c, VIRTIO_PCI_COMMON_DFSELECT, 4);
        if (touched(off, len, VIRTIO_PCI_COMMON_GFSELECT, 4))
                vp->driver_feature_select = (uint32_t)get(c, VIRTIO_PCI_COMMON_GFSELECT, 4);
        if (touched(off, len, VIRTIO_PCI_COMMON_GF, 4))
                virtio_write_driver_features(vdev, vp->driver_feature_select,
                                             (uint32_t)get(c, VIRTIO_PCI_COMMON_GF, 4));
        if (touched(off, len, VIRTIO_PCI_COMMON_MSIX, 2))
                vp->msix_config = valid_vector(vp, (uint16_t)get(c, VIRTIO_PCI_COMMON_MSIX, 2));
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_SELECT, 2))
                vp->queue_select = (uint16_t)get(c, VIRTIO_PCI_COMMON_Q_SELECT, 2);
        if (touched(off, len, VIRTIO_PCI_COMMON_Q_SIZE,
                    VIRTIO_PCI_COMMON_Q_USED + 8 - VIRTIO_PCI_COMMON_Q_SIZE))
                queue_field_write(vp, c, off, len);
        if (touched(off, len, VIRTIO_PCI_COMMON_STATUS, 1)) {
                uint8_t status = (uint8_t)get(c, VIRTIO_PCI_COMMON_STATUS, 1);
                virtio_write_status(vdev, status);
                if (status == 0)
                        transport_reset(vp);
        }
}

/* --- BAR 0 --- */

static void bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data, unsigned len,
                       bool is_write)
{
        struct virtio_pci *vp = to_vp(dev);
        struct virtio_device *vdev = vp->vdev;
        if (!is_write)
                memset(data, 0, len);
        if (bar != VIRTIO_PCI_BAR)
                return;
        if (off < VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_LEN) {
                if (len > VIRTIO_PCI_COMMON_LEN - off)
                        return;
                if (is_write) {
                        common_write(vp, (unsigned)off, data, len);
                } else {
                        uint8_t c[VIRTIO_PCI_COMMON_LEN];
                        common_snapshot(vp, c);
                        memcpy(data, c + off, len);
                }
        } else if (off >= VIRTIO_PCI_ISR_OFF && off < VIRTIO_PCI_ISR_OFF + VIRTIO_PCI_ISR_LEN) {
                if (!is_write && off == VIRTIO_PCI_ISR_OFF) {
                        /* reading ISR acknowledges it (§4.1.4.5) */
                        *(uint8_t *)data = vdev->isr;
                        vdev->isr = 0;
                        pci_intx_set(dev, false);
                }
        } else if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_DEVICE_OFF + 0x1000) {
                uint64_t o = off - VIRTIO_PCI_DEVICE_OFF;
                if (o >= vdev->ops->config_size || len > vdev->ops->config_size - o)
                        return;
                if (!is_write)
                        vdev->ops->config_read(vdev, (uint32_t)o, data, len);
                else if (vdev->ops->config_write)
                        vdev->ops->config_write(vdev, (uint32_t)o, data, len);
        } else if (off >= VIRTIO_PCI_NOTIFY_OFF && off < VIRTIO_PCI_NOTIFY_OFF + 0x1000) {
                if (is_write)
                        virtio_kick(vdev, (unsigned)(off - VIRTIO_PCI_NOTIFY_OFF) /
                                              VIRTIO_PCI_NOTIFY_MULT);
        }
}

static void bar_mapped(struct pci_device *dev, unsigned bar, bool mapped, uint64_t addr)
{
        (void)mapped, (void)addr;
        if (bar == VIRTIO_PCI_BAR)
                kicks_reassign(to_vp(dev));
}

/* --- VIRTIO_PCI_CAP_PCI_CFG: BAR access through config space (§4.1.4.9) --- */

static bool pci_cfg_window(struct virtio_pci *vp, unsigned *bar, uint32_t *off, uint32_t *len)
{
        const uint8_t *cap = vp->pci.cfg + vp->pci_cfg_cap;
        *bar = cap[4];
        memcpy(off, cap + 8, 4);
        memcpy(len, cap + 12, 4);
        return (*len == 1 || *len == 2 || *len == 4) && !(*off & (*len - 1)) && *bar < PCI_NUM_BARS;
}

static void config_read(struct pci_device *dev, unsigned off, void *data, unsigned len)
{
        struct virtio_pci *vp = to_vp(dev);
        unsigned win = vp->pci_cfg_cap + 16;
        if (!vp->pci_cfg_cap || !touched(off, len, win, 4))
                return;
        unsigned bar;
        uint32_t boff, blen;
        if (!pci_cfg_window(vp, &bar, &boff, &blen))
                return;
        pci_bar_access(dev, bar, boff, dev->cfg + win, blen, false);
        memcpy(data, dev->cfg + off, len);
}

static void config_write(struct pci_device *dev, unsigned off, const void *data, unsigned len)
{
        (void)data;
        struct virtio_pci *vp = to_vp(dev);
        unsigned win = vp->pci_cfg_cap + 16;
        if (!vp->pci_cfg_cap || !touched(off, len, win, 4))
                return;
        unsigned bar;
        uint32_t boff, blen;
        if (pci_cfg_window(vp, &bar, &boff, &blen))
                pci_bar_access(dev, bar, boff, dev->cfg + win, blen, true);
}

static void release(struct pci_device *dev)
{
        struct virtio_pci *vp = to_vp(dev);
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
                struct virtio_pci_kick *k = &vp->kick[q];
                if (k->efd < 0)
                        continue;
                kick_unassign(vp, q);
                if (dev->vm->loop)
                        evloop_del(dev->vm->loop, k->efd);
                close(k->efd);
        }
        vp->vdev->transport = NULL;
        vp->vdev->transport_priv = NULL;
        free(vp);
}

static const struct pci_device_ops virtio_pci_ops = {
    .bar_access = bar_access,
    .bar_mapped = bar_mapped,
    .config_read = config_read,
    .config_write = config_write,
    .release = release,
};

/* --- setup --- */

static int add_virtio_cap(struct pci_device *dev, uint8_t type, unsigned caplen, uint32_t off,
                          uint32_t len)
{
        int c = pci_device_add_cap(dev, PCI_CAP_ID_VNDR, caplen);
        if (c < 0)
                return c;
        dev->cfg[c + 2] = (uint8_t)caplen;
        dev->cfg[c + 3] = type;
        dev->cfg[c + 4] = VIRTIO_PCI_BAR;
        pci_cfg_set32(dev, (unsigned)c + 8, off);
        pci_cfg_set32(dev, (unsigned)c + 12, len);
        return c;
}

static uint32_t class_for(uint32_t device_id)
{
        switch (device_id) {
        case 1:
                return 0x020000; /* network controller */
        case 2:
                return 0x018000; /* mass storage, other */
        case 3:
                return 0x078000; /* communication, other */
        default:
                return 0xff0000; /* unassigned class */
        }
}

static int build_config(struct virtio_pci *vp)
{
        struct pci_device *dev = &vp->pci;
        const struct virtio_dev_ops *ops = vp->vdev->ops;
        uint16_t devid = (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + ops->device_id);
        pci_device_init(dev, &virtio_pci_ops, vp, vp->name, VIRTIO_PCI_VENDOR_ID, devid,
                        class_for(ops->device_id), 1);
        pci_device_set_subsystem(dev, VIRTIO_PCI_VENDOR_ID, devid);
        int rc = pci_device_add_bar(dev, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, PCI_BAR_MEM32);
        if (rc < 0)
                return rc;
        if ((rc = add_virtio_cap(dev, VIRTIO_PCI_CAP_COMMON_CFG, 16, VIRTIO_PCI_COMMON_OFF,
                                 VIRTIO_PCI_COMMON_LEN)) < 0)
                return rc;
        rc = add_virtio_cap(dev, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VIRTIO_PCI_NOTIFY_OFF,
                            VIRTIO_PCI_NOTIFY_MULT * ops->num_queues);
        if (rc < 0)
                return rc;
        pci_cfg_set32(dev, (unsigned)rc + 16, VIRTIO_PCI_NOTIFY_MULT);
        if ((rc = add_virtio_cap(dev, VIRTIO_PCI_CAP_ISR_CFG, 16, VIRTIO_PCI_ISR_OFF,
                                 VIRTIO_PCI_ISR_LEN)) < 0)
                return rc;
        if (ops->config_size &&
            (rc = add_virtio_cap(dev, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VIRTIO_PCI_DEVICE_OFF,
                                 (uint32_t)ops->config_size)) < 0)
                return rc;
        if ((rc = add_virtio_cap(dev, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0)) < 0)
                return rc;
        vp->pci_cfg_cap = (unsigned)rc;
        dev->wmask[rc + 4] = 0xff; /* bar, offset, length, data */
        memset(dev->wmask + rc + 8, 0xff, 12);
        rc = pci_device_add_msix(dev, ops->num_queues + 1, VIRTIO_PCI_BAR,
                                 VIRTIO_PCI_MSIX_TABLE_OFF, VIRTIO_PCI_MSIX_PBA_OFF);
        if (rc < 0)
                return rc;
        pci_device_enable_intx(dev);
        return 0;
}

int virtio_pci_add(struct pci_bus *bus, struct virtio_device *vdev, char *err, size_t errlen)
{
        const struct virtio_dev_ops *ops = vdev->ops;
        if (ops->num_queues == 0 || ops->num_queues > VIRTIO_MAX_QUEUES ||
            ops->config_size > 0x1000 || vdev->transport) {
                snprintf(err, errlen, "virtio-%s cannot be put on PCI", ops->name);
                return -EINVAL;
        }
        struct virtio_pci *vp = calloc(1, sizeof(*vp));
        if (!vp) {
                snprintf(err, errlen, "out of memory adding virtio-%s", ops->name);
                return -ENOMEM;
        }
        vp->vdev = vdev;
        vp->msix_config = VIRTIO_MSI_NO_VECTOR;
        snprintf(vp->name, sizeof(vp->name), "virtio-%s", ops->name);
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                vp->kick[q] = (struct virtio_pci_kick){.vp = vp, .q = q, .efd = -1};
        int rc = build_config(vp);
        if (rc < 0) {
                snprintf(err, errlen, "virtio-%s: PCI config space: %s", ops->name, strerror(-rc));
                pci_msix_release(&vp->pci);
                free(vp);
                return rc;
        }
        vdev->transport = &vp_transport;
        vdev->transport_priv = vp;
        /* Kick eventfds exist only with an event loop to read them; without one
         * every kick takes the MMIO exit path, which works the same. */
        struct evloop *loop = pci_bus_vm(bus)->loop;
        for (unsigned q = 0; loop && q < ops->num_queues; q++) {
                int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (efd < 0)
                        break;
                if (evloop_add(loop, efd, EPOLLIN, kick_ready, &vp->kick[q]) < 0) {
                        close(efd);
                        break;
                }
                vp->kick[q].efd = efd;
        }
        rc = pci_bus_add_device(bus, &vp->pci, err, errlen);
        if (rc < 0) {
                vp->pci.vm = pci_bus_vm(bus);
                pci_msix_release(&vp->pci);
                release(&vp->pci);
                return rc;
        }
        return 0;
}
