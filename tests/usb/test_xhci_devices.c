/* The xHCI model and the emulated devices, driven through real guest memory
 * by the test-side driver: reset and capabilities, port reset, Enable Slot,
 * Address Device, descriptors of the keyboard, a key press through the
 * interrupt endpoint, a sector written and read back through mass storage
 * (checked in the image file), a print job (checked in the spool file), and
 * a hot detach. The VM has no KVM behind it (vm_fd -1). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hv/usb/usb.h"
#include "../../hv/usb/xhci_internal.h"
#include "../unit/harness.h"
#include "xdriver.h"

#define RAM (16ull << 20)

static struct vm vm;
static struct xd d;
static struct usb_hc *hc; /* the controller as the VMM control commands see it */

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int kbd_key(const char *json, const char **error)
{
        json_object *req = json_tokener_parse(json), *reply = json_object_new_object();
        *error = NULL;
        int rc = usb_hc_command(hc, "usb-kbd-key", req, reply, error);
        json_object *port;
        if (rc == 0)
                CHECK(json_object_object_get_ex(reply, "port", &port) &&
                      json_object_get_int(port) == 1);
        json_object_put(req);
        json_object_put(reply);
        return rc;
}

/* The usb-kbd-key control command: evdev codes become boot reports on the
 * interrupt endpoint (DCI 3) of the configured keyboard in slot. */
static void test_kbd_command(unsigned slot, const uint8_t *buf)
{
        const char *error;
        unsigned moved;
        /* Left Shift is still down from test_keyboard: release it. */
        CHECK_EQ(kbd_key("{\"code\": 42, \"down\": false}", &error), 0);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[0], 0);
        /* KEY_Q (16) pressed and released: usage 0x14, then an empty report. */
        CHECK_EQ(kbd_key("{\"code\": 16}", &error), 0);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(moved, 8);
        CHECK_EQ(buf[2], 0x14);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[2], 0);
        /* KEY_ENTER down, then KEY_LEFTCTRL down: a modifier bit. */
        CHECK_EQ(kbd_key("{\"code\": 28, \"down\": true}", &error), 0);
        CHECK_EQ(kbd_key("{\"code\": 29, \"down\": true}", &error), 0);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[2], 0x28);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[0], 0x01);
        CHECK_EQ(buf[2], 0x28);
        CHECK_EQ(kbd_key("{\"code\": 28, \"down\": false}", &error), 0);
        CHECK_EQ(kbd_key("{\"code\": 29, \"down\": false}", &error), 0);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[0], 0);
        CHECK_EQ(buf[2], 0);
        /* Bad requests: a one-line error, no report. */
        const char *bad[] = {"{}",
                             "{\"code\": \"a\"}",
                             "{\"code\": 0}",
                             "{\"code\": -5}",
                             "{\"code\": 240}",
                             "{\"code\": 99999999999}",
                             "{\"code\": 30, \"down\": 1}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                CHECK_EQ(kbd_key(bad[i], &error), -1);
                CHECK(error && strstr(error, "usb-kbd-key") != NULL);
        }
        /* Six keys held; a seventh is refused (boot report rollover). */
        static const int held[] = {30, 31, 32, 33, 34, 35};
        char req[64];
        for (int i = 0; i < 6; i++) {
                snprintf(req, sizeof(req), "{\"code\": %d, \"down\": true}", held[i]);
                CHECK_EQ(kbd_key(req, &error), 0);
        }
        CHECK_EQ(kbd_key("{\"code\": 36, \"down\": true}", &error), -1);
        CHECK(error && strstr(error, "rollover") != NULL);
        for (int i = 0; i < 6; i++) {
                snprintf(req, sizeof(req), "{\"code\": %d, \"down\": false}", held[i]);
                CHECK_EQ(kbd_key(req, &error), 0);
        }
        for (int i = 0; i < 12; i++) {
                CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
                if (i == 5)
                        CHECK(buf[2] == 0x04 && buf[7] == 0x0b); /* a s d f g h */
        }
        CHECK_EQ(buf[2], 0);
}

