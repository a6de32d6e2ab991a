/* USB for a VM: one emulated xHCI on the PCI bus with the devices named on
 * the command line plugged into its root ports. */
#ifndef TANDEM_USB_H
#define TANDEM_USB_H

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

#endif
