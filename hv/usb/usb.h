/* USB for a VM: one emulated xHCI on the PCI bus with the devices named on
 * the command line plugged into its root ports. */
#ifndef TANDEM_USB_H
#define TANDEM_USB_H

#include <stddef.h>

#include "../pci/pci.h"

/* Each spec is "kbd", "storage:PATH" or "printer:PATH". With n == 0 nothing
 * is created. Returns 0, or -1 with a one-line reason in err. */
int usb_setup(struct vm *vm, struct pci_bus *bus, const char *const *specs, unsigned n, char *err,
              size_t errlen);

#endif
