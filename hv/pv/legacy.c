/* Setup of the legacy PV domain: checks the guest speaks the Tandem PV ABI,
 * creates its devices (data disk on the PV bus, text display, keyboard,
 * printer spool, console) and installs the hypercall port hook. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../pvdrivers/audio/audio_control.h"
#include "../../pvdrivers/audio/virtio_snd.h"
#include "../../pvdrivers/net/net_spec.h"
#include "../../pvdrivers/net/net_stats.h"
#include "../../pvdrivers/virtio/blk_image.h"
#include "../../pvdrivers/virtio/devices.h"
#include "../display/display.h"
#include "../usb/pvusb.h"
#include "../vmm/boot.h"
#include "../vmm/console_mux.h"
#include "../vmm/control.h"
#include "../vmm/vm.h"
#include "legacy_priv.h"

void legacy_request_shutdown(struct legacy_domain *d)
{
        pthread_mutex_lock(&d->lock);
        d->control_request = TPV_CONTROL_SHUTDOWN;
        if (d->shared_gpa) {
                struct tpv_shared_info *s = guest_mem_ptr(&d->vm->mem, d->shared_gpa, sizeof(*s));
                if (s)
                        __atomic_store_n(&s->control_request, d->control_request, __ATOMIC_RELEASE);
        }
        legacy_raise_locked(d, EVS_CONTROL);
        pthread_mutex_unlock(&d->lock);
}

static void shutdown_cb(void *opaque)
{
        legacy_request_shutdown(opaque);
}

static void add_stats(void *opaque, json_object *reply)
{
        struct legacy_domain *d = opaque;
        static const char *const names[TPV_HC_COUNT + 1] = {
            "version",      "console_write", "get_time",     "set_timer",   "event_bind",
            "event_notify", "block",         "shutdown",     "device_info", "shared_info",
            "bus_op",       "printer_write", "display_mode", "invalid"};
        json_object *hc = json_object_new_object();
        for (unsigned i = 0; i <= TPV_HC_COUNT; i++)
                json_object_object_add(hc, names[i],
                                       json_object_new_int64((int64_t)__atomic_load_n(
                                           &d->hypercalls[i], __ATOMIC_RELAXED)));
        json_object *l = json_object_new_object();
        json_object_object_add(l, "hypercalls", hc);
        pthread_mutex_lock(&d->lock);
        json_object_object_add(l, "keys_delivered",
                               json_object_new_int64((int64_t)d->keys_delivered));
        pthread_mutex_unlock(&d->lock);
        json_object_object_add(reply, "legacy", l);
}

static void fail_cleanup(struct legacy_domain *d)
{
        if (d->printer_fd >= 0)
                close(d->printer_fd);
        /* The display, disk and console stay registered with the VM and the
         * control socket; tandem-vmm exits right after a setup failure. */
        free(d);
}

