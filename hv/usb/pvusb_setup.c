/* tandem-vmm --legacy --usb SPEC: the PV USB device with the named devices
 * plugged in, the same control commands as xHCI (usb-list, usb-attach,
 * usb-detach) so tandemd moves devices to and from the legacy guest the same
 * way, and PV USB counters in the stats reply. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pvdrivers/virtio/devices.h"
#include "../vmm/control.h"
#include "../vmm/vm.h"
#include "pvusb.h"
#include "pvusb_abi.h"
#include "usb.h"

static int hc_attach(void *ctx, struct usb_device *dev, char *err, size_t errlen)
{
        return pvusb_attach(ctx, dev, err, errlen);
}

static int hc_detach(void *ctx, unsigned port)
{
        return pvusb_detach(ctx, port);
}

static struct usb_device *hc_device(void *ctx, unsigned port)
{
        return pvusb_port_device(ctx, port);
}

static void add_stats(void *opaque, json_object *reply)
{
        struct pvusb_stats s;
        pvusb_get_stats(opaque, &s);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "requests", json_object_new_int64((int64_t)s.requests));
        json_object_object_add(o, "completed", json_object_new_int64((int64_t)s.completed));
        json_object_object_add(o, "failed", json_object_new_int64((int64_t)s.failed));
        json_object_object_add(o, "rejected", json_object_new_int64((int64_t)s.rejected));
        json_object_object_add(o, "naks", json_object_new_int64((int64_t)s.naks));
        json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s.bytes));
        json_object_object_add(reply, "pvusb", o);
}

struct virtio_device *pvusb_setup(struct vm *vm, struct control *ctl, const char *const *specs,
                                  unsigned n, char *err, size_t errlen)
{
        struct virtio_device *v = pvusb_create(vm, &vm->mem, err, errlen);
        if (!v)
                return NULL;
        for (unsigned i = 0; i < n; i++) {
                if (strcmp(specs[i], "none") == 0)
                        continue; /* the controller only, for usb-attach later */
                struct usb_device *d = usb_device_from_spec(vm, specs[i], err, errlen);
                if (!d || pvusb_attach(v, d, err, errlen) < 0) {
                        usb_device_destroy(d);
                        virtio_device_destroy(v);
                        return NULL;
                }
        }
        if (ctl) {
                struct usb_hc *hc = calloc(1, sizeof(*hc)); /* lives as long as the VMM */
                if (!hc) {
                        snprintf(err, errlen, "pvusb: out of memory");
                        virtio_device_destroy(v);
                        return NULL;
                }
                *hc = (struct usb_hc){.vm = vm,
                                      .nports = TPV_USB_PORTS,
                                      .attach = hc_attach,
                                      .detach = hc_detach,
                                      .device = hc_device,
                                      .ctx = v};
                usb_hc_register(ctl, hc);
                control_add_stats(ctl, add_stats, v);
                usb_host_prepare(); /* for a host device attached later */
        }
        return v;
}
