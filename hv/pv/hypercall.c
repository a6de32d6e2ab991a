/* Hypercall dispatch: the guest's `outl %eax, %dx` to TPV_PORT exits here on
 * its vCPU thread, without the VM lock. Every argument is checked; anything
 * wrong is an error code in EAX, never a VMM failure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../display/display.h"
#include "../vmm/vm.h"
#include "legacy_priv.h"

static int32_t hc_version(struct legacy_domain *d, uint32_t gpa)
{
        if (gpa) {
                struct tpv_version v = {.abi_version = TPV_ABI_VERSION,
                                        .features = TPV_FEAT_KEYBOARD};
                if (d->display)
                        v.features |= TPV_FEAT_DISPLAY;
                if (d->printer_fd >= 0)
                        v.features |= TPV_FEAT_PRINTER;
                if (d->nbus)
                        v.features |= TPV_FEAT_BLOCK;
                snprintf(v.vmm, sizeof(v.vmm), "tandem-vmm %s", TANDEM_VERSION);
                if (guest_mem_write(&d->vm->mem, gpa, &v, sizeof(v)) < 0)
                        return TPV_EFAULT;
        }
        return TPV_ABI_VERSION;
}

static int32_t write_all(int fd, const uint8_t *p, size_t len)
{
        size_t done = 0;
        while (done < len) {
                ssize_t n = write(fd, p + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return done ? (int32_t)done : TPV_EIO;
                done += (size_t)n;
        }
        return (int32_t)done;
}

static int32_t hc_console(struct legacy_domain *d, uint32_t gpa, uint32_t len)
{
        if (len > TPV_CONSOLE_MAX)
                return TPV_EINVAL;
        const uint8_t *p = guest_mem_ptr(&d->vm->mem, gpa, len);
        if (!p)
                return TPV_EFAULT;
        if (d->console_fd < 0)
                return (int32_t)len;
        return write_all(d->console_fd, p, len);
}

static int32_t hc_printer(struct legacy_domain *d, uint32_t gpa, uint32_t len)
{
        if (d->printer_fd < 0)
                return TPV_ENODEV;
        if (len == 0 || len > TPV_PRINTER_MAX)
                return TPV_EINVAL;
        const uint8_t *p = guest_mem_ptr(&d->vm->mem, gpa, len);
        if (!p)
                return TPV_EFAULT;
        int32_t r = write_all(d->printer_fd, p, len);
        /* A receipt counts as printed only once it is on stable storage. */
        if (r > 0 && fdatasync(d->printer_fd) < 0)
                return TPV_EIO;
        return r;
}

static int32_t hc_time(struct legacy_domain *d, uint32_t gpa)
{
        struct timespec wall, mono;
        clock_gettime(CLOCK_REALTIME, &wall);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        struct tm tm;
        time_t now = wall.tv_sec;
        localtime_r(&now, &tm);
        struct tpv_time t = {
            .wall_sec = (uint64_t)wall.tv_sec,
            .wall_nsec = (uint32_t)wall.tv_nsec,
            .utc_offset = (int32_t)tm.tm_gmtoff,
            .mono_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec,
        };
        return guest_mem_write(&d->vm->mem, gpa, &t, sizeof(t)) < 0 ? TPV_EFAULT : 0;
}

static int32_t hc_timer(struct legacy_domain *d, uint32_t lo, uint32_t hi)
{
        pthread_mutex_lock(&d->lock);
        d->timer_deadline = (uint64_t)hi << 32 | lo;
        pthread_cond_broadcast(&d->wake);
        pthread_mutex_unlock(&d->lock);
        return 0;
}

