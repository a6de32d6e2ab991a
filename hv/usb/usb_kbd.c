/* HID keyboard with the boot protocol (USB HID 1.11, appendix B): 8-byte
 * input reports (modifiers, reserved, six key usages) on interrupt IN
 * endpoint 1, LED output reports through SET_REPORT. Key events queue
 * reports; an empty queue NAKs so the controller waits for the next key. */
#include <stdlib.h>
#include <string.h>

#include "usb_device.h"

#define HID_DT_HID    0x21
#define HID_DT_REPORT 0x22

#define HID_GET_REPORT   0x01
#define HID_GET_IDLE     0x02
#define HID_GET_PROTOCOL 0x03
#define HID_SET_REPORT   0x09
#define HID_SET_IDLE     0x0a
#define HID_SET_PROTOCOL 0x0b

#define KBD_QUEUE 32

static const uint8_t report_desc[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, /* Generic Desktop / Keyboard, application */
    0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, /* modifier usages E0..E7 */
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02,             /* 8 bits, variable */
    0x95, 0x01, 0x75, 0x08, 0x81, 0x01,                                     /* reserved byte */
    0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, /* 5 LEDs */
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01,                                     /* LED padding */
    0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07, 0x19, 0x00,
    0x29, 0x65, 0x81, 0x00, /* six key slots, array */
    0xc0,
};

static const uint8_t dev_desc[18] = {
    18,   USB_DT_DEVICE,
    0x00, 0x02,
    0,    0,
    0,    8, /* USB 2.0, class per interface, EP0 8 bytes */
    0x09, 0x12,
    0x01, 0x00,
    0x00, 0x01, /* vendor 0x1209, product 0x0001, rel 1.00 */
    1,    2,
    3,    1,
};

static const uint8_t conf_desc[] = {
    9,
    USB_DT_CONFIG,
    34,
    0,
    1,
    1,
    0,
    0xa0,
    50,
    9,
    USB_DT_INTERFACE,
    0,
    0,
    1,
    3,
    1,
    1,
    0, /* HID, boot subclass, keyboard */
    9,
    HID_DT_HID,
    0x11,
    0x01,
    0,
    1,
    HID_DT_REPORT,
    sizeof(report_desc),
    0,
    7,
    USB_DT_ENDPOINT,
    0x81,
    3,
    8,
    0,
    10, /* interrupt IN, 8 bytes, 10 ms */
};

static const char *const strings[] = {"Tandem", "Tandem USB Keyboard", "KBD0001"};

struct usb_kbd {
        struct usb_device dev;
        uint8_t modifiers;
        uint8_t keys[6];
        uint8_t leds;
        uint8_t idle;
        uint8_t protocol; /* 0 boot, 1 report: same layout here */
        uint8_t queue[KBD_QUEUE][8];
        unsigned head, count;
};

static void current_report(const struct usb_kbd *k, uint8_t *r)
{
        r[0] = k->modifiers;
        r[1] = 0;
        memcpy(r + 2, k->keys, 6);
}

static int kbd_control(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
        struct usb_kbd *k = (struct usb_kbd *)dev;
        unsigned n;
        if ((s->request_type & USB_TYPE_MASK) == USB_TYPE_STD) {
                if (s->request != USB_REQ_GET_DESCRIPTOR || (s->index & 0xff) != 0)
                        return USB_STALL;
                if (s->value >> 8 == HID_DT_REPORT) {
                        n = s->length < sizeof(report_desc) ? s->length : sizeof(report_desc);
                        memcpy(data, report_desc, n);
                        return (int)n;
                }
                if (s->value >> 8 == HID_DT_HID) {
                        n = s->length < 9 ? s->length : 9;
                        memcpy(data, conf_desc + 18, n);
                        return (int)n;
                }
                return USB_STALL;
        }
        if ((s->request_type & USB_TYPE_MASK) != USB_TYPE_CLASS)
                return USB_STALL;
        switch (s->request) {
        case HID_GET_REPORT: {
                uint8_t r[8];
                current_report(k, r);
                n = s->length < 8 ? s->length : 8;
                memcpy(data, r, n);
                return (int)n;
        }
        case HID_SET_REPORT:
                if (s->length >= 1)
                        k->leds = data[0];
                return s->length;
        case HID_GET_IDLE:
                if (s->length < 1)
                        return 0;
                data[0] = k->idle;
                return 1;
        case HID_SET_IDLE:
                k->idle = (uint8_t)(s->value >> 8);
                return 0;
        case HID_GET_PROTOCOL:
                if (s->length < 1)
                        return 0;
                data[0] = k->protocol;
                return 1;
        case HID_SET_PROTOCOL:
                k->protocol = s->value & 1;
                return 0;
        default:
                return USB_STALL;
        }
}

static int kbd_transfer(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len)
{
        struct usb_kbd *k = (struct usb_kbd *)dev;
        if (ep != 0x81)
                return USB_STALL;
        if (k->count == 0)
                return USB_NAK;
        size_t n = len < 8 ? len : 8;
        memcpy(buf, k->queue[k->head], n);
        k->head = (k->head + 1) % KBD_QUEUE;
        k->count--;
        return (int)n;
}

static void kbd_reset(struct usb_device *dev)
{
        struct usb_kbd *k = (struct usb_kbd *)dev;
        k->count = 0;
        k->protocol = 1; /* HID 1.11 7.2.6: report protocol after reset */
        k->idle = 0;
}

static void kbd_destroy(struct usb_device *dev)
{
        free(dev);
}

static const struct usb_device_ops kbd_ops = {
    .control = kbd_control,
    .transfer = kbd_transfer,
    .reset = kbd_reset,
    .destroy = kbd_destroy,
};

int usb_kbd_key(struct usb_device *dev, uint8_t usage, bool down)
{
        struct usb_kbd *k = (struct usb_kbd *)dev;
        if (dev->ops != &kbd_ops)
                return -1;
        if (usage >= 0xe0 && usage <= 0xe7) {
                uint8_t bit = (uint8_t)(1u << (usage - 0xe0));
                k->modifiers = down ? (k->modifiers | bit) : (k->modifiers & ~bit);
        } else {
                int slot = -1;
                for (int i = 0; i < 6; i++)
                        if (k->keys[i] == usage)
                                slot = i;
                if (down && slot < 0) {
                        for (int i = 0; i < 6 && slot < 0; i++)
                                if (k->keys[i] == 0)
                                        slot = i;
                        if (slot < 0)
                                return -1; /* seven keys held: ignore, as rollover */
                        k->keys[slot] = usage;
                } else if (!down && slot >= 0) {
                        memmove(k->keys + slot, k->keys + slot + 1, (size_t)(5 - slot));
                        k->keys[5] = 0;
                } else {
                        return 0;
                }
        }
        if (k->count == KBD_QUEUE) /* guest not polling: keep the newest state */
                k->count--;
        current_report(k, k->queue[(k->head + k->count) % KBD_QUEUE]);
        k->count++;
        usb_device_wakeup(dev, 0x81);
        return 0;
}

struct usb_device *usb_kbd_create(char *err, size_t errlen)
{
        (void)err;
        (void)errlen;
        struct usb_kbd *k = calloc(1, sizeof(*k));
        if (!k)
                return NULL;
        k->dev.ops = &kbd_ops;
        k->dev.name = "kbd";
        k->dev.speed = USB_SPEED_FULL;
        k->dev.dev_desc = dev_desc;
        k->dev.conf_desc = conf_desc;
        k->dev.conf_len = sizeof(conf_desc);
        k->dev.strings = strings;
        k->dev.nstrings = 3;
        k->protocol = 1;
        return &k->dev;
}
