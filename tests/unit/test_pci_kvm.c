/* virtio-pci's KVM plumbing on a real VM (no guest code runs): enabling a
 * queue registers its notify address as an ioeventfd (a second registration
 * of the same address is refused by KVM), a reset drops it, a BAR move
 * re-registers it, and an unmasked MSI-X vector is delivered through a KVM
 * route and irqfd rather than KVM_SIGNAL_MSI. Skipped (77) without /dev/kvm. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../hv/pci/pci.h"
#include "../../hv/pci/virtio_pci.h"
#include "devices.h"
#include "harness.h"
#include "vdriver.h"

static struct vm vm;

static void wr(uint64_t addr, uint64_t v, unsigned len)
{
        io_bus_dispatch(&vm.mmio, addr, &v, len, true);
}

static void cfg_write(unsigned slot, unsigned reg, uint32_t v, unsigned len)
{
        uint32_t a = 0x80000000u | slot << 11 | (reg & 0xfc);
        io_bus_dispatch(&vm.pio, 0xcf8, &a, 4, true);
        io_bus_dispatch(&vm.pio, 0xcfc + (reg & 3), &v, len, true);
}

/* Is addr already an ioeventfd? KVM refuses a duplicate with EEXIST. */
static bool ioeventfd_taken(uint64_t addr)
{
        int efd = eventfd(0, EFD_CLOEXEC);
        REQUIRE(efd >= 0);
        int rc = vm_ioeventfd(&vm, efd, addr, 2, false, true);
        if (rc == 0)
                vm_ioeventfd(&vm, efd, addr, 2, false, false);
        close(efd);
        return rc == -EEXIST;
}

static void bring_up(uint64_t b, struct vd_queue *q)
{
        wr(b + VIRTIO_PCI_COMMON_STATUS, 0, 1);
        wr(b + VIRTIO_PCI_COMMON_STATUS, 3, 1);
        wr(b + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
        wr(b + VIRTIO_PCI_COMMON_GF, 1, 4);
        wr(b + VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
        wr(b + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
        wr(b + VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
        wr(b + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
        vd_queue_init(q, &vm.mem, 0x10000, 8);
        wr(b + VIRTIO_PCI_COMMON_Q_DESC, q->desc, 8);
        wr(b + VIRTIO_PCI_COMMON_Q_AVAIL, q->avail, 8);
        wr(b + VIRTIO_PCI_COMMON_Q_USED, q->used, 8);
        wr(b + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
        wr(b + VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
}

int main(void)
{
        char err[200];
        if (access("/dev/kvm", R_OK | W_OK) != 0) {
                printf("skip: no /dev/kvm\n");
                return 77;
        }
        REQUIRE(vm_create(&vm, 16ull << 20, 1, err, sizeof(err)) == 0);
        struct pci_bus *bus = pci_bus_create(&vm, err, sizeof(err));
        REQUIRE(bus);
        struct virtio_device *rng = virtio_rng_create(&vm.mem, err, sizeof(err));
        REQUIRE(rng && virtio_pci_add(bus, rng, err, sizeof(err)) == 0);
        struct pci_device *dev = pci_bus_device(bus, 1);
        REQUIRE(dev);
        uint64_t b = dev->bar[0].mapped_addr;
        uint64_t kick = b + VIRTIO_PCI_NOTIFY_OFF;

        CHECK(!ioeventfd_taken(kick));
        struct vd_queue q;
        bring_up(b, &q);
        CHECK(ioeventfd_taken(kick));

        /* MSI-X on, vector 1 unmasked: delivery must go through route + irqfd */
        unsigned m = dev->msix.cap;
        cfg_write(1, m + 2, 0x8000, 2);
        uint64_t t = b + VIRTIO_PCI_MSIX_TABLE_OFF + 16;
        wr(t, 0xfee00000, 4);
        wr(t + 8, 0x31, 4);
        wr(t + 12, 0, 4);
        unsigned long long injected = vm.stats.irqs_injected;
        vd_set_used_event(&q, 0);
        struct vd_buf vb = {0x20000, 16, true};
        vd_add_chain(&q, &vb, 1);
        wr(kick, 0, 2); /* the exit path: no vCPU runs, so no ioeventfd fires */
        uint32_t id, len;
        CHECK(vd_get_used(&q, &id, &len) && len == 16);
        CHECK_EQ(dev->irqs_sent, 1);
        CHECK(dev->msix.vec[1].gsi >= 24);
        CHECK(dev->msix.vec[1].efd >= 0);
        CHECK_EQ(vm.stats.irqs_injected, injected); /* no KVM_SIGNAL_MSI fallback */

        /* the driver moves BAR 0: the ioeventfd follows */
        uint64_t moved = PCI_MMIO_WINDOW_BASE + 0x100000;
        cfg_write(1, PCI_BAR0, (uint32_t)moved, 4);
        CHECK(!ioeventfd_taken(kick));
        CHECK(ioeventfd_taken(moved + VIRTIO_PCI_NOTIFY_OFF));

        /* reset drops it */
        wr(moved + VIRTIO_PCI_COMMON_STATUS, 0, 1);
        CHECK(!ioeventfd_taken(moved + VIRTIO_PCI_NOTIFY_OFF));

        pci_bus_destroy(bus);
        virtio_device_destroy(rng);
        vm_destroy(&vm);
        TEST_END();
}
