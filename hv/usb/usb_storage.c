/* USB mass storage, Bulk-Only Transport (BOT 1.0) with the SCSI transparent
 * command set: a 31-byte CBW on bulk OUT, an optional data phase, a 13-byte
 * CSW on bulk IN. When the device moves less data than the host asked for,
 * the CSW residue says so; when the command failed before any data moved and
 * the host expected data, the data endpoint stalls (BOT 6.7, cases 4 and 9)
 * and the host clears it before reading the CSW. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_disk.h"
#include "usb_device.h"

#define BOT_RESET       0xff
#define BOT_GET_MAX_LUN 0xfe

#define CBW_SIGNATURE 0x43425355u
#define CSW_SIGNATURE 0x53425355u
#define CBW_LEN       31
#define CSW_LEN       13

#define EP_IN  0x81
#define EP_OUT 0x02

static const uint8_t dev_desc[18] = {
    18,   USB_DT_DEVICE, 0x00, 0x02, 0,    0,    0, 64, /* USB 2.0, EP0 64 bytes */
    0x09, 0x12,          0x02, 0x00, 0x00, 0x01, 1, 2,  3, 1,
};

static const uint8_t conf_desc[] = {
    9, USB_DT_CONFIG,    32,     0, 1,    1,    0, 0x80, 50,
    9, USB_DT_INTERFACE, 0,      0, 2,    8,    6, 0x50, 0, /* mass storage, SCSI, bulk-only */
    7, USB_DT_ENDPOINT,  EP_IN,  2, 0x00, 0x02, 0,          /* bulk IN, 512 bytes */
    7, USB_DT_ENDPOINT,  EP_OUT, 2, 0x00, 0x02, 0,          /* bulk OUT, 512 bytes */
};

static const char *const strings[] = {"Tandem", "Tandem USB Disk", "DISK00000001"};

enum bot_state { BOT_CBW, BOT_DATA_IN, BOT_DATA_OUT, BOT_CSW };

struct usb_storage {
        struct usb_device dev;
        struct scsi_disk disk;
        enum bot_state state;
        uint32_t tag;
        uint32_t host_len;  /* dCBWDataTransferLength */
        uint32_t moved;     /* data bytes moved so far */
        uint8_t csw_status; /* 0 passed, 1 failed, 2 phase error */
        struct scsi_cmd cmd;
};

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static void halt(struct usb_storage *s, uint8_t ep)
{
        s->dev.halted[(ep & USB_DIR_IN) ? 1 : 0][ep & 0x0f] = true;
}

static int take_cbw(struct usb_storage *s, const uint8_t *buf, size_t len)
{
        if (len != CBW_LEN || le32(buf) != CBW_SIGNATURE || buf[13] != 0 || buf[14] == 0 ||
            buf[14] > 16) {
                /* Invalid CBW (BOT 6.6.1): stall both until a reset recovery. */
                halt(s, EP_IN);
                halt(s, EP_OUT);
                return USB_STALL;
        }
        s->tag = le32(buf + 4);
        s->host_len = le32(buf + 8);
        bool host_in = buf[12] & 0x80;
        s->moved = 0;
        scsi_disk_command(&s->disk, buf + 15, buf[14], &s->cmd);
        s->csw_status = s->cmd.good ? 0 : 1;
        uint64_t dev_len = s->cmd.data_len;
        if (dev_len == 0 || s->host_len == 0) {
                s->state = BOT_CSW;
                if (s->host_len) /* host expects data, device has none */
                        halt(s, host_in ? EP_IN : EP_OUT);
                else if (dev_len)
                        s->csw_status = 2; /* device wants data, host offers none */
                return CBW_LEN;
        }
        if (host_in != s->cmd.data_in || dev_len > s->host_len) {
                s->csw_status = 2; /* direction or length disagree: phase error */
                s->state = BOT_CSW;
                halt(s, host_in ? EP_IN : EP_OUT);
                return CBW_LEN;
        }
        s->state = host_in ? BOT_DATA_IN : BOT_DATA_OUT;
        return CBW_LEN;
}

