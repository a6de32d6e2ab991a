/* PV USB (docs/pv-abi.md §8) driven through a real virtqueue in real guest
 * memory, as the legacy guest's frontend drives it: the printer enumerated,
 * configured and printing into its spool file; a keyboard interrupt IN that
 * waits for a key while a print job queues behind it; detach while waiting;
 * stale port generations. Then the attacks: malformed headers, lengths that
 * do not match the buffers, bad endpoints, chains without a response
 * buffer, rings outside RAM and descriptor loops (NEEDS_RESET, recovery by
 * reset), and random requests. The device must answer each with an error
 * and stay usable. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/harness.h"
#include "../unit/vdriver.h"
#include "pvusb.h"
#include "pvusb_abi.h"
#include "usb_device.h"
#include "devices.h"
#include "virtio_core.h"

#define RAM   (4ull << 20)
#define RING  0x1000
#define HDR   0x8000
#define RESP  0x8100
#define DATA  0x10000
#define QSIZE 16

static struct guest_mem mem;
static struct vd_queue q;
static unsigned config_events, queue_events;

static void t_notify_queue(struct virtio_device *v, unsigned qi)
{
        (void)v, (void)qi;
        queue_events++;
}

static void t_notify_config(struct virtio_device *v)
{
        (void)v;
        config_events++;
}

static const struct virtio_transport transport = {t_notify_queue, t_notify_config};

static struct tpv_usb_config read_config(struct virtio_device *v)
{
        struct tpv_usb_config c;
        v->ops->config_read(v, 0, &c, sizeof(c));
        return c;
}

/* Queues one request chain without kicking. data_out / data_in: OUT or IN
 * data stage of len bytes at DATA (one descriptor). */
static void queue_req(const struct tpv_usb_request *h, uint32_t len, bool in)
{
        vd_write(&mem, HDR, h, sizeof(*h));
        struct tpv_usb_response r = {.status = 12345, .actual = 777};
        vd_write(&mem, RESP, &r, sizeof(r));
        struct vd_buf b[3];
        unsigned n = 0;
        b[n++] = (struct vd_buf){HDR, sizeof(*h), false};
        if (len)
                b[n++] = (struct vd_buf){DATA, len, in};
        b[n++] = (struct vd_buf){RESP, sizeof(struct tpv_usb_response), true};
        vd_add_chain(&q, b, n);
}

static struct tpv_usb_response take_resp(void)
{
        struct tpv_usb_response r;
        vd_read(&mem, RESP, &r, sizeof(r));
        return r;
}

/* Sends one request and returns its response (status 12345: none came). */
static struct tpv_usb_response run(struct virtio_device *v, const struct tpv_usb_request *h,
                                   uint32_t len, bool in)
{
        queue_req(h, len, in);
        virtio_kick(v, 0);
        uint32_t id, ulen;
        if (!vd_get_used(&q, &id, &ulen))
                return (struct tpv_usb_response){.status = 12345};
        return take_resp();
}

static struct tpv_usb_request ctrl(uint16_t port, uint16_t gen, uint8_t type, uint8_t req,
                                   uint16_t value, uint16_t index, uint16_t len)
{
        return (struct tpv_usb_request){
            .port = port,
            .port_gen = gen,
            .type = TPV_USB_CONTROL,
            .length = len,
            .setup = {type, req, (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)index,
                      (uint8_t)(index >> 8), (uint8_t)len, (uint8_t)(len >> 8)},
        };
}

static struct tpv_usb_request xfer(uint16_t port, uint16_t gen, uint8_t type, uint8_t ep,
                                   uint32_t len)
{
        return (struct tpv_usb_request){
            .port = port, .port_gen = gen, .type = type, .endpoint = ep, .length = len};
}

static void bringup(struct virtio_device *v)
{
        vd_queue_init(&q, &mem, RING, QSIZE);
        uint8_t st = vd_bringup(v, 1ull << VIRTIO_F_VERSION_1, &q, 1);
        REQUIRE(st & VIRTIO_STATUS_DRIVER_OK);
}

static size_t file_size(const char *path)
{
        int fd = open(path, O_RDONLY);
        if (fd < 0)
                return 0;
        off_t n = lseek(fd, 0, SEEK_END);
        close(fd);
        return (size_t)n;
}

