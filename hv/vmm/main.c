/* tandem-vmm: one domain, one process. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../devices/platform.h"
#include "../display/display.h"
#include "../pci/pci.h"
#include "boot.h"
#include "console_mux.h"
#include "control.h"
#include "blk_image.h"
#include "devices.h"
#include "vm.h"
#include "vmm_options.h"
#include "../pv/legacy.h"
#include "../usb/usb.h"
#include "../../pvdrivers/ac97/ac97.h"
#include "../../pvdrivers/audio/audio.h"
#include "../../pvdrivers/audio/audio_control.h"
#include "../../pvdrivers/net/net_spec.h"
#include "../../pvdrivers/net/net_stats.h"
#include "sandbox.h"

/* Where a --kernel guest's framebuffer sits: below the PCI window, above RAM's
 * 3 GiB limit. PVH test guests find it here; Linux reads it from boot_params. */
#define LINUX_FB_GPA 0xD0000000ULL

struct vmm {
        struct vmm_options opt;
        struct vm vm;
        struct control *ctl;
        struct console_mux *console, *vconsole;
        struct pci_bus *pci;
        struct i8042 *kbd;
        struct display *display;
        struct audio *audio; /* --sound */
        unsigned ndisks;
        struct virtio_device *disk[VMM_MAX_DISKS];
        int sigfd;
};

static void die_usage(const char *msg)
{
        fprintf(stderr, "tandem-vmm: %s\n", msg);
        exit(VM_EXIT_USAGE);
}

static void lock_cb(void *arg)
{
        vm_lock(arg);
}

static void unlock_cb(void *arg)
{
        vm_unlock(arg);
}

static void on_signal(void *opaque, uint32_t events)
{
        (void)events;
        struct vmm *v = opaque;
        struct signalfd_siginfo si;
        if (read(v->sigfd, &si, sizeof(si)) != sizeof(si))
                return;
        char why[64];
        snprintf(why, sizeof(why), "terminated by signal %u", si.ssi_signo);
        vm_request_exit(&v->vm, VM_EXIT_ERROR, why);
}

static int setup_signals(struct vmm *v)
{
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        v->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (v->sigfd < 0)
                return -errno;
        return evloop_add(v->vm.loop, v->sigfd, EPOLLIN, on_signal, v);
}

static void linux_power_button(void *opaque)
{
        acpi_request_power_button(opaque);
}

static void fb_key(void *opaque, uint32_t code, bool down)
{
        i8042_key(opaque, code, down);
}

static void fb_pointer(void *opaque, int32_t x, int32_t y, uint32_t buttons)
{
        /* The display reports absolute positions; PS/2 is relative. */
        static int32_t lx, ly;
        i8042_pointer(opaque, x - lx, y - ly, buttons);
        lx = x;
        ly = y;
}

static void disk_stats(void *opaque, json_object *reply)
{
        struct vmm *v = opaque;
        json_object *arr = json_object_new_array();
        for (unsigned i = 0; i < v->ndisks; i++) {
                struct virtio_blk_stats s;
                virtio_blk_get_stats(v->disk[i], &s);
                json_object *d = json_object_new_object();
                json_object_object_add(d, "rd_reqs", json_object_new_int64((int64_t)s.rd_reqs));
                json_object_object_add(d, "wr_reqs", json_object_new_int64((int64_t)s.wr_reqs));
                json_object_object_add(d, "rd_bytes", json_object_new_int64((int64_t)s.rd_bytes));
                json_object_object_add(d, "wr_bytes", json_object_new_int64((int64_t)s.wr_bytes));
                json_object_object_add(d, "errors", json_object_new_int64((int64_t)s.errors));
                json_object_array_add(arr, d);
        }
        json_object_object_add(reply, "disk", arr);
}

