/* --usb SPEC: parses device specs, creates the devices, then the controller;
 * and the VMM control commands that plug devices in and out at runtime, for
 * xHCI here and for the legacy guest's PV USB (pvusb_setup). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/control.h"
#include "usb.h"
#include "xhci.h"
#include "xhci_internal.h"

static struct usb_device *create_from_spec(struct vm *vm, const char *spec, char *err,
                                           size_t errlen)
{
        if (strcmp(spec, "kbd") == 0)
                return usb_kbd_create(err, errlen);
        const char *colon = strchr(spec, ':');
        if (colon && colon[1]) {
                size_t kind = (size_t)(colon - spec);
                if (kind == 7 && strncmp(spec, "storage", 7) == 0)
                        return usb_storage_create(colon + 1, err, errlen);
                if (kind == 7 && strncmp(spec, "printer", 7) == 0)
                        return usb_printer_create(colon + 1, err, errlen);
                if (kind == 4 && strncmp(spec, "host", 4) == 0)
                        return usb_host_create(vm, colon + 1, err, errlen);
        }
        snprintf(err, errlen,
                 "--usb %s: expected kbd, storage:PATH, printer:PATH, host:BUS-PORT or "
                 "host:VVVV:PPPP",
                 spec);
        return NULL;
}

struct usb_device *usb_device_from_spec(struct vm *vm, const char *spec, char *err, size_t errlen)
{
        struct usb_device *d = create_from_spec(vm, spec, err, errlen);
        if (d && !(d->spec = strdup(spec))) {
                usb_device_destroy(d);
                snprintf(err, errlen, "usb: out of memory");
                return NULL;
        }
        return d;
}

/* Control errors are reply-owned strings (control.h). */
static int fail(json_object *reply, const char **error, const char *msg)
{
        json_object_object_add(reply, "usb-error", json_object_new_string(msg));
        json_object *e;
        json_object_object_get_ex(reply, "usb-error", &e);
        *error = json_object_get_string(e);
        return -1;
}

static int cmd_list(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                    const char **error, int *fd_out)
{
        (void)c, (void)req, (void)error, (void)fd_out;
        struct usb_hc *b = opaque;
        json_object *ports = json_object_new_array();
        for (unsigned p = 1; p <= b->nports; p++) {
                struct usb_device *d = b->device(b->ctx, p);
                if (!d)
                        continue;
                char id[10];
                snprintf(id, sizeof(id), "%02x%02x:%02x%02x", d->dev_desc[9], d->dev_desc[8],
                         d->dev_desc[11], d->dev_desc[10]);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "port", json_object_new_int((int)p));
                json_object_object_add(o, "name", json_object_new_string(d->name));
                json_object_object_add(o, "spec", d->spec ? json_object_new_string(d->spec) : NULL);
                json_object_object_add(o, "id", json_object_new_string(id));
                json_object_object_add(o, "speed", json_object_new_int(d->speed));
                json_object_array_add(ports, o);
        }
        json_object_object_add(reply, "devices", ports);
        return 0;
}

static int cmd_attach(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                      const char **error, int *fd_out)
{
        (void)c, (void)fd_out;
        struct usb_hc *b = opaque;
        json_object *spec;
        if (!json_object_object_get_ex(req, "spec", &spec) ||
            !json_object_is_type(spec, json_type_string)) {
                *error = "usb-attach needs \"spec\": a --usb device spec";
                return -1;
        }
        char err[256];
        struct usb_device *d =
            usb_device_from_spec(b->vm, json_object_get_string(spec), err, sizeof(err));
        if (!d)
                return fail(reply, error, err);
        int port = b->attach(b->ctx, d, err, sizeof(err));
        if (port < 0) {
                usb_device_destroy(d);
                return fail(reply, error, err);
        }
        json_object_object_add(reply, "port", json_object_new_int(port));
        return 0;
}

static int cmd_detach(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                      const char **error, int *fd_out)
{
        (void)c, (void)fd_out, (void)reply;
        struct usb_hc *b = opaque;
        json_object *port;
        if (!json_object_object_get_ex(req, "port", &port) ||
            !json_object_is_type(port, json_type_int)) {
                *error = "usb-detach needs \"port\": a root port number";
                return -1;
        }
        int64_t p = json_object_get_int64(port);
        if (p < 1 || p > b->nports || b->detach(b->ctx, (unsigned)p) < 0) {
                *error = "usb-detach: no device on that port";
                return -1;
        }
        return 0;
}

/* usb-kbd-key {"code": evdev code, "down"?: bool}: a key event on the first
 * emulated keyboard; without "down", a press and a release. For tests and
 * for measuring input latency (docs/usb.md). */
