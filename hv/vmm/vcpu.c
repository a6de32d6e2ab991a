/* vCPU threads: KVM_RUN, one switch on the exit reason, pause and stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"

/* Interrupts a vCPU that sits in KVM_RUN; the handler does nothing, the
 * EINTR return is the point. */
#define VCPU_KICK_SIGNAL SIGUSR1

static void kick_handler(int sig)
{
        (void)sig;
}

static void vcpu_kick(struct vcpu *v)
{
        if (!v->run)
                return;
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        if (v->started)
                pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

static void kick_all(struct vm *vm)
{
        for (unsigned i = 0; i < vm->ncpus; i++)
                vcpu_kick(&vm->vcpu[i]);
        for (unsigned i = 0; i < vm->nkicks; i++)
                vm->kicks[i].fn(vm->kicks[i].opaque);
}

void vm_request_exit(struct vm *vm, enum vm_exit status, const char *reason)
{
        int expected = VM_RUNNING;
        if (!atomic_compare_exchange_strong(&vm->exit_status, &expected, (int)status))
                return;
        snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s", reason);
        kick_all(vm);
        if (vm->loop)
                evloop_stop(vm->loop);
}

int vcpu_get_regs(struct vcpu *v, struct kvm_regs *regs)
{
        return ioctl(v->fd, KVM_GET_REGS, regs) < 0 ? -errno : 0;
}

int vcpu_set_regs(struct vcpu *v, const struct kvm_regs *regs)
{
        return ioctl(v->fd, KVM_SET_REGS, regs) < 0 ? -errno : 0;
}

static void handle_io(struct vcpu *v)
{
        struct vm *vm = v->vm;
        struct kvm_run *run = v->run;
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
        if (is_write && vm->hook_fn && run->io.port == vm->hook_port && run->io.count == 1) {
                atomic_fetch_add(&vm->stats.exits_hypercall, 1);
                vm->hook_fn(v, vm->hook_opaque);
                return;
        }
        atomic_fetch_add(&vm->stats.exits_pio, 1);
        vm_lock(vm);
        for (uint32_t i = 0; i < run->io.count; i++) {
                io_bus_dispatch(&vm->pio, run->io.port, data, run->io.size, is_write);
                data += run->io.size;
        }
        vm_unlock(vm);
}

static void handle_mmio(struct vcpu *v)
{
        struct vm *vm = v->vm;
        struct kvm_run *run = v->run;
        unsigned len = run->mmio.len;
        if (len > sizeof(run->mmio.data))
                len = sizeof(run->mmio.data);
        atomic_fetch_add(&vm->stats.exits_mmio, 1);
        vm_lock(vm);
        io_bus_dispatch(&vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
        vm_unlock(vm);
}

static void park_if_paused(struct vcpu *v)
{
        struct vm *vm = v->vm;
        if (!atomic_load(&vm->pause_requested))
                return;
        vm_lock(vm);
        vm->paused_vcpus++;
        pthread_cond_broadcast(&vm->pause_cond);
        while (atomic_load(&vm->pause_requested) && atomic_load(&vm->exit_status) == VM_RUNNING)
                pthread_cond_wait(&vm->pause_cond, &vm->lock);
        vm->paused_vcpus--;
        vm_unlock(vm);
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
        struct vm *vm = v->vm;
        struct kvm_run *run = v->run;
        char why[160];
        atomic_fetch_add(&vm->stats.exits_total, 1);
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
                handle_io(v);
                return true;
        case KVM_EXIT_MMIO:
                handle_mmio(v);
                return true;
        case KVM_EXIT_INTR:
                return true;
        case KVM_EXIT_DEBUG:
                if (vm->count_insns) {
                        /* Not an exit the guest caused: keep exits_total meaningful. */
                        atomic_fetch_sub(&vm->stats.exits_total, 1);
                        atomic_fetch_add(&vm->stats.guest_insns, 1);
                        return true;
                }
                atomic_fetch_add(&vm->stats.exits_other, 1);
                return true;
        case KVM_EXIT_HLT:
                /* Only without an in-kernel LAPIC; a halted guest with nothing to wake it. */
                vm_request_exit(vm, VM_EXIT_POWEROFF, "guest halted");
                return false;
        case KVM_EXIT_SHUTDOWN:
                snprintf(why, sizeof(why), "vCPU %u: triple fault", v->id);
                vm_request_exit(vm, VM_EXIT_CRASH, why);
                return false;
        case KVM_EXIT_SYSTEM_EVENT:
                if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
                        vm_request_exit(vm, VM_EXIT_REBOOT, "guest reset (system event)");
                else
                        vm_request_exit(vm, VM_EXIT_POWEROFF, "guest powered off (system event)");
                return false;
        case KVM_EXIT_INTERNAL_ERROR:
                snprintf(why, sizeof(why), "vCPU %u: KVM internal error, suberror %u%s", v->id,
                         run->internal.suberror,
                         run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                             ? " (instruction emulation failed)"
                             : "");
                vm_request_exit(vm, VM_EXIT_CRASH, why);
                return false;
        case KVM_EXIT_FAIL_ENTRY:
                snprintf(why, sizeof(why), "vCPU %u: VM entry failed, reason 0x%llx", v->id,
                         (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
                vm_request_exit(vm, VM_EXIT_ERROR, why);
                return false;
        default:
                atomic_fetch_add(&vm->stats.exits_other, 1);
                snprintf(why, sizeof(why), "vCPU %u: unhandled KVM exit %u", v->id,
                         run->exit_reason);
                vm_request_exit(vm, VM_EXIT_CRASH, why);
                return false;
        }
}

static void *vcpu_thread(void *arg)
{
        struct vcpu *v = arg;
        struct vm *vm = v->vm;
        char name[16];
        snprintf(name, sizeof(name), "vcpu%u", v->id);
        pthread_setname_np(pthread_self(), name);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, VCPU_KICK_SIGNAL);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        if (vm->count_insns) {
                struct kvm_guest_debug dbg = {
                    .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP,
                };
                if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0) {
                        char why[96];
                        snprintf(why, sizeof(why), "vCPU %u: cannot single-step: %s", v->id,
                                 strerror(errno));
                        vm_request_exit(vm, VM_EXIT_ERROR, why);
                }
        }

        while (atomic_load(&vm->exit_status) == VM_RUNNING) {
                __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                park_if_paused(v);
                if (atomic_load(&vm->exit_status) != VM_RUNNING)
                        break;
                if (ioctl(v->fd, KVM_RUN, 0) < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        char why[96];
                        snprintf(why, sizeof(why), "vCPU %u: KVM_RUN failed: %s", v->id,
                                 strerror(errno));
                        vm_request_exit(vm, VM_EXIT_ERROR, why);
                        break;
                }
                if (!handle_exit(v))
                        break;
        }
        vm_lock(vm);
        vm->running_vcpus--;
        pthread_cond_broadcast(&vm->pause_cond);
        vm_unlock(vm);
        return NULL;
}

int vm_start(struct vm *vm)
{
        struct sigaction sa = {.sa_handler = kick_handler};
        sigemptyset(&sa.sa_mask);
        sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
        /* Threads inherit this mask; each vCPU unblocks the kick for itself. */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, VCPU_KICK_SIGNAL);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        for (unsigned i = 0; i < vm->ncpus; i++) {
                struct vcpu *v = &vm->vcpu[i];
                vm_lock(vm);
                vm->running_vcpus++;
                vm_unlock(vm);
                int rc = pthread_create(&v->thread, NULL, vcpu_thread, v);
                if (rc != 0) {
                        vm_lock(vm);
                        vm->running_vcpus--;
                        vm_unlock(vm);
                        vm_request_exit(vm, VM_EXIT_ERROR, "cannot start a vCPU thread");
                        return -rc;
                }
                v->started = true;
        }
        return 0;
}

int vm_wait(struct vm *vm)
{
        for (unsigned i = 0; i < vm->ncpus; i++)
                if (vm->vcpu[i].started)
                        pthread_join(vm->vcpu[i].thread, NULL);
        return atomic_load(&vm->exit_status);
}

void vm_pause(struct vm *vm)
{
        if (atomic_exchange(&vm->pause_requested, true))
                return;
        kick_all(vm);
        while (vm->paused_vcpus < vm->running_vcpus && atomic_load(&vm->exit_status) == VM_RUNNING)
                pthread_cond_wait(&vm->pause_cond, &vm->lock);
}

void vm_resume(struct vm *vm)
{
        atomic_store(&vm->pause_requested, false);
        pthread_cond_broadcast(&vm->pause_cond);
}

bool vm_is_paused(struct vm *vm)
{
        return atomic_load(&vm->pause_requested);
}
