/* KVM VM creation, memory slots and interrupt plumbing. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"

/* Addresses KVM needs on Intel for real-mode emulation; they sit in the top
 * page range that no device or RAM uses. */
#define KVM_TSS_GPA          0xfffbd000
#define KVM_IDENTITY_MAP_GPA 0xfffbc000

bool vm_kvm_is_software(void)
{
        if (access("/sys/module/kvm_pvm", F_OK) == 0)
                return true;
        /* Hardware-assisted KVM needs the CPU flag; without it /dev/kvm is emulation. */
        FILE *f = fopen("/proc/cpuinfo", "re");
        if (!f)
                return true;
        char line[4096];
        bool hw = false;
        while (!hw && fgets(line, sizeof(line), f)) {
                if (strncmp(line, "flags", 5) != 0)
                        continue;
                hw = strstr(line, " vmx") || strstr(line, " svm");
        }
        fclose(f);
        return !hw;
}

static int set_user_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host, uint32_t flags)
{
        struct kvm_userspace_memory_region r = {
            .slot = vm->next_slot,
            .flags = flags,
            .guest_phys_addr = gpa,
            .memory_size = size,
            .userspace_addr = (uint64_t)(uintptr_t)host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
                return -errno;
        return (int)vm->next_slot++;
}

static void route_irqchip(struct kvm_irq_routing_entry *e, unsigned gsi, unsigned chip,
                          unsigned pin)
{
        memset(e, 0, sizeof(*e));
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_IRQCHIP;
        e->u.irqchip.irqchip = chip;
        e->u.irqchip.pin = pin;
}

static int commit_routes(struct vm *vm)
{
        size_t sz = sizeof(struct kvm_irq_routing) + vm->nroutes * sizeof(vm->routes[0]);
        struct kvm_irq_routing *r = calloc(1, sz);
        if (!r)
                return -ENOMEM;
        r->nr = vm->nroutes;
        memcpy(r->entries, vm->routes, vm->nroutes * sizeof(vm->routes[0]));
        int rc = ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
        free(r);
        return rc;
}

/* ISA IRQ0 (the in-kernel PIT) reaches IOAPIC pin 2, matching the interrupt
 * source override in the MADT; every other legacy IRQ is identity-mapped. */
static int setup_default_routes(struct vm *vm)
{
        vm->nroutes = 0;
        for (unsigned gsi = 0; gsi < 24; gsi++) {
                if (gsi < 16)
                        route_irqchip(&vm->routes[vm->nroutes++], gsi,
                                      gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
                                      gsi % 8);
                if (gsi == 2)
                        continue;
                route_irqchip(&vm->routes[vm->nroutes++], gsi, KVM_IRQCHIP_IOAPIC,
                              gsi == 0 ? 2 : gsi);
        }
        vm->next_gsi = 24;
        return commit_routes(vm);
}

static int vcpu_create(struct vm *vm, unsigned id, char *err, size_t errlen)
{
        struct vcpu *v = &vm->vcpu[id];
        v->vm = vm;
        v->id = id;
        v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
        if (v->fd < 0) {
                snprintf(err, errlen, "cannot create vCPU %u: %s", id, strerror(errno));
                return -errno;
        }
        int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (sz <= 0) {
                snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE failed");
                return -EIO;
        }
        v->run_size = (size_t)sz;
        v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
                v->run = NULL;
                snprintf(err, errlen, "cannot map vCPU %u run area: %s", id, strerror(errno));
                return -errno;
        }
        int rc = cpuid_setup_vcpu(vm, v);
        if (rc < 0) {
                snprintf(err, errlen, "cannot set CPUID on vCPU %u: %s", id, strerror(-rc));
                return rc;
        }
        return 0;
}

int vm_create(struct vm *vm, uint64_t ram_size, unsigned ncpus, char *err, size_t errlen)
{
        memset(vm, 0, sizeof(*vm));
        vm->kvm_fd = vm->vm_fd = -1;
        vm->mem.memfd = -1;
        atomic_store(&vm->exit_status, VM_RUNNING);
        pthread_mutex_init(&vm->lock, NULL);
        pthread_cond_init(&vm->pause_cond, NULL);
        if (ncpus == 0 || ncpus > VM_MAX_VCPUS) {
                snprintf(err, errlen, "vCPU count %u out of range 1..%d", ncpus, VM_MAX_VCPUS);
                return -EINVAL;
        }
        vm->software_kvm = vm_kvm_is_software();
        vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (vm->kvm_fd < 0) {
                int e = errno;
                snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(e));
                return -e;
        }
        if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
                snprintf(err, errlen, "/dev/kvm speaks an unsupported KVM API version");
                return -ENOTSUP;
        }
        int max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
        if (max > 0 && ncpus > (unsigned)max) {
                snprintf(err, errlen, "this KVM supports at most %d vCPUs, %u requested", max,
                         ncpus);
                return -EINVAL;
        }
        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
        if (vm->vm_fd < 0) {
                int e = errno;
                snprintf(err, errlen, "KVM_CREATE_VM failed: %s", strerror(e));
                return -e;
        }
        /* Intel-only requirements; other backends may refuse them harmlessly. */
        ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA);
        uint64_t idmap = KVM_IDENTITY_MAP_GPA;
        ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
        if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
                int e = errno;
                snprintf(err, errlen, "KVM_CREATE_IRQCHIP failed: %s", strerror(e));
                return -e;
        }
        struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
        if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
                int e = errno;
                snprintf(err, errlen, "KVM_CREATE_PIT2 failed: %s", strerror(e));
                return -e;
        }
        int rc = setup_default_routes(vm);
        if (rc < 0) {
                snprintf(err, errlen, "KVM_SET_GSI_ROUTING failed: %s", strerror(-rc));
                return rc;
        }
        rc = guest_mem_init(&vm->mem, ram_size);
        if (rc < 0) {
                snprintf(err, errlen, "cannot allocate %llu bytes of guest RAM: %s",
                         (unsigned long long)ram_size, strerror(-rc));
                return rc;
        }
        for (unsigned i = 0; i < vm->mem.nregions; i++) {
                struct guest_mem_region *r = &vm->mem.region[i];
                rc = set_user_memory(vm, r->gpa, r->size, r->host, 0);
                if (rc < 0) {
                        snprintf(err, errlen, "KVM_SET_USER_MEMORY_REGION failed: %s",
                                 strerror(-rc));
                        return rc;
                }
        }
        vm->loop = evloop_new();
        if (!vm->loop) {
                snprintf(err, errlen, "cannot create the event loop");
                return -ENOMEM;
        }
        vm->ncpus = ncpus;
        for (unsigned i = 0; i < ncpus; i++) {
                rc = vcpu_create(vm, i, err, errlen);
                if (rc < 0)
                        return rc;
        }
        return 0;
}