int main(void)
{
        char err[256];
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        char spool[] = "/tmp/pvusb-spool-XXXXXX";
        int sfd = mkstemp(spool);
        REQUIRE(sfd >= 0);
        close(sfd);

        struct virtio_device *v = pvusb_create(NULL, &mem, err, sizeof(err));
        REQUIRE(v);
        v->transport = &transport;
        CHECK_EQ(v->ops->device_id, TPV_VIRTIO_ID_USB);
        CHECK_EQ(v->ops->config_size, 56);
        CHECK_EQ(sizeof(struct tpv_usb_request), 24);

        struct usb_device *prn = usb_printer_create(spool, err, sizeof(err));
        struct usb_device *kbd = usb_kbd_create(err, sizeof(err));
        REQUIRE(prn && kbd);
        CHECK_EQ(pvusb_attach(v, prn, err, sizeof(err)), 1);
        CHECK_EQ(pvusb_attach(v, kbd, err, sizeof(err)), 2);
        CHECK_EQ(config_events, 2);
        bringup(v);

        /* The ports as the guest reads them. */
        struct tpv_usb_config c = read_config(v);
        CHECK_EQ(c.nports, TPV_USB_PORTS);
        CHECK_EQ(c.port[0].status, TPV_USB_PORT_CONNECTED);
        CHECK_EQ(c.port[0].iclass, 7);
        CHECK_EQ(c.port[0].iprotocol, 1);
        CHECK_EQ(c.port[0].vendor, 0x1209);
        CHECK_EQ(c.port[0].product, 0x0003);
        CHECK_EQ(c.port[1].iclass, 3);
        CHECK_EQ(c.port[2].status, 0);
        uint16_t pg = c.port[0].gen, kg = c.port[1].gen;

        /* Enumerate and configure the printer. */
        struct tpv_usb_request h = xfer(1, pg, TPV_USB_RESET, 0, 0);
        CHECK_EQ(run(v, &h, 0, false).status, TPV_USB_OK);
        h = ctrl(1, pg, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18);
        struct tpv_usb_response r = run(v, &h, 18, true);
        CHECK_EQ(r.status, TPV_USB_OK);
        CHECK_EQ(r.actual, 18);
        uint8_t dd[18];
        vd_read(&mem, DATA, dd, 18);
        CHECK_EQ(dd[1], USB_DT_DEVICE);
        CHECK_EQ(dd[8] | dd[9] << 8, 0x1209);
        /* bulk before SET_CONFIGURATION: the device is not configured */
        h = xfer(1, pg, TPV_USB_BULK, 0x01, 4);
        vd_write(&mem, DATA, "nope", 4);
        CHECK_EQ(run(v, &h, 4, false).status, TPV_USB_ESTALL);
        h = ctrl(1, pg, 0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0);
        CHECK_EQ(run(v, &h, 0, false).status, TPV_USB_OK);
        h = ctrl(1, pg, 0xA1, 0 /* GET_DEVICE_ID */, 0, 0, 200);
        r = run(v, &h, 200, true);
        CHECK_EQ(r.status, TPV_USB_OK);
        char id[201] = {0};
        vd_read(&mem, DATA, id, 200);
        CHECK(r.actual > 2 && strstr(id + 2, "CLS:PRINTER;"));
        h = ctrl(1, pg, 0xA1, 1 /* GET_PORT_STATUS */, 0, 0, 1);
        r = run(v, &h, 1, true);
        CHECK_EQ(r.status, TPV_USB_OK);

        /* Print: one descriptor, then the data split over two. */
        const char *job = "TANDEM TOTE RECEIPT\r\nTICKET 000001\r\n\f";
        h = xfer(1, pg, TPV_USB_BULK, 0x01, (uint32_t)strlen(job));
        vd_write(&mem, DATA, job, strlen(job));
        r = run(v, &h, (uint32_t)strlen(job), false);
        CHECK_EQ(r.status, TPV_USB_OK);
        CHECK_EQ(r.actual, strlen(job));
        h = xfer(1, pg, TPV_USB_BULK, 0x01, 10);
        vd_write(&mem, HDR, &h, sizeof(h));
        vd_write(&mem, DATA, "split", 5);
        vd_write(&mem, DATA + 0x100, " job", 5);
        struct vd_buf sb[4] = {
            {HDR, sizeof(h), false}, {DATA, 5, false}, {DATA + 0x100, 5, false}, {RESP, 8, true}};
        vd_add_chain(&q, sb, 4);
        virtio_kick(v, 0);
        uint32_t uid, ulen;
        CHECK(vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(take_resp().status, TPV_USB_OK);
        char got[128] = {0};
        int fd = open(spool, O_RDONLY);
        REQUIRE(fd >= 0);
        CHECK_EQ(read(fd, got, sizeof(got) - 1), strlen(job) + 10);
        close(fd);
        CHECK(memcmp(got, job, strlen(job)) == 0);
        CHECK(memcmp(got + strlen(job), "split job", 10) == 0);

        /* Keyboard: an interrupt IN with no key waits (NAK); a print job
         * queued behind it waits too; a key press completes both. */
        h = ctrl(2, kg, 0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0);
        CHECK_EQ(run(v, &h, 0, false).status, TPV_USB_OK);
        struct pvusb_stats st0;
        pvusb_get_stats(v, &st0);
        h = xfer(2, kg, TPV_USB_INTERRUPT, 0x81, 8);
        vd_write(&mem, HDR, &h, sizeof(h));
        struct vd_buf kb[3] = {{HDR, sizeof(h), false}, {DATA, 8, true}, {RESP, 8, true}};
        vd_add_chain(&q, kb, 3);
        virtio_kick(v, 0);
        CHECK(!vd_get_used(&q, &uid, &ulen));
        struct tpv_usb_request h2 = xfer(1, pg, TPV_USB_BULK, 0x01, 6);
        vd_write(&mem, HDR + 0x40, &h2, sizeof(h2));
        vd_write(&mem, DATA + 0x200, "queued", 6);
        struct vd_buf pb[3] = {
            {HDR + 0x40, sizeof(h2), false}, {DATA + 0x200, 6, false}, {RESP + 0x40, 8, true}};
        vd_add_chain(&q, pb, 3);
        virtio_kick(v, 0);
        CHECK(!vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(file_size(spool), strlen(job) + 10);
        usb_kbd_key(kbd, 0x04 /* a */, true);
        CHECK(vd_get_used(&q, &uid, &ulen));
        r = take_resp();
        CHECK_EQ(r.status, TPV_USB_OK);
        CHECK_EQ(r.actual, 8);
        uint8_t report[8];
        vd_read(&mem, DATA, report, 8);
        CHECK_EQ(report[2], 0x04);
        CHECK(vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(file_size(spool), strlen(job) + 16);
        struct pvusb_stats st1;
        pvusb_get_stats(v, &st1);
        CHECK_EQ(st1.naks, st0.naks + 1);
        usb_kbd_key(kbd, 0x04, false);
        h = xfer(2, kg, TPV_USB_INTERRUPT, 0x81, 8);
        CHECK_EQ(run(v, &h, 8, true).status, TPV_USB_OK); /* the release report */

        /* Detach while a request waits: cancelled; the port is then empty
         * and the old generation is refused after a re-attach. */
        h = xfer(2, kg, TPV_USB_INTERRUPT, 0x81, 8);
        queue_req(&h, 8, true);
        virtio_kick(v, 0);
        CHECK(!vd_get_used(&q, &uid, &ulen));
        unsigned ev = config_events;
        uint32_t gen0 = read_config(v).generation;
        CHECK_EQ(pvusb_detach(v, 2), 0);
        CHECK(vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(take_resp().status, TPV_USB_ECANCELLED);
        CHECK_EQ(config_events, ev + 1);
        CHECK(read_config(v).generation != gen0);
        CHECK_EQ(read_config(v).port[1].status, 0);
        CHECK_EQ(pvusb_detach(v, 2), -1);
        h = xfer(2, kg, TPV_USB_INTERRUPT, 0x81, 8);
        CHECK_EQ(run(v, &h, 8, true).status, TPV_USB_ENODEV);
        kbd = usb_kbd_create(err, sizeof(err));
        CHECK_EQ(pvusb_attach(v, kbd, err, sizeof(err)), 2);
        CHECK(read_config(v).port[1].gen != kg);
        h = ctrl(2, kg, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18);
        CHECK_EQ(run(v, &h, 18, true).status, TPV_USB_ENODEV); /* stale generation */

        /* ---- attacks ---- */
        struct pvusb_stats sa;
        pvusb_get_stats(v, &sa);
        struct {
                struct tpv_usb_request h;
                uint32_t len;
                bool in;
                int32_t want;
        } bad[] = {
            {{.port = 0, .port_gen = pg, .type = TPV_USB_RESET}, 0, false, TPV_USB_EINVAL},
            {{.port = 5, .port_gen = pg, .type = TPV_USB_RESET}, 0, false, TPV_USB_EINVAL},
            {{.port = 0xffff, .port_gen = pg, .type = TPV_USB_RESET}, 0, false, TPV_USB_EINVAL},
            {{.port = 1, .port_gen = pg, .type = TPV_USB_RESET, .flags = 1},
             0,
             false,
             TPV_USB_EINVAL},
            {{.port = 1, .port_gen = pg, .type = TPV_USB_RESET, .reserved = 9},
             0,
             false,
             TPV_USB_EINVAL},
            {{.port = 1, .port_gen = pg, .type = 7}, 0, false, TPV_USB_EINVAL},
            {{.port = 1, .port_gen = pg, .type = TPV_USB_RESET, .endpoint = 1},
             0,
             false,
             TPV_USB_EINVAL},
            {{.port = 1, .port_gen = pg, .type = TPV_USB_RESET, .length = 4},
             4,
             false,
             TPV_USB_EINVAL},
            /* bulk to endpoint 0 and a reserved endpoint bit */
            {xfer(1, pg, TPV_USB_BULK, 0x00, 4), 4, false, TPV_USB_EINVAL},
            {xfer(1, pg, TPV_USB_BULK, 0x71, 4), 4, false, TPV_USB_EINVAL},
            /* over 64 KiB */
            {xfer(1, pg, TPV_USB_BULK, 0x01, TPV_USB_MAX_DATA + 1), TPV_USB_MAX_DATA + 1, false,
             TPV_USB_EINVAL},
            /* control wLength other than the length; control with an endpoint */
            {ctrl(1, pg, 0x80, USB_REQ_GET_DESCRIPTOR, 0x100, 0, 18), 8, true, TPV_USB_EINVAL},
            {{.port = 1, .port_gen = pg, .type = TPV_USB_CONTROL, .endpoint = 0x80},
             0,
             false,
             TPV_USB_EINVAL},
            /* buffer direction against the request's direction */
            {xfer(1, pg, TPV_USB_BULK, 0x01, 16), 16, true, TPV_USB_EINVAL},
            {xfer(2, read_config(v).port[1].gen, TPV_USB_INTERRUPT, 0x81, 8), 8, false,
             TPV_USB_EINVAL},
            /* a length longer than the buffer given */
            {xfer(1, pg, TPV_USB_BULK, 0x01, 4096), 16, false, TPV_USB_EINVAL},
            /* endpoints the device does not have, or of another type */
            {xfer(1, pg, TPV_USB_BULK, 0x02, 4), 4, false, TPV_USB_ESTALL},
            {xfer(1, pg, TPV_USB_BULK, 0x81, 4), 4, true, TPV_USB_ESTALL},
            {xfer(1, pg, TPV_USB_INTERRUPT, 0x01, 4), 4, false, TPV_USB_ESTALL},
            /* empty ports */
            {xfer(3, 0, TPV_USB_RESET, 0, 0), 0, false, TPV_USB_ENODEV},
            {xfer(4, 1, TPV_USB_BULK, 0x01, 4), 4, false, TPV_USB_ENODEV},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                r = run(v, &bad[i].h, bad[i].len, bad[i].in);
                if (r.status != bad[i].want)
                        fprintf(stderr, "attack %zu: status %d, want %d\n", i, r.status,
                                bad[i].want);
                CHECK_EQ(r.status, bad[i].want);
                CHECK_EQ(r.actual, 0);
        }
        CHECK_EQ(file_size(spool), strlen(job) + 16); /* nothing printed */
        /* A header shorter than 24 bytes, and one split over two buffers. */
        h = xfer(1, pg, TPV_USB_RESET, 0, 0);
        vd_write(&mem, HDR, &h, sizeof(h));
        struct vd_buf shortb[2] = {{HDR, 20, false}, {RESP, 8, true}};
        vd_add_chain(&q, shortb, 2);
        virtio_kick(v, 0);
        CHECK(vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(take_resp().status, TPV_USB_EINVAL);
        struct vd_buf splitb[3] = {{HDR, 10, false}, {HDR + 10, 14, false}, {RESP, 8, true}};
        vd_add_chain(&q, splitb, 3);
        virtio_kick(v, 0);
        CHECK(vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(take_resp().status, TPV_USB_OK);
        /* No writable buffer at all: given back with length 0. */
        struct vd_buf noresp[1] = {{HDR, sizeof(h), false}};
        vd_add_chain(&q, noresp, 1);
        virtio_kick(v, 0);
        CHECK(vd_get_used(&q, &uid, &ulen));
        CHECK_EQ(ulen, 0);
        struct pvusb_stats sb2;
        pvusb_get_stats(v, &sb2);
        CHECK(sb2.rejected >= sa.rejected + 17);
        CHECK(virtio_device_live(v));

        /* A data buffer outside RAM: the ring is broken, NEEDS_RESET. */
        h = xfer(1, pg, TPV_USB_BULK, 0x01, 64);
        vd_write(&mem, HDR, &h, sizeof(h));
        struct vd_buf outside[3] = {
            {HDR, sizeof(h), false}, {RAM - 32, 64, false}, {RESP, 8, true}};
        vd_add_chain(&q, outside, 3);
        virtio_kick(v, 0);
        CHECK(v->status & VIRTIO_STATUS_NEEDS_RESET);
        CHECK(!virtio_device_live(v));
        /* Reset and again: a descriptor loop. */
        bringup(v);
        vd_set_desc(&q, 0, HDR, sizeof(h), VD_NEXT, 1);
        vd_set_desc(&q, 1, DATA, 8, VD_NEXT, 0);
        vd_publish(&q, 0);
        virtio_kick(v, 0);
        CHECK(v->status & VIRTIO_STATUS_NEEDS_RESET);

        /* Random requests: every one is answered or the ring is reset; the
         * VMM never crashes and the printer prints afterwards. */
        srand(6);
        bringup(v);
        for (int round = 0; round < 3000; round++) {
                if (!virtio_device_live(v))
                        bringup(v);
                struct tpv_usb_request rh;
                uint8_t *raw = (uint8_t *)&rh;
                for (size_t i = 0; i < sizeof(rh); i++)
                        raw[i] = (uint8_t)rand();
                if (rand() % 2) { /* mostly plausible fields, to get deeper */
                        rh.port = (uint16_t)(rand() % 6);
                        rh.port_gen = read_config(v).port[(rh.port + 3) % 4].gen;
                        rh.type = (uint8_t)(rand() % 5);
                        rh.flags = 0;
                        rh.reserved = 0;
                        rh.length = (uint32_t)(rand() % 300);
                        rh.setup[6] = (uint8_t)rh.length;
                        rh.setup[7] = (uint8_t)(rh.length >> 8);
                }
                uint32_t dlen = (uint32_t)(rand() % 400);
                vd_write(&mem, HDR, &rh, sizeof(rh));
                struct vd_buf rb[3] = {{HDR, (uint32_t)(rand() % 40), rand() % 8 == 0},
                                       {DATA, dlen, rand() % 2 == 0},
                                       {RESP, (uint32_t)(rand() % 16), rand() % 8 != 0}};
                vd_add_chain(&q, rb, (unsigned)(1 + rand() % 3));
                virtio_kick(v, 0);
                while (vd_get_used(&q, &uid, &ulen))
                        ;
                /* A keyboard IN that waits would hold the queue: cancel it. */
                if (vd_used_idx(&q) != q.avail_idx) {
                        pvusb_detach(v, 2);
                        kbd = usb_kbd_create(err, sizeof(err));
                        REQUIRE(pvusb_attach(v, kbd, err, sizeof(err)) == 2);
                        while (vd_get_used(&q, &uid, &ulen))
                                ;
                }
                if (vd_used_idx(&q) != q.avail_idx && virtio_device_live(v)) {
                        fprintf(stderr, "round %d: request not answered\n", round);
                        CHECK(0);
                        break;
                }
        }
        bringup(v);
        pg = read_config(v).port[0].gen;
        h = ctrl(1, pg, 0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0);
        CHECK_EQ(run(v, &h, 0, false).status, TPV_USB_OK);
        size_t before = file_size(spool);
        h = xfer(1, pg, TPV_USB_BULK, 0x01, 5);
        vd_write(&mem, DATA, "after", 5);
        CHECK_EQ(run(v, &h, 5, false).status, TPV_USB_OK);
        CHECK_EQ(file_size(spool), before + 5);

        virtio_device_destroy(v);
        unlink(spool);
        guest_mem_destroy(&mem);
        TEST_END();
}
