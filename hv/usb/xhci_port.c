/* Root hub ports (xHCI 4.19, 5.4.8): connect and disconnect, port reset
 * (immediate: the emulated link trains at once), link state writes, and the
 * Port Status Change events that tell the driver to look. Ports 1..N of the
 * USB 2 protocol come first, then the USB 3 ones (see the xECP in regs). */
#include <stdio.h>

#include "xhci_internal.h"

static uint32_t pls(unsigned v)
{
        return v << PORT_PLS_SHIFT;
}

static void set_pls(struct xhci_port *p, unsigned v)
{
        p->portsc = (p->portsc & ~PORT_PLS_MASK) | pls(v);
}

/* State of a port after power-on or HCRST, from what is plugged in. */
static void port_connect_state(struct xhci_port *p)
{
        p->portsc = PORT_PP | (p->portsc & PORT_WAKE_MASK);
        if (!p->dev) {
                set_pls(p, PLS_RXDETECT);
                return;
        }
        p->portsc |= PORT_CCS | PORT_CSC | (uint32_t)p->dev->speed << PORT_SPEED_SHIFT;
        if (p->usb3) /* USB 3 links train and enable by themselves (4.19.1.2) */
                p->portsc |= PORT_PED | pls(PLS_U0);
        else
                set_pls(p, PLS_POLLING);
}

void xhci_ports_reset(struct xhci *x)
{
        for (unsigned i = 1; i <= XHCI_NUM_PORTS; i++) {
                x->port[i].xhci = x;
                x->port[i].num = i;
                x->port[i].portsc = 0;
                port_connect_state(&x->port[i]);
        }
}

uint32_t xhci_portsc_read(struct xhci *x, unsigned port)
{
        return x->port[port].portsc;
}

static void port_reset(struct xhci *x, struct xhci_port *p, uint32_t change)
{
        if (p->dev) {
                usb_device_reset(p->dev);
                p->portsc |= PORT_PED;
                set_pls(p, PLS_U0);
        }
        p->portsc |= change;
        xhci_event_port(x, p->num);
}

void xhci_portsc_write(struct xhci *x, unsigned port, uint32_t v)
{
        struct xhci_port *p = &x->port[port];
        p->portsc &= ~(v & PORT_CHANGES);
        p->portsc = (p->portsc & ~PORT_WAKE_MASK) | (v & PORT_WAKE_MASK);
        if (v & PORT_PED)
                p->portsc &= ~PORT_PED;
        if ((v & PORT_WPR) && p->usb3)
                port_reset(x, p, PORT_WRC | PORT_PRC);
        else if (v & PORT_PR)
                port_reset(x, p, PORT_PRC);
        if ((v & PORT_LWS) && (p->portsc & PORT_PED)) {
                unsigned want = (v & PORT_PLS_MASK) >> PORT_PLS_SHIFT;
                unsigned now = (p->portsc & PORT_PLS_MASK) >> PORT_PLS_SHIFT;
                if (want == PLS_U3 || want == PLS_RESUME) {
                        set_pls(p, want);
                } else if (want == PLS_U0 && now != PLS_U0) {
                        set_pls(p, PLS_U0);
                        p->portsc |= PORT_PLC; /* resume complete */
                        xhci_event_port(x, port);
                }
        }
}

static void port_unplug(void *opaque)
{
        struct xhci_port *p = opaque;
        xhci_detach(p->xhci, p->num);
}

int xhci_attach(struct xhci *x, struct usb_device *dev, char *err, size_t errlen)
{
        bool usb3 = dev->speed == USB_SPEED_SUPER;
        for (unsigned i = 1; i <= XHCI_NUM_PORTS; i++) {
                struct xhci_port *p = &x->port[i];
                if (p->usb3 != usb3 || p->dev)
                        continue;
                p->dev = dev;
                dev->link.wakeup = xhci_endpoint_wakeup;
                dev->link.unplug = port_unplug;
                dev->link.opaque = p;
                port_connect_state(p);
                xhci_event_port(x, i);
                return (int)i;
        }
        snprintf(err, errlen, "xhci: no free USB %d root port for %s", usb3 ? 3 : 2, dev->name);
        return -1;
}

int xhci_detach(struct xhci *x, unsigned port)
{
        if (port < 1 || port > XHCI_NUM_PORTS || !x->port[port].dev)
                return -1;
        struct xhci_port *p = &x->port[port];
        usb_device_destroy(p->dev);
        p->dev = NULL;
        bool was_enabled = p->portsc & PORT_PED;
        port_connect_state(p);
        p->portsc |= PORT_CSC | (was_enabled && !p->usb3 ? PORT_PEC : 0);
        xhci_event_port(x, port);
        return 0;
}

struct usb_device *xhci_port_device(struct xhci *x, unsigned port)
{
        return port >= 1 && port <= XHCI_NUM_PORTS ? x->port[port].dev : NULL;
}