static int data_in(struct usb_storage *s, uint8_t *buf, size_t len)
{
        uint64_t left = s->cmd.data_len - s->moved;
        size_t n = len < left ? len : (size_t)left;
        if (s->cmd.streamed) {
                if (!scsi_disk_read_chunk(&s->disk, &s->cmd, buf, n)) {
                        s->csw_status = 1;
                        s->state = BOT_CSW;
                        halt(s, EP_IN);
                        return USB_STALL;
                }
        } else {
                memcpy(buf, s->cmd.reply + s->moved, n);
        }
        s->moved += (uint32_t)n;
        if (s->moved == s->cmd.data_len || n < len) {
                s->state = BOT_CSW;
                /* Less than the host expected and not ended by a short packet:
                 * stall so the host stops waiting for data (BOT case 5). */
                if (s->moved < s->host_len && n == len)
                        halt(s, EP_IN);
        }
        return (int)n;
}

static int data_out(struct usb_storage *s, const uint8_t *buf, size_t len)
{
        uint64_t left = s->cmd.data_len - s->moved;
        size_t n = len < left ? len : (size_t)left;
        if (!scsi_disk_write_chunk(&s->disk, &s->cmd, buf, n)) {
                s->csw_status = 1;
                s->state = BOT_CSW;
                halt(s, EP_OUT);
                return USB_STALL;
        }
        s->moved += (uint32_t)n;
        if (s->moved == s->cmd.data_len)
                s->state = BOT_CSW;
        return (int)len; /* excess data (host > device) is accepted and dropped */
}

static int send_csw(struct usb_storage *s, uint8_t *buf, size_t len)
{
        if (len < CSW_LEN)
                return USB_BABBLE;
        put_le32(buf, CSW_SIGNATURE);
        put_le32(buf + 4, s->tag);
        put_le32(buf + 8, s->host_len - s->moved);
        buf[12] = s->csw_status;
        s->state = BOT_CBW;
        return CSW_LEN;
}

static int storage_transfer(struct usb_device *dev, uint8_t ep, uint8_t *buf, size_t len)
{
        struct usb_storage *s = (struct usb_storage *)dev;
        if (ep == EP_OUT) {
                if (s->state == BOT_CBW)
                        return take_cbw(s, buf, len);
                if (s->state == BOT_DATA_OUT)
                        return data_out(s, buf, len);
                return USB_STALL;
        }
        if (ep == EP_IN) {
                if (s->state == BOT_DATA_IN)
                        return data_in(s, buf, len);
                if (s->state == BOT_CSW)
                        return send_csw(s, buf, len);
        }
        return USB_STALL;
}

static int storage_control(struct usb_device *dev, const struct usb_setup *st, uint8_t *data)
{
        struct usb_storage *s = (struct usb_storage *)dev;
        if ((st->request_type & USB_TYPE_MASK) != USB_TYPE_CLASS)
                return USB_STALL;
        switch (st->request) {
        case BOT_RESET:
                s->state = BOT_CBW;
                return 0;
        case BOT_GET_MAX_LUN:
                if (st->length < 1)
                        return USB_STALL;
                data[0] = 0;
                return 1;
        default:
                return USB_STALL;
        }
}

static void storage_reset(struct usb_device *dev)
{
        ((struct usb_storage *)dev)->state = BOT_CBW;
}

static void storage_destroy(struct usb_device *dev)
{
        struct usb_storage *s = (struct usb_storage *)dev;
        scsi_disk_close(&s->disk);
        free(s);
}

static const struct usb_device_ops storage_ops = {
    .control = storage_control,
    .transfer = storage_transfer,
    .reset = storage_reset,
    .destroy = storage_destroy,
};

struct usb_device *usb_storage_create(const char *path, char *err, size_t errlen)
{
        struct usb_storage *s = calloc(1, sizeof(*s));
        if (!s) {
                snprintf(err, errlen, "usb storage: out of memory");
                return NULL;
        }
        if (scsi_disk_open(&s->disk, path, err, errlen) < 0) {
                free(s);
                return NULL;
        }
        s->dev.ops = &storage_ops;
        s->dev.name = "storage";
        s->dev.speed = USB_SPEED_HIGH;
        s->dev.dev_desc = dev_desc;
        s->dev.conf_desc = conf_desc;
        s->dev.conf_len = sizeof(conf_desc);
        s->dev.strings = strings;
        s->dev.nstrings = 3;
        return &s->dev;
}
