/* The USB device interface between host controllers (xHCI, later PV USB) and
 * devices (emulated here, later libusb passthrough). A controller hands a
 * device whole transfers: a control transfer as a setup packet plus its data
 * stage, a bulk or interrupt transfer as one buffer for one endpoint. Devices
 * answer synchronously: a byte count, or a status the controller turns into a
 * completion code (STALL halts the endpoint, NAK means "retry when woken").
 *
 * Locking: every call happens under the VM's device lock (vm_lock). */
#ifndef TANDEM_USB_DEVICE_H
#define TANDEM_USB_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Speeds, numbered as xHCI's default Protocol Speed IDs. */
enum usb_speed {
        USB_SPEED_FULL = 1,
        USB_SPEED_LOW = 2,
        USB_SPEED_HIGH = 3,
        USB_SPEED_SUPER = 4,
};

/* Negative results of a transfer. */
enum usb_status {
        USB_STALL = -1, /* request not supported / endpoint halted */
        USB_NAK = -2,   /* no data now; the device calls wakeup when it has some */
        USB_IOERR = -3, /* the device is gone or its backend failed */
        USB_BABBLE = -4 /* the device had more data than the buffer holds */
};

/* USB 2.0 9.3: the 8-byte setup packet, little-endian on the wire. */
struct usb_setup {
        uint8_t request_type; /* bit 7: device-to-host; bits 6..5: type; 4..0: recipient */
        uint8_t request;
        uint16_t value;
        uint16_t index;
        uint16_t length;
};

#define USB_DIR_IN      0x80
#define USB_TYPE_MASK   0x60
#define USB_TYPE_STD    0x00
#define USB_TYPE_CLASS  0x20
#define USB_RECIP_MASK  0x1f
#define USB_RECIP_DEV   0
#define USB_RECIP_IFACE 1
#define USB_RECIP_EP    2

/* USB 2.0 table 9-4 */
#define USB_REQ_GET_STATUS        0
#define USB_REQ_CLEAR_FEATURE     1
#define USB_REQ_SET_FEATURE       3
#define USB_REQ_SET_ADDRESS       5
#define USB_REQ_GET_DESCRIPTOR    6
#define USB_REQ_SET_DESCRIPTOR    7
#define USB_REQ_GET_CONFIGURATION 8
#define USB_REQ_SET_CONFIGURATION 9
#define USB_REQ_GET_INTERFACE     10
#define USB_REQ_SET_INTERFACE     11

/* USB 2.0 table 9-5 */
#define USB_DT_DEVICE    1
#define USB_DT_CONFIG    2
#define USB_DT_STRING    3
#define USB_DT_INTERFACE 4
#define USB_DT_ENDPOINT  5

#define USB_MAX_ENDPOINTS 16

struct usb_device;

struct usb_device_ops {
        /* Class or vendor control request (standard ones are answered by
         * usb_device_control). data holds setup->length bytes: filled for IN,
         * given for OUT. Returns bytes of data stage used, or enum usb_status. */
        int (*control)(struct usb_device *dev, const struct usb_setup *setup, uint8_t *data);
        /* Bulk or interrupt transfer on endpoint ep (bit 7 set: IN). Returns
         * bytes moved, or enum usb_status. */
        int (*transfer)(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len);
        /* Bus reset: back to the default state. May be NULL. */
        void (*reset)(struct usb_device *dev);
        /* Frees the device (it was detached). */
        void (*destroy)(struct usb_device *dev);
};

/* What a device tells its controller (set by the controller on attach). */
struct usb_port_link {
        /* The device has data for IN endpoint ep that it NAKed before. */
        void (*wakeup)(void *opaque, uint8_t ep);
        /* The device went away by itself (a passed-through device was
         * unplugged): the controller detaches and destroys it. */
        void (*unplug)(void *opaque);
        void *opaque;
};

struct usb_device {
        const struct usb_device_ops *ops;
        const char *name; /* "kbd", "storage", ... for messages */
        /* The --usb spec it was made from (usb_device_from_spec; freed by
         * usb_device_destroy), reported by usb-list so that a restarted
         * tandemd can tell which device is which. NULL if made otherwise. */
        char *spec;
        enum usb_speed speed;
        /* Descriptors: device (18 bytes), one configuration with its
         * interfaces and endpoints (conf_len bytes), strings 1..nstrings in
         * ASCII (converted to UTF-16LE on request). */
        const uint8_t *dev_desc;
        const uint8_t *conf_desc;
        size_t conf_len;
        const char *const *strings;
        unsigned nstrings;
        /* Standard state (USB 2.0 9.1) */
        uint8_t address;
        uint8_t configuration;             /* 0: not configured */
        bool halted[2][USB_MAX_ENDPOINTS]; /* [IN?][number] */
        /* Standard requests other than SET_ADDRESS go to ops->control too
         * (a real device behind libusb answers them itself). */
        bool forward_standard;
        struct usb_port_link link;
};

/* Answers standard requests from the descriptors and the state above, and
 * passes class/vendor requests to ops->control. Returns as ops->control. */
int usb_device_control(struct usb_device *dev, const struct usb_setup *setup, uint8_t *data);
/* Bulk/interrupt transfer with halt and configuration checks. */
int usb_device_transfer(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len);
/* Bus reset: address 0, unconfigured, no halts, then ops->reset. */
void usb_device_reset(struct usb_device *dev);
void usb_device_destroy(struct usb_device *dev);
/* Tells the controller that endpoint ep (0 for control; OUT endpoints too,
 * for devices that complete transfers later) can go on after a NAK. */
void usb_device_wakeup(struct usb_device *dev, uint8_t ep);
/* Asks the controller to detach the device (it is destroyed there). Call
 * under vm_lock, never from inside one of the device's own ops. */
void usb_device_unplugged(struct usb_device *dev);

/* Emulated devices. NULL with a one-line reason on failure. */
struct usb_device *usb_kbd_create(char *err, size_t errlen);
/* Queues a key press (down) or release (up) of HID usage code usage (HID
 * Usage Tables, keyboard page 0x07); 0xE0..0xE7 are the modifiers. */
int usb_kbd_key(struct usb_device *dev, uint8_t usage, bool down);
/* The HID usage of a Linux evdev key code (KEY_A is 30), or 0 if the
 * keyboard has no such key. */
uint8_t usb_hid_usage_of_evdev(unsigned code);
struct usb_device *usb_storage_create(const char *path, char *err, size_t errlen);
struct usb_device *usb_printer_create(const char *path, char *err, size_t errlen);
/* A host device through libusb: spec "BUS-PORT[.PORT]..." (as in sysfs,
 * e.g. "1-2.3") or "VVVV:PPPP" (hex IDs). Its kernel driver is detached
 * and comes back when the device is destroyed. vm is for locking. */
struct vm;
struct usb_device *usb_host_create(struct vm *vm, const char *spec, char *err, size_t errlen);
/* Starts libusb (its context and event thread) now, while the VMM may
 * still make any system call: libusb_init needs some that the sandbox
 * refuses later, and a controller may get a host device by usb-attach. A
 * failure is reported by usb_host_create. */
void usb_host_prepare(void);

#endif
