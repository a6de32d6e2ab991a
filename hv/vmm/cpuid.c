#include "cpuid.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vm.h"

#define CPUID_MAX_ENTRIES 256

#define LEAF1_ECX_VMX          (1u << 5)
#define LEAF1_ECX_MONITOR      (1u << 3)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_HYPERVISOR   (1u << 31)
#define LEAF1_EDX_HTT          (1u << 28)
#define EXT1_ECX_SVM           (1u << 2)

static void adjust(struct kvm_cpuid_entry2 *e, const struct vm *vm, unsigned apic_id,
                   bool tsc_deadline)
{
        switch (e->function) {
        case 1:
                e->ebx = (e->ebx & 0x0000ffffu) | (apic_id << 24) |
                         ((vm->ncpus > 1 ? vm->ncpus : 1) << 16);
                e->ecx &= ~(LEAF1_ECX_VMX | LEAF1_ECX_MONITOR);
                e->ecx |= LEAF1_ECX_HYPERVISOR;
                /* KVM emulates the TSC-deadline timer but does not report it as
                 * supported; without it Linux calibrates the LAPIC timer (~100 ms). */
                if (tsc_deadline)
                        e->ecx |= LEAF1_ECX_TSC_DEADLINE;
                if (vm->ncpus > 1)
                        e->edx |= LEAF1_EDX_HTT;
                break;
        case 4:
                /* cores per package - 1, so Linux's topology matches the MADT */
                e->eax = (e->eax & 0x03ffffffu) | ((vm->ncpus - 1) << 26);
                break;
        case 5:   /* MONITOR/MWAIT */
        case 6:   /* thermal and power management */
        case 0xa: /* architectural PMU */
                e->eax = e->ebx = e->ecx = e->edx = 0;
                break;
        case 0xd:
                /* EBX is the XSAVE area size for the XCR0 the guest has set.
                 * KVM is meant to refresh it on XSETBV, but a nested KVM (the
                 * rig) leaves the boot-time 576 in place and Linux then warns
                 * with a backtrace and a 64-line dump over the UART. Start at
                 * the size for every supported feature, which is what Linux
                 * enables. */
                if (e->index == 0)
                        e->ebx = e->ecx;
                break;
        case 0xb:
        case 0x1f:
                /* x2APIC topology: all vCPUs are cores of one package */
                e->edx = apic_id;
                break;
        case 0x80000001:
                e->ecx &= ~EXT1_ECX_SVM;
                break;
        default:
                break;
        }
}

int cpuid_setup_vcpu(struct vm *vm, struct vcpu *vcpu)
{
        size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
        struct kvm_cpuid2 *c = calloc(1, sz);
        if (!c)
                return -ENOMEM;
        c->nent = CPUID_MAX_ENTRIES;
        if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
                int e = -errno;
                free(c);
                return e;
        }
        bool tsc_deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
        for (unsigned i = 0; i < c->nent; i++)
                adjust(&c->entries[i], vm, vcpu->id, tsc_deadline);
        int rc = ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
        free(c);
        return rc;
}