static int cmd_kbd_key(void *opaque, struct control_client *c, json_object *req, json_object *reply,
                       const char **error, int *fd_out)
{
        (void)c, (void)fd_out;
        struct usb_hc *b = opaque;
        json_object *code, *down = NULL;
        if (!json_object_object_get_ex(req, "code", &code) ||
            !json_object_is_type(code, json_type_int)) {
                *error = "usb-kbd-key needs \"code\": an evdev key code";
                return -1;
        }
        int64_t k = json_object_get_int64(code);
        uint8_t usage = k > 0 && k < 1024 ? usb_hid_usage_of_evdev((unsigned)k) : 0;
        if (!usage) {
                *error = "usb-kbd-key: the USB keyboard has no key with that evdev code";
                return -1;
        }
        if (json_object_object_get_ex(req, "down", &down) &&
            !json_object_is_type(down, json_type_boolean)) {
                *error = "usb-kbd-key: \"down\" must be true or false";
                return -1;
        }
        for (unsigned p = 1; p <= b->nports; p++) {
                struct usb_device *d = b->device(b->ctx, p);
                if (!d || strcmp(d->name, "kbd"))
                        continue;
                int rc = down ? usb_kbd_key(d, usage, json_object_get_boolean(down))
                              : usb_kbd_key(d, usage, true);
                if (!rc && !down)
                        rc = usb_kbd_key(d, usage, false);
                if (rc < 0) {
                        *error = "usb-kbd-key: six keys are held already (rollover)";
                        return -1;
                }
                json_object_object_add(reply, "port", json_object_new_int((int)p));
                return 0;
        }
        *error = "usb-kbd-key: no emulated USB keyboard is attached";
        return -1;
}

static const struct {
        const char *name;
        control_cmd_fn fn;
} hc_cmds[] = {
    {"usb-list", cmd_list},
    {"usb-attach", cmd_attach},
    {"usb-detach", cmd_detach},
    {"usb-kbd-key", cmd_kbd_key},
};

void usb_hc_register(struct control *ctl, struct usb_hc *hc)
{
        for (size_t i = 0; i < sizeof(hc_cmds) / sizeof(hc_cmds[0]); i++)
                control_register(ctl, hc_cmds[i].name, hc_cmds[i].fn, hc);
}

int usb_hc_command(struct usb_hc *hc, const char *cmd, json_object *req, json_object *reply,
                   const char **error)
{
        int fd = -1;
        for (size_t i = 0; i < sizeof(hc_cmds) / sizeof(hc_cmds[0]); i++)
                if (!strcmp(hc_cmds[i].name, cmd))
                        return hc_cmds[i].fn(hc, NULL, req, reply, error, &fd);
        *error = "unknown USB command";
        return -1;
}

static int hc_xhci_attach(void *ctx, struct usb_device *dev, char *err, size_t errlen)
{
        return xhci_attach(ctx, dev, err, errlen);
}

static int hc_xhci_detach(void *ctx, unsigned port)
{
        return xhci_detach(ctx, port);
}

static struct usb_device *hc_xhci_device(void *ctx, unsigned port)
{
        return xhci_port_device(ctx, port);
}

struct usb_hc *usb_hc_of_xhci(struct vm *vm, struct xhci *x)
{
        struct usb_hc *b = calloc(1, sizeof(*b));
        if (b)
                *b = (struct usb_hc){.vm = vm,
                                     .nports = XHCI_PORTS,
                                     .attach = hc_xhci_attach,
                                     .detach = hc_xhci_detach,
                                     .device = hc_xhci_device,
                                     .ctx = x};
        return b;
}

/* "xhci": {"tds", "errors"} in the VMM's stats (exits per transfer). */
static void xhci_stats(void *opaque, json_object *reply)
{
        struct xhci *x = opaque;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "tds", json_object_new_int64((int64_t)x->tds));
        json_object_object_add(o, "errors", json_object_new_int64((int64_t)x->errors));
        json_object_object_add(reply, "xhci", o);
}

int usb_setup(struct vm *vm, struct pci_bus *bus, struct control *ctl, const char *const *specs,
              unsigned n, char *err, size_t errlen)
{
        if (n == 0)
                return 0;
        struct usb_device *devs[XHCI_USB2_PORTS + XHCI_USB3_PORTS];
        if (n > XHCI_USB2_PORTS) {
                snprintf(err, errlen, "--usb: at most %d devices (root ports)", XHCI_USB2_PORTS);
                return -1;
        }
        unsigned ndev = 0;
        for (unsigned i = 0; i < n; i++) {
                if (strcmp(specs[i], "none") == 0)
                        continue; /* just the controller, for usb-attach later */
                devs[ndev] = usb_device_from_spec(vm, specs[i], err, errlen);
                if (!devs[ndev]) {
                        while (ndev--)
                                usb_device_destroy(devs[ndev]);
                        return -1;
                }
                ndev++;
        }
        struct xhci *x = xhci_create(bus, err, errlen);
        if (!x) {
                for (unsigned i = 0; i < ndev; i++)
                        usb_device_destroy(devs[i]);
                return -1;
        }
        for (unsigned i = 0; i < ndev; i++)
                if (xhci_attach(x, devs[i], err, errlen) < 0) {
                        for (unsigned j = i; j < ndev; j++)
                                usb_device_destroy(devs[j]);
                        return -1; /* attached ones go with the bus */
                }
        if (ctl) {
                struct usb_hc *b = usb_hc_of_xhci(vm, x); /* lives as long as the VMM */
                if (!b) {
                        snprintf(err, errlen, "usb: out of memory");
                        return -1;
                }
                usb_hc_register(ctl, b);
                control_add_stats(ctl, xhci_stats, x);
                usb_host_prepare(); /* for a host device attached later */
        }
        return 0;
}
