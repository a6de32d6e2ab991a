/* PV USB: the legacy guest's USB host controller, a device on its PV bus
 * (docs/pv-abi.md §8, ABI in pvusb_abi.h). The same struct usb_device
 * backends as on xHCI plug into its root ports. */
#ifndef TANDEM_PVUSB_H
#define TANDEM_PVUSB_H

#include <stddef.h>
#include <stdint.h>

#include "../../pvdrivers/virtio/virtio_dev.h"
#include "usb_device.h"

struct vm;
struct control;
struct guest_mem;

struct pvusb_stats {
        uint64_t requests;  /* chains taken from the queue */
        uint64_t completed; /* answered TPV_USB_OK */
        uint64_t failed;    /* answered with an error the device gave */
        uint64_t rejected;  /* malformed requests (TPV_USB_EINVAL, bad chains) */
        uint64_t naks;      /* requests that had to wait for the device */
        uint64_t bytes;     /* data stage bytes moved */
};

/* The bare device (no ports in use). vm may be NULL (tests); it is used for
 * host passthrough only. NULL with a one-line reason on failure. */
struct virtio_device *pvusb_create(struct vm *vm, const struct guest_mem *mem, char *err,
                                   size_t errlen);
/* Plugs dev into the first free root port; PV USB owns it from then on.
 * Tells the guest (config change). Returns the port (1-based) or -1. */
int pvusb_attach(struct virtio_device *vdev, struct usb_device *dev, char *err, size_t errlen);
/* Unplugs and destroys the device on port; a request waiting on it is
 * answered TPV_USB_ECANCELLED. 0, or -1 when the port is empty. */
int pvusb_detach(struct virtio_device *vdev, unsigned port);
struct usb_device *pvusb_port_device(struct virtio_device *vdev, unsigned port);
void pvusb_get_stats(struct virtio_device *vdev, struct pvusb_stats *out);

/* For tandem-vmm --legacy: the device with the --usb specs plugged in
 * ("none": no device yet), plus the control commands usb-list, usb-attach
 * and usb-detach and a "pvusb" entry in the stats reply when ctl is given. */
struct virtio_device *pvusb_setup(struct vm *vm, struct control *ctl, const char *const *specs,
                                  unsigned n, char *err, size_t errlen);

#endif