static void test_keyboard(struct usb_device *kbd)
{
        unsigned slot = xd_enumerate(&d, 1, USB_SPEED_FULL, 8);
        REQUIRE(slot != 0);
        const uint8_t *out = xd_gpa(&d, XD_OUT_CTX + 0x1000ull * slot);
        CHECK_EQ(le32(out + 12) >> 27, SLOT_ADDRESSED);
        CHECK_EQ(le32(out + 12) & 0xff, slot);
        CHECK_EQ(kbd->address, slot);

        unsigned moved = 0;
        uint8_t *buf = xd_gpa(&d, XD_DATA);
        memset(buf, 0, 256);
        CHECK_EQ(xd_control(&d, slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_DEVICE << 8, 0, 18,
                            XD_DATA, &moved),
                 CC_SUCCESS);
        CHECK_EQ(moved, 18);
        CHECK_EQ(buf[0], 18);
        CHECK_EQ(buf[1], USB_DT_DEVICE);
        CHECK_EQ(buf[8] | buf[9] << 8, 0x1209);
        /* Asking for more than the configuration holds: a short data stage. */
        CHECK_EQ(xd_control(&d, slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_CONFIG << 8, 0, 255,
                            XD_DATA, &moved),
                 CC_SUCCESS);
        CHECK_EQ(moved, 34);
        CHECK_EQ(buf[1], USB_DT_CONFIG);
        CHECK_EQ(buf[9 + 5], 3); /* interface class HID */
        CHECK_EQ(buf[9 + 7], 1); /* boot keyboard */
        /* String 2 (product), UTF-16LE */
        CHECK_EQ(xd_control(&d, slot, 0x80, USB_REQ_GET_DESCRIPTOR, USB_DT_STRING << 8 | 2, 0x409,
                            255, XD_DATA, &moved),
                 CC_SUCCESS);
        CHECK_EQ(buf[2], 'T');
        CHECK_EQ(buf[3], 0);
        /* HID report descriptor through the interface */
        CHECK_EQ(
            xd_control(&d, slot, 0x81, USB_REQ_GET_DESCRIPTOR, 0x22 << 8, 0, 255, XD_DATA, &moved),
            CC_SUCCESS);
        CHECK(moved > 40);
        CHECK_EQ(buf[0], 0x05);
        /* Unknown descriptor type: STALL, endpoint halted, recovered by Reset EP. */
        CHECK_EQ(
            xd_control(&d, slot, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0f << 8, 0, 5, XD_DATA, &moved),
            CC_STALL);
        CHECK_EQ(le32(out + 32) & 7, EP_HALTED);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_RESET_EP << 10 | 1 << 16 | slot << 24, NULL), CC_SUCCESS);
        struct xd_ring *r0 = &d.xfer[slot][1];
        uint64_t next = (r0->base + 16ull * r0->idx) | (r0->pcs ? 1 : 0);
        CHECK_EQ(xd_command(&d, next, 0, TRB_SET_TR_DEQ << 10 | 1 << 16 | slot << 24, NULL),
                 CC_SUCCESS);
        CHECK_EQ(xd_control(&d, slot, 0, USB_REQ_SET_CONFIGURATION, 1, 0, 0, 0, &moved),
                 CC_SUCCESS);
        CHECK_EQ(kbd->configuration, 1);

        /* Interrupt IN endpoint 1 (DCI 3): no key yet, so no event; a key
         * press completes the pending TD. */
        CHECK_EQ(xd_add_endpoint(&d, slot, 3, EPT_INT_IN, 8), CC_SUCCESS);
        CHECK_EQ(le32(out + 12) >> 27, SLOT_CONFIGURED);
        memset(buf, 0xaa, 8);
        xd_ring_put(&d, &d.xfer[slot][3], XD_DATA, 8, TRB_NORMAL << 10 | TRB_ISP | TRB_IOC);
        xd_doorbell(&d, slot, 3);
        struct xd_event ev;
        CHECK(!xd_event(&d, &ev));
        CHECK_EQ(usb_kbd_key(kbd, 0x04, true), 0); /* 'a' */
        CHECK(xd_event_of(&d, TRB_EV_TRANSFER, &ev));
        CHECK_EQ(XD_EV_CC(&ev), CC_SUCCESS);
        CHECK_EQ(XD_EV_EP(&ev), 3);
        CHECK_EQ(buf[0], 0);
        CHECK_EQ(buf[2], 0x04);
        CHECK_EQ(buf[3], 0);
        /* Shift + release queue two reports; both arrive in order. */
        usb_kbd_key(kbd, 0xe1, true);
        usb_kbd_key(kbd, 0x04, false);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[0], 0x02);
        CHECK_EQ(buf[2], 0x04);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA, 8, &moved), CC_SUCCESS);
        CHECK_EQ(buf[0], 0x02);
        CHECK_EQ(buf[2], 0);
        test_kbd_command(slot, buf);
}

