/* Standard device requests (USB 2.0 chapter 9) answered from a device's
 * descriptors, so that each emulated device only states its class part. */
#include <stdlib.h>
#include <string.h>

#include "usb_device.h"

#define FEATURE_ENDPOINT_HALT 0

static int copy_out(uint8_t *data, uint16_t want, const void *src, size_t len)
{
        size_t n = len < want ? len : want;
        memcpy(data, src, n);
        return (int)n;
}

static int get_string(struct usb_device *dev, unsigned idx, uint8_t *data, uint16_t want)
{
        uint8_t buf[2 + 2 * 126];
        if (idx == 0) { /* language table: US English */
                const uint8_t langs[4] = {4, USB_DT_STRING, 0x09, 0x04};
                return copy_out(data, want, langs, sizeof(langs));
        }
        if (idx > dev->nstrings)
                return USB_STALL;
        const char *s = dev->strings[idx - 1];
        size_t n = strnlen(s, 126);
        buf[0] = (uint8_t)(2 + 2 * n);
        buf[1] = USB_DT_STRING;
        for (size_t i = 0; i < n; i++) {
                buf[2 + 2 * i] = (uint8_t)s[i];
                buf[3 + 2 * i] = 0;
        }
        return copy_out(data, want, buf, buf[0]);
}

static int get_descriptor(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
        unsigned type = s->value >> 8, idx = s->value & 0xff;
        switch (type) {
        case USB_DT_DEVICE:
                return copy_out(data, s->length, dev->dev_desc, dev->dev_desc[0]);
        case USB_DT_CONFIG:
                if (idx != 0)
                        return USB_STALL;
                return copy_out(data, s->length, dev->conf_desc, dev->conf_len);
        case USB_DT_STRING:
                return get_string(dev, idx, data, s->length);
        default: /* device qualifier, other speed, BOS: not for our devices */
                return USB_STALL;
        }
}

/* The endpoint addressed by wIndex, or NULL when the device has none such. */
static bool *halt_flag(struct usb_device *dev, uint16_t index)
{
        unsigned num = index & 0x0f;
        if (num == 0)
                return NULL;
        return &dev->halted[(index & USB_DIR_IN) ? 1 : 0][num];
}

static int standard_request(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
        unsigned recip = s->request_type & USB_RECIP_MASK;
        switch (s->request) {
        case USB_REQ_GET_DESCRIPTOR:
                if (!(s->request_type & USB_DIR_IN))
                        return USB_STALL;
                if (recip == USB_RECIP_DEV)
                        return get_descriptor(dev, s, data);
                break; /* interface descriptors (HID report) are class business */
        case USB_REQ_SET_ADDRESS:
                if (s->value > 127)
                        return USB_STALL;
                dev->address = (uint8_t)s->value;
                return 0;
        case USB_REQ_GET_CONFIGURATION:
                return copy_out(data, s->length, &dev->configuration, 1);
        case USB_REQ_SET_CONFIGURATION: {
                uint8_t want = (uint8_t)s->value;
                if (want != 0 && want != dev->conf_desc[5])
                        return USB_STALL;
                dev->configuration = want;
                memset(dev->halted, 0, sizeof(dev->halted));
                return 0;
        }
        case USB_REQ_GET_STATUS: {
                uint8_t st[2] = {0, 0};
                if (recip == USB_RECIP_DEV)
                        st[0] = (dev->conf_desc[7] & 0x40) ? 1 : 0; /* self-powered */
                else if (recip == USB_RECIP_EP) {
                        bool *h = halt_flag(dev, s->index);
                        st[0] = h && *h;
                }
                return copy_out(data, s->length, st, 2);
        }
        case USB_REQ_CLEAR_FEATURE:
        case USB_REQ_SET_FEATURE:
                if (recip == USB_RECIP_EP && s->value == FEATURE_ENDPOINT_HALT) {
                        bool *h = halt_flag(dev, s->index);
                        if (h)
                                *h = s->request == USB_REQ_SET_FEATURE;
                        return 0;
                }
                return recip == USB_RECIP_DEV ? 0 : USB_STALL; /* remote wakeup: accepted */
        case USB_REQ_GET_INTERFACE:
                if (recip == USB_RECIP_IFACE)
                        return copy_out(data, s->length, (const uint8_t[]){0}, 1);
                break;
        case USB_REQ_SET_INTERFACE:
                return s->value == 0 ? 0 : USB_STALL; /* alternate setting 0 only */
        default:
                break;
        }
        return USB_STALL;
}

int usb_device_control(struct usb_device *dev, const struct usb_setup *setup, uint8_t *data)
{
        if (dev->forward_standard && dev->ops->control &&
            !(setup->request_type == 0 && setup->request == USB_REQ_SET_ADDRESS))
                return dev->ops->control(dev, setup, data);
        if ((setup->request_type & USB_TYPE_MASK) == USB_TYPE_STD) {
                int r = standard_request(dev, setup, data);
                if (r != USB_STALL || !dev->ops->control)
                        return r;
        }
        return dev->ops->control ? dev->ops->control(dev, setup, data) : USB_STALL;
}

int usb_device_transfer(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len)
{
        unsigned num = ep & 0x0f;
        if (num == 0 || dev->configuration == 0 || !dev->ops->transfer)
                return USB_STALL;
        if (dev->halted[(ep & USB_DIR_IN) ? 1 : 0][num])
                return USB_STALL;
        return dev->ops->transfer(dev, ep, buf, len);
}

void usb_device_reset(struct usb_device *dev)
{
        dev->address = 0;
        dev->configuration = 0;
        memset(dev->halted, 0, sizeof(dev->halted));
        if (dev->ops->reset)
                dev->ops->reset(dev);
}

void usb_device_destroy(struct usb_device *dev)
{
        if (!dev)
                return;
        char *spec = dev->spec;
        dev->ops->destroy(dev);
        free(spec);
}

void usb_device_wakeup(struct usb_device *dev, uint8_t ep)
{
        if (dev->link.wakeup)
                dev->link.wakeup(dev->link.opaque, ep);
}

void usb_device_unplugged(struct usb_device *dev)
{
        if (dev->link.unplug)
                dev->link.unplug(dev->link.opaque);
}
