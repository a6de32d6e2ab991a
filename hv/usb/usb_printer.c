/* USB printer class 1.1, unidirectional (protocol 1): print data arrives on
 * bulk OUT endpoint 1 and is appended to a spool file; GET_DEVICE_ID returns
 * an IEEE 1284 device ID, GET_PORT_STATUS reports "selected, no error". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usb_device.h"

#define PRN_GET_DEVICE_ID   0
#define PRN_GET_PORT_STATUS 1
#define PRN_SOFT_RESET      2

#define PORT_SELECTED  0x10
#define PORT_NOT_ERROR 0x08

static const uint8_t dev_desc[18] = {
    18, USB_DT_DEVICE, 0x00, 0x02, 0, 0, 0, 64, 0x09, 0x12, 0x03, 0x00, 0x00, 0x01, 1, 2, 3, 1,
};

static const uint8_t conf_desc[] = {
    9, USB_DT_CONFIG,    25,   0, 1,    1,    0, 0xc0, 1,
    9, USB_DT_INTERFACE, 0,    0, 1,    7,    1, 1,    0, /* printer, unidirectional */
    7, USB_DT_ENDPOINT,  0x01, 2, 0x00, 0x02, 0,          /* bulk OUT, 512 bytes */
};

static const char *const strings[] = {"Tandem", "Tandem Spool Printer", "PRN00000001"};

static const char device_id[] = "MFG:Tandem;MDL:Spool Printer;CMD:TEXT;CLS:PRINTER;";

struct usb_printer {
        struct usb_device dev;
        int fd;
};

static int printer_control(struct usb_device *dev, const struct usb_setup *s, uint8_t *data)
{
        (void)dev;
        if ((s->request_type & USB_TYPE_MASK) != USB_TYPE_CLASS)
                return USB_STALL;
        switch (s->request) {
        case PRN_GET_DEVICE_ID: {
                size_t len = 2 + strlen(device_id);
                uint8_t buf[2 + sizeof(device_id)];
                buf[0] = (uint8_t)(len >> 8); /* big-endian length, itself included */
                buf[1] = (uint8_t)len;
                memcpy(buf + 2, device_id, len - 2);
                size_t n = len < s->length ? len : s->length;
                memcpy(data, buf, n);
                return (int)n;
        }
        case PRN_GET_PORT_STATUS:
                if (s->length < 1)
                        return USB_STALL;
                data[0] = PORT_SELECTED | PORT_NOT_ERROR;
                return 1;
        case PRN_SOFT_RESET:
                return 0;
        default:
                return USB_STALL;
        }
}

static int printer_transfer(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len)
{
        struct usb_printer *p = (struct usb_printer *)dev;
        if (ep != 0x01)
                return USB_STALL;
        size_t done = 0;
        while (done < len) {
                ssize_t n = write(p->fd, buf + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return USB_IOERR;
                done += (size_t)n;
        }
        return (int)len;
}

static void printer_destroy(struct usb_device *dev)
{
        struct usb_printer *p = (struct usb_printer *)dev;
        close(p->fd);
        free(p);
}

static const struct usb_device_ops printer_ops = {
    .control = printer_control,
    .transfer = printer_transfer,
    .destroy = printer_destroy,
};

struct usb_device *usb_printer_create(const char *path, char *err, size_t errlen)
{
        struct usb_printer *p = calloc(1, sizeof(*p));
        if (!p) {
                snprintf(err, errlen, "usb printer: out of memory");
                return NULL;
        }
        p->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (p->fd < 0) {
                snprintf(err, errlen, "usb printer: cannot open spool %s: %s", path,
                         strerror(errno));
                free(p);
                return NULL;
        }
        p->dev.ops = &printer_ops;
        p->dev.name = "printer";
        p->dev.speed = USB_SPEED_HIGH;
        p->dev.dev_desc = dev_desc;
        p->dev.conf_desc = conf_desc;
        p->dev.conf_len = sizeof(conf_desc);
        p->dev.strings = strings;
        p->dev.nstrings = 3;
        return &p->dev;
}