static unsigned bot(unsigned slot, uint8_t *cdb, unsigned cdb_len, bool in, uint32_t len,
                    uint64_t data, unsigned *csw_status)
{
        uint8_t *cbw = xd_gpa(&d, XD_DATA + 0x10000);
        memset(cbw, 0, 31);
        put_le32(cbw, 0x43425355);
        put_le32(cbw + 4, 0x1234);
        put_le32(cbw + 8, len);
        cbw[12] = in ? 0x80 : 0;
        cbw[14] = (uint8_t)cdb_len;
        memcpy(cbw + 15, cdb, cdb_len);
        unsigned moved = 0, cc;
        if ((cc = xd_bulk(&d, slot, 4, XD_DATA + 0x10000, 31, &moved)) != CC_SUCCESS)
                return cc;
        if (len && (cc = xd_bulk(&d, slot, in ? 3 : 4, data, len, &moved)) != CC_SUCCESS)
                return cc;
        uint8_t *csw = xd_gpa(&d, XD_DATA + 0x10100);
        if ((cc = xd_bulk(&d, slot, 3, XD_DATA + 0x10100, 13, &moved)) != CC_SUCCESS)
                return cc;
        CHECK_EQ(moved, 13);
        CHECK_EQ(le32(csw), 0x53425355);
        CHECK_EQ(le32(csw + 4), 0x1234);
        *csw_status = csw[12];
        return CC_SUCCESS;
}

static void test_storage(unsigned port, const char *image)
{
        unsigned slot = xd_enumerate(&d, port, USB_SPEED_HIGH, 64);
        REQUIRE(slot != 0);
        unsigned moved, st = 9;
        CHECK_EQ(xd_control(&d, slot, 0, USB_REQ_SET_CONFIGURATION, 1, 0, 0, 0, &moved),
                 CC_SUCCESS);
        uint8_t *buf = xd_gpa(&d, XD_DATA);
        CHECK_EQ(xd_control(&d, slot, 0xa1, 0xfe, 0, 0, 1, XD_DATA, &moved), CC_SUCCESS);
        CHECK_EQ(buf[0], 0); /* max LUN */
        CHECK_EQ(xd_add_endpoint(&d, slot, 3, EPT_BULK_IN, 512), CC_SUCCESS);
        CHECK_EQ(xd_add_endpoint(&d, slot, 4, EPT_BULK_OUT, 512), CC_SUCCESS);

        uint8_t inquiry[6] = {0x12, 0, 0, 0, 36, 0};
        CHECK_EQ(bot(slot, inquiry, 6, true, 36, XD_DATA, &st), CC_SUCCESS);
        CHECK_EQ(st, 0);
        CHECK(memcmp(buf + 8, "TANDEM", 6) == 0);
        uint8_t tur[6] = {0};
        CHECK_EQ(bot(slot, tur, 6, false, 0, 0, &st), CC_SUCCESS);
        CHECK_EQ(st, 0);
        uint8_t cap[10] = {0x25};
        CHECK_EQ(bot(slot, cap, 10, true, 8, XD_DATA, &st), CC_SUCCESS);
        CHECK_EQ((uint32_t)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], 63); /* 32 KiB */
        CHECK_EQ(buf[6] << 8 | buf[7], 512);

        uint8_t *sector = xd_gpa(&d, XD_DATA + 0x1000);
        for (int i = 0; i < 512; i++)
                sector[i] = (uint8_t)(i * 7 + 3);
        uint8_t wr10[10] = {0x2a, 0, 0, 0, 0, 5, 0, 0, 1, 0}; /* LBA 5, 1 block */
        CHECK_EQ(bot(slot, wr10, 10, false, 512, XD_DATA + 0x1000, &st), CC_SUCCESS);
        CHECK_EQ(st, 0);
        uint8_t sync[10] = {0x35};
        CHECK_EQ(bot(slot, sync, 10, false, 0, 0, &st), CC_SUCCESS);
        uint8_t file[512];
        int fd = open(image, O_RDONLY);
        REQUIRE(fd >= 0);
        CHECK_EQ(pread(fd, file, 512, 5 * 512), 512);
        close(fd);
        CHECK(memcmp(file, sector, 512) == 0);

        uint8_t rd10[10] = {0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0};
        memset(xd_gpa(&d, XD_DATA + 0x2000), 0, 512);
        CHECK_EQ(bot(slot, rd10, 10, true, 512, XD_DATA + 0x2000, &st), CC_SUCCESS);
        CHECK_EQ(st, 0);
        CHECK(memcmp(xd_gpa(&d, XD_DATA + 0x2000), sector, 512) == 0);

        /* Past the end: CHECK CONDITION with LBA out of range in the sense data;
         * the data endpoint stalls first (BOT case 4). */
        uint8_t bad[10] = {0x28, 0, 0, 0, 0, 64, 0, 0, 1, 0};
        CHECK_EQ(bot(slot, bad, 10, true, 512, XD_DATA + 0x2000, &st), CC_STALL);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_RESET_EP << 10 | 3 << 16 | slot << 24, NULL), CC_SUCCESS);
        struct xd_ring *r = &d.xfer[slot][3];
        uint64_t next = (r->base + 16ull * r->idx) | (r->pcs ? 1 : 0);
        CHECK_EQ(xd_command(&d, next, 0, TRB_SET_TR_DEQ << 10 | 3 << 16 | slot << 24, NULL),
                 CC_SUCCESS);
        CHECK_EQ(xd_control(&d, slot, 0x02, USB_REQ_CLEAR_FEATURE, 0, 0x81, 0, 0, &moved),
                 CC_SUCCESS);
        CHECK_EQ(xd_bulk(&d, slot, 3, XD_DATA + 0x10100, 13, &moved), CC_SUCCESS);
        CHECK_EQ(((uint8_t *)xd_gpa(&d, XD_DATA + 0x10100))[12], 1);
        uint8_t sense[6] = {0x03, 0, 0, 0, 18, 0};
        CHECK_EQ(bot(slot, sense, 6, true, 18, XD_DATA, &st), CC_SUCCESS);
        CHECK_EQ(buf[2] & 0xf, 0x5);
        CHECK_EQ(buf[12], 0x21);
}

