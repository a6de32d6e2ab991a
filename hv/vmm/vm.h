/* One KVM virtual machine: its memory, vCPUs, buses, interrupt plumbing and
 * lifecycle. Devices see the VM only through this header.
 *
 * Locking: one device lock per VM (vm_lock/vm_unlock). vCPU threads take it
 * around every PIO/MMIO dispatch, the event loop around every callback. A
 * device therefore never needs its own lock for register or queue state.
 * Port hooks (vm_set_port_hook) run WITHOUT the lock, because a hook may
 * block the calling vCPU (the legacy guest's block-until-event hypercall). */
#ifndef TANDEM_VM_H
#define TANDEM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "evloop.h"
#include "guest_mem.h"
#include "iobus.h"

#define VM_MAX_VCPUS 64
#define VM_MAX_GSI   1024

/* Why the VM stopped; also tandem-vmm's exit status (docs in tandem-vmm --help). */
enum vm_exit {
        VM_RUNNING = -1,
        VM_EXIT_POWEROFF = 0, /* guest powered off */
        VM_EXIT_ERROR = 1,    /* the VMM failed (setup, KVM error) */
        VM_EXIT_USAGE = 2,    /* bad arguments or configuration */
        VM_EXIT_REBOOT = 3,   /* guest asked for a reset */
        VM_EXIT_CRASH = 4,    /* triple fault, emulation failure, guest crash report */
};

struct vm;

struct vcpu {
        struct vm *vm;
        unsigned id;
        int fd;
        struct kvm_run *run;
        size_t run_size;
        pthread_t thread;
        bool started;
};

/* Counters of exits to userspace, read by `stats` and the benchmarks. */
struct vm_stats {
        atomic_ullong exits_total;
        atomic_ullong exits_pio;
        atomic_ullong exits_mmio;
        atomic_ullong exits_hypercall;
        atomic_ullong exits_other;
        atomic_ullong irqs_injected; /* interrupts raised from userspace (not irqfd) */
        atomic_ullong guest_insns;   /* single-steps, with vm.count_insns only */
};

typedef void (*vm_port_hook_fn)(struct vcpu *vcpu, void *opaque);
typedef void (*vm_kick_fn)(void *opaque);

struct vm {
        int kvm_fd, vm_fd;
        struct guest_mem mem;
        struct io_bus pio, mmio;
        pthread_mutex_t lock;
        struct evloop *loop;
        unsigned ncpus;
        struct vcpu vcpu[VM_MAX_VCPUS];
        bool software_kvm;  /* /dev/kvm emulates guest code (kvm_pvm) */
        uint64_t acpi_rsdp; /* set by the ACPI builder, read by the loaders; 0 = none */
        /* Asks the guest to power off cleanly (ACPI power button, PV event). */
        void (*guest_shutdown_fn)(void *opaque);
        void *guest_shutdown_opaque;
        unsigned next_slot; /* next free KVM memory slot */

        /* MSI routing: GSIs below 24 are the IOAPIC pins; MSI routes follow. */
        unsigned next_gsi;
        unsigned nroutes;
        struct kvm_irq_routing_entry routes[VM_MAX_GSI];

        /* lifecycle */
        _Atomic int exit_status; /* VM_RUNNING until the VM stops */
        char exit_reason[160];
        atomic_bool pause_requested;
        unsigned paused_vcpus;
        unsigned running_vcpus; /* vCPU threads that have not returned */
        pthread_cond_t pause_cond;

        uint16_t hook_port;
        vm_port_hook_fn hook_fn;
        void *hook_opaque;
        unsigned nkicks;
        struct {
                vm_kick_fn fn;
                void *opaque;
        } kicks[8];

        struct vm_stats stats;
        /* Single-step every vCPU (KVM_GUESTDBG_SINGLESTEP) and count the
         * steps: the only guest instruction counter on a software KVM and in
         * a nested rig, neither of which has a PMU. Set before vm_start. */
        bool count_insns;
};

/* Opens /dev/kvm, creates the VM with an in-kernel irqchip and PIT, guest RAM
 * of ram_size bytes and ncpus vCPUs (not yet running). On failure returns
 * -errno and writes a one-line reason to err. */
int vm_create(struct vm *vm, uint64_t ram_size, unsigned ncpus, char *err, size_t errlen);
void vm_destroy(struct vm *vm);

/* True when /dev/kvm is a software KVM (no vmx/svm flag, or kvm_pvm loaded). */
bool vm_kvm_is_software(void);

void vm_lock(struct vm *vm);
void vm_unlock(struct vm *vm);

/* Maps extra host memory (a display memfd mapping) at gpa. Returns 0 or -errno. */
int vm_map_memory(struct vm *vm, uint64_t gpa, uint64_t size, void *host, bool readonly);
/* Dirty-page log for a slot mapped with vm_map_memory(..., log_dirty) */
int vm_map_memory_logged(struct vm *vm, uint64_t gpa, uint64_t size, void *host, int *slot);
int vm_get_dirty_log(struct vm *vm, int slot, uint64_t *bitmap);

/* Interrupts */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);
void vm_irq_pulse(struct vm *vm, unsigned gsi); /* edge: raise then lower */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* Allocates a GSI routed to an MSI message; returns the GSI or -errno. */
int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data);
int vm_msi_route_update(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
/* Binds (assign) or unbinds an eventfd to a GSI: writes to efd inject it in-kernel. */
int vm_irqfd(struct vm *vm, int efd, unsigned gsi, bool assign);
/* Makes a guest write of len bytes to addr signal efd in-kernel, with no exit. */
int vm_ioeventfd(struct vm *vm, int efd, uint64_t addr, unsigned len, bool is_pio, bool assign);

/* One port whose OUT exits go to fn on the vCPU thread, outside the lock. */
void vm_set_port_hook(struct vm *vm, uint16_t port, vm_port_hook_fn fn, void *opaque);
/* Called when vCPUs must leave a blocking hook (pause, shutdown). */
int vm_add_kick(struct vm *vm, vm_kick_fn fn, void *opaque);
/* True when a hook that blocks should return now. */
bool vm_should_yield(struct vm *vm);

/* Register access from a vCPU's own thread (port hooks). */
int vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs);
int vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs);

/* Lifecycle. vm_request_exit records the first status and reason and stops
 * every vCPU; later calls are ignored. */
void vm_request_exit(struct vm *vm, enum vm_exit status, const char *reason);
int vm_start(struct vm *vm); /* starts the vCPU threads */
int vm_wait(struct vm *vm);  /* joins them; returns the exit status */
/* Pause and resume are called with vm_lock held (control commands run so);
 * vm_pause waits, releasing the lock, until every vCPU is parked. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
bool vm_is_paused(struct vm *vm);

#endif