static const char *vector_name(uint32_t v)
{
        static const char *const names[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
                                            "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "-",
                                            "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
        return v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static int32_t hc_shutdown(struct legacy_domain *d, uint32_t reason, uint32_t gpa)
{
        switch (reason) {
        case TPV_SHUTDOWN_POWEROFF:
                vm_request_exit(d->vm, VM_EXIT_POWEROFF, "legacy guest powered off");
                return 0;
        case TPV_SHUTDOWN_REBOOT:
                vm_request_exit(d->vm, VM_EXIT_REBOOT, "legacy guest asked for a reboot");
                return 0;
        case TPV_SHUTDOWN_CRASH:
                break;
        default:
                return TPV_EINVAL;
        }
        char why[160];
        struct tpv_crash_report rep;
        if (!gpa || guest_mem_read(&d->vm->mem, gpa, &rep, sizeof(rep)) < 0) {
                snprintf(why, sizeof(why), "legacy guest crashed (no crash report%s)",
                         gpa ? ": bad report address" : "");
        } else {
                rep.message[sizeof(rep.message) - 1] = 0;
                for (char *c = rep.message; *c; c++)
                        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
                                *c = '?';
                if (rep.vector == TPV_CRASH_PANIC)
                        snprintf(why, sizeof(why), "legacy guest panic: %s", rep.message);
                else
                        snprintf(why, sizeof(why),
                                 "legacy guest crashed: exception %u (%s), error code 0x%x, "
                                 "EIP 0x%08x, ESP 0x%08x%s%s",
                                 rep.vector, vector_name(rep.vector), rep.error_code, rep.eip,
                                 rep.esp, rep.message[0] ? ": " : "", rep.message);
        }
        vm_request_exit(d->vm, VM_EXIT_CRASH, why);
        return 0;
}

static int32_t hc_device_info(struct legacy_domain *d, uint32_t index, uint32_t gpa)
{
        struct tpv_device_info info;
        memset(&info, 0, sizeof(info));
        unsigned i = index;
        if (i < d->nbus) {
                const struct virtio_device *v = d->bus[i].vdev;
                info.type = TPV_DEV_VIRTIO;
                info.virtio_id = v->ops->device_id;
                info.num_queues = v->ops->num_queues;
                info.queue_max = v->ops->queue_max_size;
                info.config_size = (uint32_t)v->ops->config_size;
                goto out;
        }
        i -= d->nbus;
        if (d->display && i-- == 0) {
                vm_lock(d->vm);
                const struct tandem_display_header *h = display_header(d->display);
                info.type = TPV_DEV_DISPLAY;
                info.gpa = LEGACY_DISPLAY_GPA;
                info.cols = h->width;
                info.rows = h->height;
                info.stride = h->stride;
                info.max_cols = LEGACY_MAX_COLS;
                info.max_rows = LEGACY_MAX_ROWS;
                vm_unlock(d->vm);
                goto out;
        }
        if (i-- == 0) {
                info.type = TPV_DEV_KEYBOARD;
                goto out;
        }
        if (d->printer_fd >= 0 && i-- == 0) {
                info.type = TPV_DEV_PRINTER;
                goto out;
        }
        return TPV_ENOENT;
out:
        return guest_mem_write(&d->vm->mem, gpa, &info, sizeof(info)) < 0 ? TPV_EFAULT : 0;
}

static int32_t hc_shared_info(struct legacy_domain *d, uint32_t gpa)
{
        if (gpa & 0xFFF)
                return TPV_EINVAL;
        struct tpv_shared_info *s = guest_mem_ptr(&d->vm->mem, gpa, sizeof(*s));
        if (!s)
                return TPV_EFAULT;
        if (s->magic != TPV_SHARED_MAGIC || s->version != TPV_ABI_VERSION)
                return TPV_EINVAL;
        pthread_mutex_lock(&d->lock);
        d->shared_gpa = gpa;
        s->control_request = d->control_request;
        legacy_keys_to_ring_locked(d);
        pthread_mutex_unlock(&d->lock);
        return 0;
}

static int32_t hc_display_mode(struct legacy_domain *d, uint32_t cols, uint32_t rows)
{
        if (!d->display)
                return TPV_ENODEV;
        if (cols == 0 || rows == 0 || cols > LEGACY_MAX_COLS || rows > LEGACY_MAX_ROWS)
                return TPV_EINVAL;
        vm_lock(d->vm);
        int r = display_set_mode(d->display, cols, rows, cols * 2);
        vm_unlock(d->vm);
        return r < 0 ? TPV_EINVAL : 0;
}

static int32_t dispatch(struct legacy_domain *d, const struct kvm_regs *r)
{
        uint32_t a1 = (uint32_t)r->rbx, a2 = (uint32_t)r->rcx;
        switch ((uint32_t)r->rax) {
        case TPV_HC_VERSION:
                return hc_version(d, a1);
        case TPV_HC_CONSOLE_WRITE:
                return hc_console(d, a1, a2);
        case TPV_HC_GET_TIME:
                return hc_time(d, a1);
        case TPV_HC_SET_TIMER:
                return hc_timer(d, a1, a2);
        case TPV_HC_EVENT_BIND:
                return legacy_bind(d, a1, a2);
        case TPV_HC_EVENT_NOTIFY:
                return legacy_notify(d, a1);
        case TPV_HC_BLOCK:
                return legacy_block(d, a1);
        case TPV_HC_SHUTDOWN:
                return hc_shutdown(d, a1, a2);
        case TPV_HC_DEVICE_INFO:
                return hc_device_info(d, a1, a2);
        case TPV_HC_SHARED_INFO:
                return hc_shared_info(d, a1);
        case TPV_HC_BUS_OP:
                return legacy_bus_op(d, a1, a2);
        case TPV_HC_PRINTER_WRITE:
                return hc_printer(d, a1, a2);
        case TPV_HC_DISPLAY_MODE:
                return hc_display_mode(d, a1, a2);
        default:
                return TPV_ENOSYS;
        }
}

void legacy_hypercall(struct vcpu *vcpu, void *opaque)
{
        struct legacy_domain *d = opaque;
        /* Only a 32-bit OUT is a hypercall; byte/word writes are ignored. */
        if (vcpu->run->io.size != 4)
                return;
        struct kvm_regs regs;
        if (vcpu_get_regs(vcpu, &regs) < 0) {
                vm_request_exit(d->vm, VM_EXIT_ERROR, "legacy: cannot read vCPU registers");
                return;
        }
        uint32_t nr = (uint32_t)regs.rax;
        __atomic_fetch_add(&d->hypercalls[nr < TPV_HC_COUNT ? nr : TPV_HC_COUNT], 1,
                           __ATOMIC_RELAXED);
        int32_t ret = dispatch(d, &regs);
        regs.rax = (uint32_t)ret;
        if (vcpu_set_regs(vcpu, &regs) < 0)
                vm_request_exit(d->vm, VM_EXIT_ERROR, "legacy: cannot write vCPU registers");
}