/* A Linux or PVH guest: the emulated platform, ACPI, PCI and virtio devices. */
static int setup_platform(struct vmm *v, char *err, size_t errlen)
{
        struct vm *vm = &v->vm;
        int in_fd, out_fd;
        v->console = console_mux_open(vm, v->opt.console, &in_fd, &out_fd, err, errlen);
        if (!v->console)
                return -1;
        if (!uart8250_create(vm, PLATFORM_COM1_BASE, PLATFORM_COM1_IRQ, in_fd, out_fd, err, errlen))
                return -1;
        v->kbd = i8042_create(vm, err, errlen);
        if (!v->kbd || !cmos_rtc_create(vm, err, errlen))
                return -1;
        v->pci = pci_bus_create(vm, err, errlen);
        if (!v->pci)
                return -1;
        struct acpi_config ac = {
            .ncpus = vm->ncpus,
            .ram_size = vm->mem.ram_size,
            .pci_mmio_base = PCI_MMIO_WINDOW_BASE,
            .pci_mmio_size = PCI_MMIO_WINDOW_SIZE,
            .pci_io_base = PCI_IO_WINDOW_BASE,
            .pci_io_size = PCI_IO_WINDOW_SIZE,
        };
        if (acpi_setup(vm, &ac, &vm->acpi_rsdp, err, errlen) < 0)
                return -1;
        vm->guest_shutdown_fn = linux_power_button;
        vm->guest_shutdown_opaque = vm;

        for (unsigned i = 0; i < v->opt.ndisks; i++) {
                struct virtio_device *d = virtio_blk_create_image_ex(
                    &vm->mem, vm->loop, v->opt.disk[i].path, v->opt.disk[i].format,
                    v->opt.disk[i].readonly, v->opt.disk[i].direct, err, errlen);
                if (!d || virtio_pci_add(v->pci, d, err, errlen) < 0)
                        return -1;
                v->disk[v->ndisks++] = d;
        }
        if (v->opt.vconsole) {
                int vin, vout;
                v->vconsole = console_mux_open(vm, v->opt.vconsole, &vin, &vout, err, errlen);
                if (!v->vconsole)
                        return -1;
                struct virtio_device *c =
                    virtio_console_create(&vm->mem, vm->loop, vin, vout, err, errlen);
                if (!c || virtio_pci_add(v->pci, c, err, errlen) < 0)
                        return -1;
        }
        if (v->opt.nusb && usb_setup(vm, v->pci, v->ctl, v->opt.usb, v->opt.nusb, err, errlen) < 0)
                return -1;
        for (unsigned i = 0; i < v->opt.nnets; i++) {
                struct virtio_device *n = net_spec_create_device(v->opt.net[i], &vm->mem, vm->loop,
                                                                 v->opt.name, i, err, errlen);
                if (!n || virtio_pci_add(v->pci, n, err, errlen) < 0)
                        return -1;
                net_stats_add(v->ctl, n); /* "net" in the stats reply */
        }
        /* --sound: AC97 (snd_intel8x0), since Debian 6.1 has no virtio-snd. */
        if (v->audio && (!ac97_add(v->pci, v->audio, err, errlen) ||
                         audio_control_register(v->ctl, v->audio, NULL) < 0))
                return -1;
        if (v->opt.rng) {
                struct virtio_device *r = virtio_rng_create(&vm->mem, err, errlen);
                if (!r || virtio_pci_add(v->pci, r, err, errlen) < 0)
                        return -1;
        }
        return 0;
}

static int setup_linux_display(struct vmm *v, struct boot_fb *fb, char *err, size_t errlen)
{
        if (!v->opt.fb_width)
                return 0;
        v->display = display_create(&v->vm, v->ctl, TANDEM_DISPLAY_FRAMEBUFFER, v->opt.fb_width,
                                    v->opt.fb_height, v->opt.fb_width, v->opt.fb_height,
                                    LINUX_FB_GPA, err, errlen);
        if (!v->display)
                return -1;
        display_set_input(v->display, fb_key, fb_pointer, v->kbd);
        fb->gpa = LINUX_FB_GPA;
        fb->width = v->opt.fb_width;
        fb->height = v->opt.fb_height;
        fb->stride = display_header(v->display)->stride;
        return 0;
}

