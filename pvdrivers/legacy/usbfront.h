/* Guest PV USB frontend (docs/pv-abi.md §8): a printer-class driver. It
 * finds a device with a printer interface (class 7) on the PV USB ports,
 * configures it, and sends print data to its bulk OUT endpoint. The device
 * may come and go at runtime (tandemd moves it between domains); every call
 * looks at the ports again. Requests are synchronous: one in flight, the
 * caller sleeps in TPV_HC_BLOCK while a passed-through device works. */
#ifndef TANDEM_PV_USBFRONT_H
#define TANDEM_PV_USBFRONT_H

#include <stddef.h>
#include <stdint.h>

#include "include/tandem_pv.h"

/* 1 when a USB printer is attached now, else 0. */
int usb_printer_present(void);
/* Sends every byte to the USB printer. 0; TPV_ENODEV when the domain has no
 * PV USB or no printer is attached (the caller falls back to the spool
 * hypercall); TPV_EIO when the printer failed or reports an error. */
int usb_printer_write(const void *buf, size_t len);

extern uint32_t usb_front_requests;

#endif
