/* MSI-X (PCI Local Bus 3.0 §6.8.2): the capability, the vector table and
 * pending-bit array in a BAR, and delivery. Each vector gets a KVM MSI route
 * and an irqfd on first use, so a completion is one eventfd write and the
 * interrupt is injected in-kernel; vm_signal_msi is the fallback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pci_internal.h"

#define MSIX_ENTRY_SIZE  16
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_FMASK  0x4000
#define MSIX_VEC_MASKED  1u
#define MSIX_MAX_VECTORS 2048

static uint16_t msix_ctrl(const struct pci_device *dev)
{
        return (uint16_t)(dev->cfg[dev->msix.cap + 2] | dev->cfg[dev->msix.cap + 3] << 8);
}

bool pci_msix_enabled(const struct pci_device *dev)
{
        return dev->msix.cap && (msix_ctrl(dev) & MSIX_CTRL_ENABLE);
}

static uint32_t entry_word(const struct pci_device *dev, unsigned vec, unsigned word)
{
        uint32_t v;
        memcpy(&v, dev->msix.table + vec * MSIX_ENTRY_SIZE + 4 * word, 4);
        return v;
}

static bool vector_masked(const struct pci_device *dev, unsigned vec)
{
        return (msix_ctrl(dev) & MSIX_CTRL_FMASK) || (entry_word(dev, vec, 3) & MSIX_VEC_MASKED);
}

int pci_device_add_msix(struct pci_device *dev, unsigned nvec, unsigned bar, uint32_t table_off,
                        uint32_t pba_off)
{
        if (nvec == 0 || nvec > MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS || dev->msix.cap ||
            (table_off & 7) || (pba_off & 7))
                return -EINVAL;
        int cap = pci_device_add_cap(dev, PCI_CAP_ID_MSIX, 12);
        if (cap < 0)
                return cap;
        struct pci_msix *m = &dev->msix;
        m->table = calloc(nvec, MSIX_ENTRY_SIZE);
        m->vec = calloc(nvec, sizeof(*m->vec));
        if (!m->table || !m->vec) {
                free(m->table);
                free(m->vec);
                m->table = NULL;
                m->vec = NULL;
                return -ENOMEM;
        }
        m->nvec = nvec;
        m->cap = (unsigned)cap;
        m->bar = bar;
        m->table_off = table_off;
        m->pba_off = pba_off;
        for (unsigned v = 0; v < nvec; v++) {
                m->table[v * MSIX_ENTRY_SIZE + 12] = MSIX_VEC_MASKED; /* masked at reset */
                m->vec[v] = (struct pci_msix_vector){.gsi = -1, .efd = -1, .dirty = true};
        }
        pci_cfg_set16(dev, cap + 2, (uint16_t)(nvec - 1));
        pci_cfg_set32(dev, cap + 4, table_off | bar);
        pci_cfg_set32(dev, cap + 8, pba_off | bar);
        dev->wmask[cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) >> 8;
        return 0;
}

/* Makes sure vec has a current KVM route and an irqfd; false to fall back. */
static bool vector_route(struct pci_device *dev, unsigned vec, uint64_t addr, uint32_t data)
{
        struct pci_msix_vector *v = &dev->msix.vec[vec];
        if (v->dirty || v->gsi < 0) {
                int rc = v->gsi < 0 ? vm_msi_route_add(dev->vm, addr, data)
                                    : vm_msi_route_update(dev->vm, (unsigned)v->gsi, addr, data);
                if (rc < 0)
                        return false;
                if (v->gsi < 0)
                        v->gsi = rc;
                v->dirty = false;
        }
        if (v->efd < 0) {
                int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (efd < 0)
                        return false;
                if (vm_irqfd(dev->vm, efd, (unsigned)v->gsi, true) < 0) {
                        close(efd);
                        return false;
                }
                v->efd = efd;
        }
        return true;
}

static void vector_send(struct pci_device *dev, unsigned vec)
{
        uint64_t addr = entry_word(dev, vec, 0) | (uint64_t)entry_word(dev, vec, 1) << 32;
        uint32_t data = entry_word(dev, vec, 2);
        dev->irqs_sent++;
        if (vector_route(dev, vec, addr, data)) {
                uint64_t one = 1;
                if (write(dev->msix.vec[vec].efd, &one, sizeof(one)) == sizeof(one))
                        return;
        }
        vm_signal_msi(dev->vm, addr, data);
}

void pci_msix_notify(struct pci_device *dev, unsigned vec)
{
        if (!pci_msix_enabled(dev) || vec >= dev->msix.nvec)
                return;
        if (vector_masked(dev, vec)) {
                dev->msix.vec[vec].pending = true;
                return;
        }
        vector_send(dev, vec);
}

/* A vector became deliverable: send what it held back while masked. */
static void flush_pending(struct pci_device *dev)
{
        if (!pci_msix_enabled(dev))
                return;
        for (unsigned v = 0; v < dev->msix.nvec; v++) {
                if (dev->msix.vec[v].pending && !vector_masked(dev, v)) {
                        dev->msix.vec[v].pending = false;
                        vector_send(dev, v);
                }
        }
}

void pci_msix_config_written(struct pci_device *dev, unsigned off, unsigned len)
{
        unsigned ctrl = dev->msix.cap + 2;
        if (dev->msix.cap && off < ctrl + 2 && off + len > ctrl)
                flush_pending(dev);
}

static uint64_t pba_size(const struct pci_msix *m)
{
        return ((m->nvec + 63) / 64) * 8;
}

bool pci_msix_bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data,
                         unsigned len, bool is_write)
{
        struct pci_msix *m = &dev->msix;
        if (!m->cap || bar != m->bar)
                return false;
        uint64_t table_len = (uint64_t)m->nvec * MSIX_ENTRY_SIZE;
        if (off >= m->table_off && off - m->table_off < table_len) {
                uint64_t t = off - m->table_off;
                unsigned n = len;
                if (n > table_len - t)
                        n = (unsigned)(table_len - t);
                if (!is_write) {
                        memset(data, 0xff, len);
                        memcpy(data, m->table + t, n);
                        return true;
                }
                memcpy(m->table + t, data, n);
                for (uint64_t v = t / MSIX_ENTRY_SIZE; v <= (t + n - 1) / MSIX_ENTRY_SIZE; v++)
                        m->vec[v].dirty = true;
                flush_pending(dev);
                return true;
        }
        if (off >= m->pba_off && off - m->pba_off < pba_size(m)) {
                if (is_write)
                        return true; /* read-only */
                uint8_t bits[MSIX_MAX_VECTORS / 8 + 8] = {0};
                for (unsigned v = 0; v < m->nvec; v++)
                        if (m->vec[v].pending)
                                bits[v / 8] |= (uint8_t)(1u << (v % 8));
                uint64_t p = off - m->pba_off;
                memset(data, 0, len);
                unsigned n = len;
                if (n > pba_size(m) - p)
                        n = (unsigned)(pba_size(m) - p);
                memcpy(data, bits + p, n);
                return true;
        }
        return false;
}

void pci_msix_release(struct pci_device *dev)
{
        struct pci_msix *m = &dev->msix;
        for (unsigned v = 0; v < m->nvec; v++) {
                if (m->vec[v].efd >= 0) {
                        vm_irqfd(dev->vm, m->vec[v].efd, (unsigned)m->vec[v].gsi, false);
                        close(m->vec[v].efd);
                }
        }
        free(m->table);
        free(m->vec);
        memset(m, 0, sizeof(*m));
}