void vm_destroy(struct vm *vm)
{
        for (unsigned i = 0; i < vm->ncpus; i++) {
                struct vcpu *v = &vm->vcpu[i];
                if (v->run)
                        munmap(v->run, v->run_size);
                if (v->fd >= 0)
                        close(v->fd);
        }
        if (vm->loop)
                evloop_free(vm->loop);
        guest_mem_destroy(&vm->mem);
        if (vm->vm_fd >= 0)
                close(vm->vm_fd);
        if (vm->kvm_fd >= 0)
                close(vm->kvm_fd);
        vm->vm_fd = vm->kvm_fd = -1;
        vm->ncpus = 0;
}

void vm_lock(struct vm *vm)
{
        pthread_mutex_lock(&vm->lock);
}

void vm_unlock(struct vm *vm)
{
        pthread_mutex_unlock(&vm->lock);
}

int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host, bool readonly)
{
        int rc = set_user_memory(vm, gpa, size, host, readonly ? KVM_MEM_READONLY : 0);
        return rc < 0 ? rc : 0;
}

int vm_map_memory_logged(struct vm *vm, uint64_t gpa, uint64_t size, void *host, int *slot)
{
        int rc = set_user_memory(vm, gpa, size, host, KVM_MEM_LOG_DIRTY_PAGES);
        if (rc < 0)
                return rc;
        *slot = rc;
        return 0;
}

int vm_get_dirty_log(struct vm *vm, int slot, uint64_t *bitmap)
{
        struct kvm_dirty_log log = {.slot = (uint32_t)slot, .dirty_bitmap = bitmap};
        return ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
        struct kvm_irq_level irq = {.irq = gsi, .level = level};
        atomic_fetch_add(&vm->stats.irqs_injected, 1);
        return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

void vm_irq_pulse(struct vm *vm, unsigned gsi)
{
        vm_irq_line(vm, gsi, 1);
        vm_irq_line(vm, gsi, 0);
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
        struct kvm_msi msi = {
            .address_lo = (uint32_t)addr, .address_hi = (uint32_t)(addr >> 32), .data = data};
        atomic_fetch_add(&vm->stats.irqs_injected, 1);
        return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

static void route_msi(struct kvm_irq_routing_entry *e, unsigned gsi, uint64_t addr, uint32_t data)
{
        memset(e, 0, sizeof(*e));
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_MSI;
        e->u.msi.address_lo = (uint32_t)addr;
        e->u.msi.address_hi = (uint32_t)(addr >> 32);
        e->u.msi.data = data;
}

int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
        if (vm->nroutes >= VM_MAX_GSI || vm->next_gsi >= VM_MAX_GSI)
                return -ENOSPC;
        unsigned gsi = vm->next_gsi++;
        route_msi(&vm->routes[vm->nroutes++], gsi, addr, data);
        int rc = commit_routes(vm);
        if (rc < 0) {
                vm->nroutes--;
                vm->next_gsi--;
                return rc;
        }
        return (int)gsi;
}

int vm_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
        for (unsigned i = 0; i < vm->nroutes; i++) {
                if (vm->routes[i].gsi == gsi && vm->routes[i].type == KVM_IRQ_ROUTING_MSI) {
                        route_msi(&vm->routes[i], gsi, addr, data);
                        return commit_routes(vm);
                }
        }
        return -ENOENT;
}

int vm_irqfd(struct vm *vm, int efd, unsigned gsi, bool assign)
{
        struct kvm_irqfd irqfd = {
            .fd = (uint32_t)efd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};
        return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, unsigned len, bool is_pio, bool assign)
{
        struct kvm_ioeventfd io = {
            .addr = addr,
            .len = len,
            .fd = efd,
            .flags =
                (is_pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
        };
        return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

void vm_set_port_hook(struct vm *vm, uint16_t port, vm_port_hook_fn fn, void *opaque)
{
        vm->hook_port = port;
        vm->hook_fn = fn;
        vm->hook_opaque = opaque;
}

int vm_add_kick(struct vm *vm, vm_kick_fn fn, void *opaque)
{
        if (vm->nkicks == sizeof(vm->kicks) / sizeof(vm->kicks[0]))
                return -ENOSPC;
        vm->kicks[vm->nkicks].fn = fn;
        vm->kicks[vm->nkicks].opaque = opaque;
        vm->nkicks++;
        return 0;
}

bool vm_should_yield(struct vm *vm)
{
        return atomic_load(&vm->pause_requested) || atomic_load(&vm->exit_status) != VM_RUNNING;
}