struct legacy_domain *legacy_setup(struct vm *vm, struct control *ctl, const struct pvh_image *img,
                                   const struct legacy_config *cfg, char *err, size_t errlen)
{
        if (!img->has_tandem_note) {
                snprintf(err, errlen,
                         "not a Tandem PV guest: the ELF has no \"Tandem\" ABI note (is this a "
                         "Linux or other PVH kernel? use --kernel)");
                return NULL;
        }
        if (img->tandem_abi != TPV_ABI_VERSION) {
                snprintf(err, errlen,
                         "unsupported Tandem PV ABI version %u in the guest ELF (this VMM speaks "
                         "version %u)",
                         img->tandem_abi, TPV_ABI_VERSION);
                return NULL;
        }
        unsigned cols = cfg->cols ? cfg->cols : 80, rows = cfg->rows ? cfg->rows : 25;
        if (cols > LEGACY_MAX_COLS || rows > LEGACY_MAX_ROWS) {
                snprintf(err, errlen, "legacy: text mode %ux%u larger than %ux%u", cols, rows,
                         LEGACY_MAX_COLS, LEGACY_MAX_ROWS);
                return NULL;
        }
        struct legacy_domain *d = calloc(1, sizeof(*d));
        if (!d) {
                snprintf(err, errlen, "legacy: out of memory");
                return NULL;
        }
        d->vm = vm;
        d->ctl = ctl;
        d->printer_fd = -1;
        d->console_fd = STDERR_FILENO;
        d->cols = cols;
        d->rows = rows;
        memset(d->port_of, -1, sizeof(d->port_of));
        pthread_mutex_init(&d->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&d->wake, &ca);
        pthread_condattr_destroy(&ca);

        if (cfg->console) {
                int in_fd, out_fd;
                d->console = console_mux_open(vm, cfg->console, &in_fd, &out_fd, err, errlen);
                if (!d->console)
                        goto fail;
                d->console_fd = out_fd;
        }
        if (cfg->printer_path) {
                d->printer_fd =
                    open(cfg->printer_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (d->printer_fd < 0) {
                        snprintf(err, errlen, "legacy: cannot open printer spool %s: %s",
                                 cfg->printer_path, strerror(errno));
                        goto fail;
                }
        }
        if (cfg->disk_path) {
                struct virtio_device *blk =
                    virtio_blk_create_image_ex(&vm->mem, vm->loop, cfg->disk_path,
                                               cfg->disk_format, cfg->disk_readonly,
                                               cfg->disk_direct, err, errlen);
                if (!blk || legacy_bus_add(d, blk, err, errlen) < 0)
                        goto fail;
        }
        if (cfg->audio) {
                /* PV sound (virtio-snd on the bus, docs/pv-abi.md §4). */
                struct virtio_device *snd =
                    virtio_snd_create(&vm->mem, vm->loop, cfg->audio, err, errlen);
                if (!snd || legacy_bus_add(d, snd, err, errlen) < 0 ||
                    audio_control_register(ctl, cfg->audio, snd) < 0)
                        goto fail;
        }
        for (unsigned i = 0; i < cfg->nnets; i++) {
                /* PV network: virtio-net on the bus (docs/net.md, "Legacy guest"). */
                struct virtio_device *n = net_spec_create_device(
                    cfg->nets[i], &vm->mem, vm->loop, cfg->name ? cfg->name : "", i, err, errlen);
                if (!n || legacy_bus_add(d, n, err, errlen) < 0)
                        goto fail;
                net_stats_add(ctl, n); /* "net" in the stats reply */
        }
        if (cfg->nusb) {
                /* PV USB: printer-class devices for the receipts (pv-abi.md §8). */
                struct virtio_device *u = pvusb_setup(vm, ctl, cfg->usb, cfg->nusb, err, errlen);
                if (!u || legacy_bus_add(d, u, err, errlen) < 0)
                        goto fail;
        }
        d->display = display_create(vm, ctl, TANDEM_DISPLAY_TEXT, cols, rows, LEGACY_MAX_COLS,
                                    LEGACY_MAX_ROWS, LEGACY_DISPLAY_GPA, err, errlen);
        if (!d->display)
                goto fail;
        display_set_input(d->display, legacy_key, NULL, d);
        if (legacy_register_send_keys(d) < 0 || (ctl && control_add_stats(ctl, add_stats, d) < 0)) {
                snprintf(err, errlen, "legacy: cannot register control commands");
                goto fail;
        }
        if (vm_add_kick(vm, legacy_kick, d) < 0) {
                snprintf(err, errlen, "legacy: no room for the vCPU kick hook");
                goto fail;
        }
        vm->guest_shutdown_fn = shutdown_cb;
        vm->guest_shutdown_opaque = d;
        vm_set_port_hook(vm, TPV_PORT, legacy_hypercall, d);
        return d;
fail:
        fail_cleanup(d);
        return NULL;
}