static int load_guest(struct vmm *v, char *err, size_t errlen)
{
        struct vm *vm = &v->vm;
        if (v->opt.legacy) {
                struct pvh_image img;
                if (boot_pvh_load(vm, v->opt.legacy, NULL, &img, err, errlen) < 0)
                        return -1;
                struct legacy_config lc = {
                    .disk_path = v->opt.ndisks ? v->opt.disk[0].path : NULL,
                    .disk_readonly = v->opt.ndisks ? v->opt.disk[0].readonly : false,
                    .disk_format = v->opt.ndisks ? v->opt.disk[0].format : NULL,
                    .disk_direct = v->opt.ndisks ? v->opt.disk[0].direct : false,
                    .printer_path = v->opt.printer,
                    .cols = 80,
                    .rows = 25,
                    .console = v->opt.console,
                    .audio = v->audio,
                    .nets = v->opt.net,
                    .nnets = v->opt.nnets,
                    .name = v->opt.name,
                    .usb = v->opt.usb,
                    .nusb = v->opt.nusb,
                };
                return legacy_setup(vm, v->ctl, &img, &lc, err, errlen) ? 0 : -1;
        }
        if (setup_platform(v, err, errlen) < 0)
                return -1;
        struct boot_fb fb = {0};
        if (setup_linux_display(v, &fb, err, errlen) < 0)
                return -1;
        if (boot_file_is_elf(v->opt.kernel)) {
                if (v->opt.initrd) {
                        snprintf(err, errlen, "--initrd is not supported with a PVH ELF kernel");
                        return -1;
                }
                struct pvh_image img;
                if (boot_pvh_load(vm, v->opt.kernel, v->opt.cmdline, &img, err, errlen) < 0)
                        return -1;
                return 0;
        }
        struct boot_linux_params bp = {
            .kernel = v->opt.kernel,
            .initrd = v->opt.initrd,
            .cmdline = v->opt.cmdline,
            .acpi_rsdp = vm->acpi_rsdp,
            .fb = fb,
        };
        return boot_linux_load(vm, &bp, err, errlen) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
        static struct vmm v;
        char err[512] = "";
        int rc = vmm_options_parse(argc, argv, &v.opt, err, sizeof(err));
        if (rc > 0)
                return 0;
        if (rc < 0)
                die_usage(err);

        if (vm_kvm_is_software())
                fprintf(stderr, "tandem-vmm: warning: /dev/kvm is a software KVM (no VT-x/AMD-V): "
                                "guest code is emulated, ~1000x slower than hardware\n");
        if (vm_create(&v.vm, v.opt.mem, v.opt.cpus, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-vmm: %s\n", err);
                return VM_EXIT_ERROR;
        }
        if (setup_signals(&v) < 0) {
                fprintf(stderr, "tandem-vmm: cannot set up signal handling\n");
                return VM_EXIT_ERROR;
        }
        if (v.opt.control) {
                v.ctl = control_open(&v.vm, v.opt.control, err, sizeof(err));
                if (!v.ctl) {
                        fprintf(stderr, "tandem-vmm: %s\n", err);
                        return VM_EXIT_ERROR;
                }
                control_add_stats(v.ctl, disk_stats, &v);
        }
        if (v.opt.sound && !(v.audio = audio_open(v.opt.sound, v.opt.name, err, sizeof(err)))) {
                fprintf(stderr, "tandem-vmm: %s\n", err);
                return VM_EXIT_USAGE;
        }
        if (load_guest(&v, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-vmm: %s\n", err);
                control_close(v.ctl);
                console_mux_close(v.console);
                /* A guest image or device the user named is wrong: a usage error. */
                return VM_EXIT_USAGE;
        }
        /* Everything the guest named is open: from here on a device bug can
         * only do what the allow-list permits. */
        if (!v.opt.no_sandbox && sandbox_apply(err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-vmm: %s\n", err);
                return VM_EXIT_ERROR;
        }
        v.vm.count_insns = v.opt.count_insns;
        if (vm_start(&v.vm) < 0) {
                fprintf(stderr, "tandem-vmm: cannot start vCPUs\n");
                return VM_EXIT_ERROR;
        }
        evloop_run(v.vm.loop, lock_cb, unlock_cb, &v.vm);
        int status = vm_wait(&v.vm);
        if (v.display)
                display_set_state(v.display, status == VM_EXIT_CRASH ? TANDEM_DISPLAY_CRASHED
                                                                     : TANDEM_DISPLAY_STOPPED);
        fprintf(stderr, "tandem-vmm: %s: %s (exit %d)\n", v.opt.name, v.vm.exit_reason, status);
        /* One line for benchmarks and bug reports: what reached userspace. */
        fprintf(stderr,
                "tandem-vmm: %s: exits to userspace: total %llu, pio %llu, mmio %llu, hypercall "
                "%llu; interrupts raised from userspace %llu\n",
                v.opt.name, (unsigned long long)v.vm.stats.exits_total,
                (unsigned long long)v.vm.stats.exits_pio, (unsigned long long)v.vm.stats.exits_mmio,
                (unsigned long long)v.vm.stats.exits_hypercall,
                (unsigned long long)v.vm.stats.irqs_injected);
        if (v.vm.count_insns)
                fprintf(stderr, "tandem-vmm: %s: guest instructions executed: %llu\n", v.opt.name,
                        (unsigned long long)v.vm.stats.guest_insns);
        control_close(v.ctl);
        console_mux_close(v.console);
        console_mux_close(v.vconsole);
        audio_close(v.audio);
        return status;
}
