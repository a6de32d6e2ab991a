/* --usb SPEC: parses device specs, creates the devices, then the controller. */
#include <stdio.h>
#include <string.h>

#include "usb.h"
#include "xhci.h"

static struct usb_device *create_device(const char *spec, char *err, size_t errlen)
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
        }
        snprintf(err, errlen, "--usb %s: expected kbd, storage:PATH or printer:PATH", spec);
        return NULL;
}

int usb_setup(struct vm *vm, struct pci_bus *bus, const char *const *specs, unsigned n, char *err,
              size_t errlen)
{
        (void)vm; /* the controller reaches the VM through the bus */
        if (n == 0)
                return 0;
        struct usb_device *devs[XHCI_USB2_PORTS + XHCI_USB3_PORTS];
        if (n > XHCI_USB2_PORTS) {
                snprintf(err, errlen, "--usb: at most %d devices (root ports)", XHCI_USB2_PORTS);
                return -1;
        }
        for (unsigned i = 0; i < n; i++) {
                devs[i] = create_device(specs[i], err, errlen);
                if (!devs[i]) {
                        while (i--)
                                usb_device_destroy(devs[i]);
                        return -1;
                }
        }
        struct xhci *x = xhci_create(bus, err, errlen);
        if (!x) {
                for (unsigned i = 0; i < n; i++)
                        usb_device_destroy(devs[i]);
                return -1;
        }
        for (unsigned i = 0; i < n; i++)
                if (xhci_attach(x, devs[i], err, errlen) < 0) {
                        for (unsigned j = i; j < n; j++)
                                usb_device_destroy(devs[j]);
                        return -1; /* attached ones go with the bus */
                }
        return 0;
}
