/* Emulated xHCI host controller (xHCI 1.2) as a PCI function: USB2 and USB3
 * root ports, one interrupter with MSI-X (INTx as fallback). */
#ifndef TANDEM_XHCI_H
#define TANDEM_XHCI_H

#include <stddef.h>

#include "../pci/pci.h"
#include "usb_device.h"

#define XHCI_USB2_PORTS 4
#define XHCI_USB3_PORTS 4

struct xhci;

struct xhci *xhci_create(struct pci_bus *bus, char *err, size_t errlen);
/* Plugs dev into the first free root port of its speed; the controller owns
 * it from then on. Returns the port number (1-based) or -1 with a reason. */
int xhci_attach(struct xhci *xhci, struct usb_device *dev, char *err, size_t errlen);
/* Unplugs and destroys the device on port (1-based). */
int xhci_detach(struct xhci *xhci, unsigned port);
struct pci_device *xhci_pci(struct xhci *xhci);
/* The device on port (1-based), or NULL. */
struct usb_device *xhci_port_device(struct xhci *xhci, unsigned port);
#define XHCI_PORTS (XHCI_USB2_PORTS + XHCI_USB3_PORTS)

#endif
