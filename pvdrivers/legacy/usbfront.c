#include "usbfront.h"

#include "../../hv/usb/pvusb_abi.h"
#include "pv.h"
#include "pvdev.h"

#define QSIZE    4
#define CHUNK    4096 /* bytes per bulk request */
#define CONF_MAX 256  /* configuration descriptor bytes read */

/* USB 2.0 chapter 9 and the printer class 1.1 */
#define REQ_GET_DESCRIPTOR    6
#define REQ_SET_CONFIGURATION 9
#define REQ_CLEAR_FEATURE     1
#define DT_CONFIG             2
#define DT_INTERFACE          4
#define DT_ENDPOINT           5
#define CLASS_PRINTER         7
#define PRN_GET_DEVICE_ID     0
#define PRN_GET_PORT_STATUS   1
#define PRN_STATUS_NOT_ERROR  0x08

static VRING(QSIZE) vq __attribute__((aligned(4096)));

static struct tpv_usb_request req;
static struct tpv_usb_response resp;
static uint8_t ctrl_buf[CONF_MAX];
static struct pvdev dev = {.index = -1};
static int state; /* 0: not set up, 1: ready, -1: the domain has no PV USB */
static uint16_t last_used;
uint32_t usb_front_requests;

/* The printer this driver configured. */
static struct {
        unsigned port;
        uint16_t gen;
        uint8_t iface, ep_out;
        int ready;
} prn;

/* virtio 1.2 §3.1.1 over the PV bus; state 1 on success. */
static int front_init(void)
{
        if (state < 0)
                return TPV_ENODEV;
        if (dev.index < 0 && pvdev_find(&dev, TPV_VIRTIO_ID_USB, 0) < 0) {
                state = -1;
                return TPV_ENODEV;
        }
        int r;
        if ((r = pvdev_start(&dev)) < 0 ||
            (r = pvdev_accept_features(&dev, 1ull << VIRTIO_F_VERSION_1)) < 0)
                return r;
        /* A reset device reads the rings from index 0 again, also after a failure. */
        for (unsigned i = 0; i < sizeof(vq); i++)
                ((volatile uint8_t *)&vq)[i] = 0;
        last_used = 0;
        if ((r = pvdev_setup_vring(&dev, TPV_USB_QUEUE, vq)) < 0 || (r = pvdev_ready(&dev)) < 0)
                return r;
        state = 1;
        prn.ready = 0;
        return 0;
}

/* One request: header, data stage (if any), response. Returns a TPV_USB_*
 * status; *actual gets the bytes moved. */
static int32_t submit(unsigned port, uint16_t gen, uint8_t type, uint8_t ep, const uint8_t *setup,
                      void *data, uint32_t len, int in, uint32_t *actual)
{
        *actual = 0;
        if (state != 1 && front_init() < 0)
                return TPV_USB_EIO;
        req = (struct tpv_usb_request){
            .port = (uint16_t)port, .port_gen = gen, .type = type, .endpoint = ep, .length = len};
        if (setup)
                for (unsigned i = 0; i < 8; i++)
                        req.setup[i] = setup[i];
        resp.status = TPV_USB_EIO;
        unsigned n = 0;
        vq.desc[n] = (struct vring_desc){TPV_GPA(&req), sizeof(req), VIRTQ_DESC_F_NEXT, 1};
        n++;
        if (len) {
                vq.desc[n] = (struct vring_desc){TPV_GPA(data), len,
                                                 VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0),
                                                 (uint16_t)(n + 1)};
                n++;
        }
        vq.desc[n] = (struct vring_desc){TPV_GPA(&resp), sizeof(resp), VIRTQ_DESC_F_WRITE, 0};
        VRING_PUBLISH(vq, 0);
        usb_front_requests++;
        pvdev_kick(&dev);
        /* A passed-through device answers later, from the host. */
        if (pvdev_wait_used(&dev, &VRING_USED_IDX(vq), last_used) < 0) {
                state = 0; /* set the device up again next time */
                return TPV_USB_EIO;
        }
        last_used++;
        *actual = resp.actual;
        return resp.status;
}

static int32_t control(uint8_t type, uint8_t request, uint16_t value, uint16_t index, void *data,
                       uint16_t len, uint32_t *actual)
{
        const uint8_t setup[8] = {type,           request,
                                  (uint8_t)value, (uint8_t)(value >> 8),
                                  (uint8_t)index, (uint8_t)(index >> 8),
                                  (uint8_t)len,   (uint8_t)(len >> 8)};
        return submit(prn.port, prn.gen, TPV_USB_CONTROL, 0, setup, data, len, type & 0x80, actual);
}

/* The first port with a printer interface, from the config space; 0 when
 * none. */
static unsigned find_printer(uint16_t *gen)
{
        if (state != 1 && front_init() < 0)
                return 0;
        _Static_assert(sizeof(struct tpv_usb_config) <= sizeof(((struct tpv_bus_op *)0)->data),
                       "one READ_CONFIG holds the whole config");
        struct tpv_usb_config c;
        if (pvdev_read_config(&dev, 0, sizeof(c), &c) < 0)
                return 0;
        for (unsigned i = 0; i < TPV_USB_PORTS && i < c.nports; i++)
                if ((c.port[i].status & TPV_USB_PORT_CONNECTED) &&
                    c.port[i].iclass == CLASS_PRINTER) {
                        *gen = c.port[i].gen;
                        return i + 1;
                }
        return 0;
}

