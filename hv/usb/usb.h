/* USB for a VM: one emulated xHCI on the PCI bus with the devices named on
 * the command line plugged into its root ports. */
#ifndef TANDEM_USB_H
#define TANDEM_USB_H

#include <json-c/json.h>
#include <stddef.h>

#include "../pci/pci.h"

struct control;

/* Each spec is "kbd", "storage:PATH", "printer:PATH", "host:BUS-PORT[.PORT]",
 * "host:VVVV:PPPP", or "none" (only the controller). With n == 0 nothing is
 * created. With ctl, the control commands usb-list, usb-attach {spec} and
 * usb-detach {port} are registered. Returns 0, or -1 with a one-line reason
 * in err. */
int usb_setup(struct vm *vm, struct pci_bus *bus, struct control *ctl, const char *const *specs,
              unsigned n, char *err, size_t errlen);

struct usb_device;

/* Creates the device a --usb spec names (not "none"). NULL with a reason. */
struct usb_device *usb_device_from_spec(struct vm *vm, const char *spec, char *err, size_t errlen);

/* A host controller as the control commands see it: xHCI or PV USB. */
struct usb_hc {
        struct vm *vm;
        unsigned nports;
        /* Takes ownership of dev; returns its port (1-based) or -1. */
        int (*attach)(void *ctx, struct usb_device *dev, char *err, size_t errlen);
        int (*detach)(void *ctx, unsigned port); /* 0, or -1: empty port */
        struct usb_device *(*device)(void *ctx, unsigned port);
        void *ctx;
};
/* Registers usb-list, usb-attach {spec}, usb-detach {port} and
 * usb-kbd-key {code, down?} for hc, which must live as long as the VMM. */
void usb_hc_register(struct control *ctl, struct usb_hc *hc);
/* Runs one of those commands as the control socket would (tests). */
int usb_hc_command(struct usb_hc *hc, const char *cmd, json_object *req, json_object *reply,
                   const char **error);
/* An xHCI as a struct usb_hc (freed by the caller with free()). */
struct xhci;
struct usb_hc *usb_hc_of_xhci(struct vm *vm, struct xhci *x);

#endif
