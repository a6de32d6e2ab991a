/* PV USB: USB transfers over one virtqueue of a PV bus device
 * (docs/pv-abi.md §8). Shared by the VMM backend (hv/usb/pvusb.c) and the
 * legacy guest's frontend (pvdrivers/legacy/usbfront.c), so it holds only
 * fixed-size little-endian structures and needs nothing but <stdint.h>. */
#ifndef TANDEM_PVUSB_ABI_H
#define TANDEM_PVUSB_ABI_H

#include <stdint.h>

/* The device's virtio ID in TPV_HC_DEVICE_INFO: outside the 16-bit range
 * virtio assigns, so it never collides with a standard device ("TUSB"). */
#define TPV_VIRTIO_ID_USB 0x54555342u

#define TPV_USB_PORTS    4      /* root ports 1..TPV_USB_PORTS */
#define TPV_USB_QUEUE    0      /* the only queue */
#define TPV_USB_QSIZE    16     /* largest queue size */
#define TPV_USB_MAX_DATA 65536u /* largest data stage of one request */

/* Device configuration space (TPV_BUS_READ_CONFIG, 56 bytes: one read). */
struct tpv_usb_port_info {
        uint8_t status; /* TPV_USB_PORT_* */
        uint8_t speed;  /* 1 full, 2 low, 3 high, 4 super (shown as high) */
        uint8_t iclass; /* first interface: class, subclass, protocol */
        uint8_t isubclass;
        uint8_t iprotocol;
        uint8_t reserved;
        uint16_t gen;    /* changes every time a device is attached here */
        uint16_t vendor; /* idVendor, idProduct */
        uint16_t product;
};
#define TPV_USB_PORT_CONNECTED 0x01

struct tpv_usb_config {
        uint8_t nports; /* TPV_USB_PORTS */
        uint8_t reserved[3];
        uint32_t generation; /* changes on every attach and detach */
        struct tpv_usb_port_info port[TPV_USB_PORTS];
};

/* Request types */
enum tpv_usb_type {
        TPV_USB_CONTROL = 0,   /* setup packet + data stage on endpoint 0 */
        TPV_USB_BULK = 1,      /* endpoint 1..15, bit 7 = IN */
        TPV_USB_INTERRUPT = 2, /* endpoint 1..15, bit 7 = IN */
        TPV_USB_RESET = 3,     /* bus reset: unconfigured, no halts; length 0 */
};

/* The device-readable header that starts every request chain. */
struct tpv_usb_request {
        uint16_t port;     /* 1..TPV_USB_PORTS */
        uint16_t port_gen; /* tpv_usb_port_info.gen the guest saw */
        uint8_t type;      /* enum tpv_usb_type */
        uint8_t endpoint;  /* 0 for CONTROL and RESET */
        uint16_t flags;    /* must be 0 */
        uint32_t length;   /* data stage bytes, <= TPV_USB_MAX_DATA */
        uint32_t reserved; /* must be 0 */
        uint8_t setup[8];  /* CONTROL: the USB setup packet (wLength == length) */
};

/* The device-writable trailer that ends every request chain. */
struct tpv_usb_response {
        int32_t status;  /* TPV_USB_OK or a TPV_USB_E* code */
        uint32_t actual; /* data stage bytes moved */
};

#define TPV_USB_OK         0
#define TPV_USB_ESTALL     (-1) /* the device stalled the endpoint or request */
#define TPV_USB_ENODEV     (-2) /* nothing on the port, or port_gen is stale */
#define TPV_USB_EINVAL     (-3) /* a malformed request; nothing was sent */
#define TPV_USB_EIO        (-4) /* the device or its host backend failed */
#define TPV_USB_EBABBLE    (-5) /* the device had more data than the buffer */
#define TPV_USB_ECANCELLED (-6) /* detached or reset while the request waited */

#endif
