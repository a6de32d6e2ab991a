/* The CPUID a guest sees. Policy (docs/platform.md): start from what KVM
 * supports on this host, then give every vCPU its own APIC ID, set the
 * hypervisor bit, and hide what Tandem does not virtualize: nested
 * virtualization (VMX/SVM), the PMU, MONITOR/MWAIT and thermal/power leaves. */
#ifndef TANDEM_CPUID_H
#define TANDEM_CPUID_H

struct vm;
struct vcpu;

int cpuid_setup_vcpu(struct vm *vm, struct vcpu *vcpu);

#endif