/* Reads the configuration descriptor: the printer interface and its bulk
 * OUT endpoint; then selects the configuration. */
static int claim(unsigned port, uint16_t gen)
{
        prn.port = port;
        prn.gen = gen;
        prn.ready = 0;
        uint32_t got;
        if (submit(port, gen, TPV_USB_RESET, 0, 0, 0, 0, 0, &got) != TPV_USB_OK)
                return TPV_EIO;
        if (control(0x80, REQ_GET_DESCRIPTOR, DT_CONFIG << 8, 0, ctrl_buf, 9, &got) != TPV_USB_OK ||
            got < 9)
                return TPV_EIO;
        uint32_t total = (uint32_t)(ctrl_buf[2] | ctrl_buf[3] << 8);
        if (total > CONF_MAX)
                total = CONF_MAX;
        if (control(0x80, REQ_GET_DESCRIPTOR, DT_CONFIG << 8, 0, ctrl_buf, (uint16_t)total, &got) !=
            TPV_USB_OK)
                return TPV_EIO;
        uint8_t config = ctrl_buf[5];
        int in_printer = 0, found = 0;
        for (uint32_t off = 0; off + 2 <= got && ctrl_buf[off] >= 2 && ctrl_buf[off] <= got - off;
             off += ctrl_buf[off]) {
                const uint8_t *d = ctrl_buf + off;
                if (d[1] == DT_INTERFACE && d[0] >= 9) {
                        if (found)
                                break;
                        in_printer = d[5] == CLASS_PRINTER && d[3] == 0; /* alternate 0 */
                        prn.iface = d[2];
                } else if (d[1] == DT_ENDPOINT && d[0] >= 7 && in_printer && !(d[2] & 0x80) &&
                           (d[3] & 3) == 2) {
                        prn.ep_out = d[2];
                        found = 1;
                }
        }
        if (!found)
                return TPV_ENODEV;
        if (control(0x00, REQ_SET_CONFIGURATION, config, 0, 0, 0, &got) != TPV_USB_OK)
                return TPV_EIO;
        /* IEEE 1284 device ID: two bytes of big-endian length, then text. */
        char id[96];
        if (control(0xA1, PRN_GET_DEVICE_ID, 0, (uint16_t)(prn.iface << 8), ctrl_buf, sizeof(id),
                    &got) == TPV_USB_OK &&
            got > 2) {
                uint32_t n = got - 2 < sizeof(id) - 1 ? got - 2 : sizeof(id) - 1;
                for (uint32_t i = 0; i < n; i++)
                        id[i] = (char)ctrl_buf[2 + i];
                id[n] = '\n';
                pv_console_write("usbfront: printer ", 18);
                pv_console_write(id, n + 1);
        }
        prn.ready = 1;
        return 0;
}

/* A configured printer, looked up again on every call. */
static int attach_printer(void)
{
        uint16_t gen = 0;
        unsigned port = find_printer(&gen);
        if (!port) {
                prn.ready = 0;
                return TPV_ENODEV;
        }
        if (prn.ready && prn.port == port && prn.gen == gen)
                return 0;
        return claim(port, gen);
}

int usb_printer_present(void)
{
        uint16_t gen;
        return find_printer(&gen) != 0;
}

static int send(const uint8_t *p, size_t len)
{
        uint32_t got;
        /* "Not Error" clear: out of paper, offline; a device that does not
         * answer the class request is taken as ready. */
        uint8_t st = PRN_STATUS_NOT_ERROR;
        int32_t r = control(0xA1, PRN_GET_PORT_STATUS, 0, prn.iface, &st, 1, &got);
        if (r == TPV_USB_ENODEV)
                return TPV_ENODEV;
        if (r == TPV_USB_OK && got == 1 && !(st & PRN_STATUS_NOT_ERROR))
                return TPV_EIO;
        while (len) {
                uint32_t n = len > CHUNK ? CHUNK : (uint32_t)len;
                r = submit(prn.port, prn.gen, TPV_USB_BULK, prn.ep_out, 0, (void *)p, n, 0, &got);
                if (r == TPV_USB_ESTALL) {
                        /* Clear the halt once and try again. */
                        control(0x02, REQ_CLEAR_FEATURE, 0, prn.ep_out, 0, 0, &got);
                        r = submit(prn.port, prn.gen, TPV_USB_BULK, prn.ep_out, 0, (void *)p, n, 0,
                                   &got);
                }
                if (r == TPV_USB_ENODEV)
                        return TPV_ENODEV;
                if (r != TPV_USB_OK || got == 0)
                        return TPV_EIO;
                p += got;
                len -= got;
        }
        return 0;
}

int usb_printer_write(const void *buf, size_t len)
{
        for (int attempt = 0; attempt < 2; attempt++) {
                int r = attach_printer();
                if (r < 0)
                        return r;
                r = send(buf, len);
                if (r != TPV_ENODEV)
                        return r;
                prn.ready = 0; /* unplugged meanwhile: look again */
        }
        return TPV_ENODEV;
}