static void test_printer(unsigned port, const char *spool)
{
        unsigned slot = xd_enumerate(&d, port, USB_SPEED_HIGH, 64);
        REQUIRE(slot != 0);
        unsigned moved;
        uint8_t *buf = xd_gpa(&d, XD_DATA);
        CHECK_EQ(xd_control(&d, slot, 0, USB_REQ_SET_CONFIGURATION, 1, 0, 0, 0, &moved),
                 CC_SUCCESS);
        CHECK_EQ(xd_control(&d, slot, 0xa1, 0, 0, 0, 255, XD_DATA, &moved), CC_SUCCESS);
        CHECK(moved > 2 && memmem(buf + 2, moved - 2, "CLS:PRINTER", 11) != NULL);
        CHECK_EQ(xd_add_endpoint(&d, slot, 2, EPT_BULK_OUT, 512), CC_SUCCESS);
        /* One TD of two chained TRBs: "TICKET 42\n" + "PAID\n" */
        memcpy(xd_gpa(&d, XD_DATA + 0x100), "TICKET 42\n", 10);
        memcpy(xd_gpa(&d, XD_DATA + 0x300), "PAID\n", 5);
        struct xd_ring *r = &d.xfer[slot][2];
        xd_ring_put(&d, r, XD_DATA + 0x100, 10, TRB_NORMAL << 10 | TRB_CH);
        xd_ring_put(&d, r, XD_DATA + 0x300, 5, TRB_NORMAL << 10 | TRB_IOC);
        xd_doorbell(&d, slot, 2);
        struct xd_event ev;
        CHECK(xd_event_of(&d, TRB_EV_TRANSFER, &ev));
        CHECK_EQ(XD_EV_CC(&ev), CC_SUCCESS);
        char got[64] = {0};
        int fd = open(spool, O_RDONLY);
        REQUIRE(fd >= 0);
        CHECK_EQ(read(fd, got, sizeof(got) - 1), 15);
        close(fd);
        CHECK(strcmp(got, "TICKET 42\nPAID\n") == 0);
}

static void test_detach(struct xhci *x)
{
        uint32_t sc = d.op + 0x400;
        CHECK(xd_rd(&d, sc) & PORT_CCS);
        CHECK_EQ(xhci_detach(x, 1), 0);
        struct xd_event ev;
        CHECK(xd_event_of(&d, TRB_EV_PORT_STATUS, &ev));
        CHECK_EQ(ev.param >> 24, 1);
        uint32_t v = xd_rd(&d, sc);
        CHECK(!(v & PORT_CCS));
        CHECK(v & PORT_CSC);
        CHECK(!(v & PORT_PED));
        /* The keyboard's slot now gets transaction errors, not a crash. */
        unsigned moved;
        CHECK_EQ(xd_bulk(&d, 1, 3, XD_DATA, 8, &moved), CC_TRANSACTION);
        CHECK_EQ(xd_command(&d, 0, 0, TRB_DISABLE_SLOT << 10 | 1u << 24, NULL), CC_SUCCESS);
        CHECK_EQ(xhci_detach(x, 1), -1);
        /* Re-attach: a new connect on the same port. */
        char err[128];
        struct usb_device *kbd = usb_kbd_create(err, sizeof(err));
        CHECK_EQ(xhci_attach(x, kbd, err, sizeof(err)), 1);
        CHECK(xd_event_of(&d, TRB_EV_PORT_STATUS, &ev));
        CHECK(xd_rd(&d, sc) & PORT_CCS);
}

int main(void)
{
        char err[256];
        vm.kvm_fd = vm.vm_fd = -1;
        pthread_mutex_init(&vm.lock, NULL);
        REQUIRE(guest_mem_init(&vm.mem, RAM) == 0);
        struct pci_bus *bus = pci_bus_create(&vm, err, sizeof(err));
        REQUIRE(bus);

        char image[] = "/tmp/tandem-usb-img-XXXXXX", spool[] = "/tmp/tandem-usb-spool-XXXXXX";
        int fd = mkstemp(image);
        REQUIRE(fd >= 0 && ftruncate(fd, 32768) == 0);
        close(fd);
        fd = mkstemp(spool);
        REQUIRE(fd >= 0);
        close(fd);

        /* --usb specs: bad ones fail with a reason and create nothing. */
        const char *bad_kind[] = {"kbd", "mouse"};
        CHECK_EQ(usb_setup(&vm, bus, NULL, bad_kind, 2, err, sizeof(err)), -1);
        CHECK(strstr(err, "mouse") != NULL);
        const char *no_path[] = {"storage:"};
        CHECK_EQ(usb_setup(&vm, bus, NULL, no_path, 1, err, sizeof(err)), -1);
        const char *missing[] = {"printer:/nonexistent/dir/lp0"};
        CHECK_EQ(usb_setup(&vm, bus, NULL, missing, 1, err, sizeof(err)), -1);
        CHECK(strstr(err, "/nonexistent/dir/lp0") != NULL);
        CHECK(pci_bus_device(bus, 1) == NULL);
        CHECK_EQ(usb_setup(&vm, bus, NULL, NULL, 0, err, sizeof(err)), 0);

        struct xhci *x = xhci_create(bus, err, sizeof(err));
        REQUIRE(x);
        struct usb_device *kbd = usb_kbd_create(err, sizeof(err));
        struct usb_device *disk = usb_storage_create(image, err, sizeof(err));
        struct usb_device *prn = usb_printer_create(spool, err, sizeof(err));
        REQUIRE(kbd && disk && prn);
        CHECK_EQ(xhci_attach(x, kbd, err, sizeof(err)), 1);
        CHECK_EQ(xhci_attach(x, disk, err, sizeof(err)), 2);
        CHECK_EQ(xhci_attach(x, prn, err, sizeof(err)), 3);
        CHECK(usb_storage_create("/nonexistent/img", err, sizeof(err)) == NULL);
        CHECK(strstr(err, "/nonexistent/img") != NULL);

        hc = usb_hc_of_xhci(&vm, x);
        REQUIRE(hc);
        struct pci_device *pci = xhci_pci(x);
        CHECK_EQ(pci->cfg[0x0b], 0x0c); /* serial bus controller */
        CHECK_EQ(pci->cfg[0x09], 0x30); /* xHCI */
        REQUIRE(xd_start(&d, &vm, x));
        CHECK_EQ(xd_rd(&d, 0x04) >> 24, 8);  /* MaxPorts */
        CHECK_EQ(xd_rd(&d, 0x40) & 0xff, 2); /* supported protocol capability */
        CHECK(xd_rd(&d, d.op + 0x400) & PORT_CCS);
        CHECK_EQ((xd_rd(&d, d.op + 0x400) >> 10) & 0xf, USB_SPEED_FULL);
        CHECK(!(xd_rd(&d, d.op + 0x400 + 16 * 3) & PORT_CCS));
        CHECK_EQ(xd_command(&d, 0, 0, TRB_NOOP_CMD << 10, NULL), CC_SUCCESS);
        CHECK(pci->irqs_sent > 0);

        test_keyboard(kbd);
        test_storage(2, image);
        test_printer(3, spool);
        test_detach(x);
        CHECK_EQ(x->errors, 3); /* EP0 stall, bulk IN stall, transfer after detach */

        pci_bus_destroy(bus);
        free(hc);
        guest_mem_destroy(&vm.mem);
        unlink(image);
        unlink(spool);
        TEST_END();
}
