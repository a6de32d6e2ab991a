/* virtio-blk on a real temporary image file, driven through real rings:
 * read/write/flush/discard/write-zeroes/get-id compared byte for byte,
 * read-only refusal, malformed requests (IOERR/UNSUPP), ring attacks
 * (NEEDS_RESET with a second device still working), and feature checks. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "harness.h"
#include "vdriver.h"
#include "virtio_core.h"

#define RAM      (16ull << 20)
#define IMG_SIZE (1u << 20)
#define Q0       0x1000
#define Q1       0x8000
#define HDR      0x10000
#define STATUS   0x10100
#define DATA     0x20000
#define DATA2    0x80000

#define T_IN           0
#define T_OUT          1
#define T_FLUSH        4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13
#define S_OK           0
#define S_IOERR        1
#define S_UNSUPP       2
#define F_RO           5
#define F_DISCARD      13

static struct guest_mem mem;
static char img[64];

/* A transport that only counts interrupts. */
static unsigned queue_irqs, config_irqs;
static void count_queue(struct virtio_device *vdev, unsigned q)
{
        (void)vdev, (void)q;
        queue_irqs++;
}
static void count_config(struct virtio_device *vdev)
{
        (void)vdev;
        config_irqs++;
}
static const struct virtio_transport counting = {count_queue, count_config};

static uint8_t pattern(uint64_t off)
{
        return (uint8_t)(off * 7 + (off >> 9) + 1);
}

static void make_image(void)
{
        snprintf(img, sizeof(img), "/tmp/tandem-blk-XXXXXX");
        int fd = mkstemp(img);
        REQUIRE(fd >= 0);
        uint8_t *buf = malloc(IMG_SIZE);
        REQUIRE(buf);
        for (uint64_t i = 0; i < IMG_SIZE; i++)
                buf[i] = pattern(i);
        REQUIRE(write(fd, buf, IMG_SIZE) == IMG_SIZE);
        free(buf);
        close(fd);
}

static void file_read(uint64_t off, void *dst, size_t len)
{
        int fd = open(img, O_RDONLY);
        REQUIRE(fd >= 0);
        REQUIRE(pread(fd, dst, len, (off_t)off) == (ssize_t)len);
        close(fd);
}

struct req {
        uint32_t type;
        uint64_t sector;
        uint64_t data; /* gpa */
        uint32_t len;
        bool data_in; /* device writes the data */
};

/* Submits one request as a [header][data][status] chain and returns the
 * status byte, or -1 when the device did not complete it. */
static int submit(struct virtio_device *vdev, struct vd_queue *q, const struct req *r,
                  uint32_t *used_len)
{
        uint8_t hdr[16] = {0};
        memcpy(hdr, &r->type, 4);
        memcpy(hdr + 8, &r->sector, 8);
        vd_write(&mem, HDR, hdr, 16);
        uint8_t poison = 0xee;
        vd_write(&mem, STATUS, &poison, 1);
        struct vd_buf b[3];
        unsigned n = 0;
        b[n++] = (struct vd_buf){HDR, 16, false};
        if (r->len)
                b[n++] = (struct vd_buf){r->data, r->len, r->data_in};
        b[n++] = (struct vd_buf){STATUS, 1, true};
        uint16_t head = vd_add_chain(q, b, n);
        virtio_kick(vdev, 0);
        uint32_t id, len;
        if (!vd_get_used(q, &id, &len))
                return -1;
        CHECK_EQ(id, head);
        if (used_len)
                *used_len = len;
        uint8_t st;
        vd_read(&mem, STATUS, &st, 1);
        return st;
}

static struct virtio_device *open_blk(bool ro, struct vd_queue *q)
{
        char err[200];
        struct virtio_device *vdev = virtio_blk_create(&mem, NULL, img, ro, err, sizeof(err));
        REQUIRE(vdev);
        vdev->transport = &counting;
        vd_queue_init(q, &mem, Q0, 16);
        uint8_t st = vd_bringup(vdev, vdev->device_features, q, 1);
        REQUIRE(st & VIRTIO_STATUS_DRIVER_OK);
        return vdev;
}

static void test_io(void)
{
        struct vd_queue q;
        struct virtio_device *vdev = open_blk(false, &q);
        uint64_t cap = 0;
        vdev->ops->config_read(vdev, 0, &cap, 8);
        CHECK_EQ(cap, IMG_SIZE / 512);
        CHECK(vdev->device_features & (1ull << F_DISCARD));
        CHECK(!(vdev->device_features & (1ull << F_RO)));

        /* read sectors 100..101 */
        uint32_t used;
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 100, DATA, 1024, true}, &used), S_OK);
        CHECK_EQ(used, 1025);
        uint8_t got[4096], want[4096];
        vd_read(&mem, DATA, got, 1024);
        file_read(100 * 512, want, 1024);
        CHECK(memcmp(got, want, 1024) == 0);

        /* write 4 KiB at sector 3 */
        for (int i = 0; i < 4096; i++)
                want[i] = (uint8_t)(i ^ 0x5a);
        vd_write(&mem, DATA, want, 4096);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_OUT, 3, DATA, 4096, false}, &used), S_OK);
        CHECK_EQ(used, 1);
        file_read(3 * 512, got, 4096);
        CHECK(memcmp(got, want, 4096) == 0);
        /* read it back through the device into other memory */
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 3, DATA2, 4096, true}, NULL), S_OK);
        vd_read(&mem, DATA2, got, 4096);
        CHECK(memcmp(got, want, 4096) == 0);

        CHECK_EQ(submit(vdev, &q, &(struct req){T_FLUSH, 0, 0, 0, false}, NULL), S_OK);

        /* GET_ID: the image's file name */
        char id[21] = {0};
        CHECK_EQ(submit(vdev, &q, &(struct req){T_GET_ID, 0, DATA, 20, true}, &used), S_OK);
        CHECK_EQ(used, 21);
        vd_read(&mem, DATA, id, 20);
        CHECK(strncmp(id, strrchr(img, '/') + 1, 20) == 0);

        /* DISCARD 8 KiB at sector 16, WRITE_ZEROES 1 KiB at sector 64 */
        uint8_t seg[16] = {0};
        uint64_t sector = 16;
        uint32_t nsec = 16;
        memcpy(seg, &sector, 8);
        memcpy(seg + 8, &nsec, 4);
        vd_write(&mem, DATA, seg, 16);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_DISCARD, 0, DATA, 16, false}, NULL), S_OK);
        file_read(16 * 512, got, 8192 > sizeof(got) ? sizeof(got) : 8192);
        uint8_t zeros[4096] = {0};
        CHECK(memcmp(got, zeros, sizeof(got)) == 0);
        file_read(15 * 512, got, 512); /* the sector before is untouched */
        CHECK_EQ(got[0], pattern(15 * 512));
        sector = 64;
        nsec = 2;
        memcpy(seg, &sector, 8);
        memcpy(seg + 8, &nsec, 4);
        vd_write(&mem, DATA, seg, 16);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_WRITE_ZEROES, 0, DATA, 16, false}, NULL), S_OK);
        file_read(64 * 512, got, 1024);
        CHECK(memcmp(got, zeros, 1024) == 0);
        file_read(66 * 512, got, 1);
        CHECK_EQ(got[0], pattern(66 * 512));

        /* a scattered read: 64 single-sector data descriptors */
        struct vd_buf b[66];
        uint8_t hdr[16] = {0};
        sector = 200;
        memcpy(hdr + 8, &sector, 8);
        vd_write(&mem, HDR, hdr, 16);
        b[0] = (struct vd_buf){HDR, 16, false};
        for (int i = 0; i < 64; i++)
                b[1 + i] = (struct vd_buf){DATA + 0x1000ull * (63 - i), 512, true};
        b[65] = (struct vd_buf){STATUS, 1, true};
        struct vd_queue big;
        /* a second, larger queue on a fresh device for the long chain */
        char err[200];
        struct virtio_device *v2 = virtio_blk_create(&mem, NULL, img, false, err, sizeof(err));
        REQUIRE(v2);
        vd_queue_init(&big, &mem, Q1, 128);
        REQUIRE(vd_bringup(v2, v2->device_features, &big, 1) & VIRTIO_STATUS_DRIVER_OK);
        vd_add_chain(&big, b, 66);
        virtio_kick(v2, 0);
        uint32_t hid, hlen;
        CHECK(vd_get_used(&big, &hid, &hlen));
        CHECK_EQ(hlen, 64 * 512 + 1);
        for (int i = 0; i < 64; i += 21) {
                vd_read(&mem, DATA + 0x1000ull * (63 - i), got, 512);
                file_read((200 + i) * 512ull, want, 512);
                CHECK(memcmp(got, want, 512) == 0);
        }
        virtio_device_destroy(v2);

        struct virtio_blk_stats s;
        virtio_blk_get_stats(vdev, &s);
        CHECK_EQ(s.rd_reqs, 2);
        CHECK_EQ(s.wr_reqs, 1);
        CHECK_EQ(s.rd_bytes, 1024 + 4096);
        CHECK_EQ(s.wr_bytes, 4096);
        CHECK_EQ(s.flushes, 1);
        CHECK_EQ(s.discards, 2);
        CHECK_EQ(s.errors, 0);
        CHECK(queue_irqs > 0);
        CHECK(!(vdev->status & VIRTIO_STATUS_NEEDS_RESET));
        virtio_device_destroy(vdev);
}

static void test_bad_requests(void)
{
        struct vd_queue q;
        struct virtio_device *vdev = open_blk(false, &q);
        uint64_t last = IMG_SIZE / 512 - 1;
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, last, DATA, 512, true}, NULL), S_OK);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, last, DATA, 1024, true}, NULL), S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_OUT, last + 1, DATA, 512, false}, NULL), S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, ~0ull, DATA, 512, true}, NULL), S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, ~0ull / 512, DATA, 512, true}, NULL),
                 S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 0, DATA, 100, true}, NULL), S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){99, 0, DATA, 512, true}, NULL), S_UNSUPP);

        /* discard: bad flags, too many segments, out of range */
        uint8_t seg[16 * 17] = {0};
        uint32_t flags = 1; /* UNMAP is only meaningful for WRITE_ZEROES */
        memcpy(seg + 12, &flags, 4);
        vd_write(&mem, DATA, seg, 16);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_DISCARD, 0, DATA, 16, false}, NULL), S_UNSUPP);
        memset(seg, 0, sizeof(seg));
        vd_write(&mem, DATA, seg, sizeof(seg));
        CHECK_EQ(submit(vdev, &q, &(struct req){T_DISCARD, 0, DATA, sizeof(seg), false}, NULL),
                 S_IOERR);
        uint64_t sector = last;
        uint32_t nsec = 2;
        memcpy(seg, &sector, 8);
        memcpy(seg + 8, &nsec, 4);
        vd_write(&mem, DATA, seg, 16);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_DISCARD, 0, DATA, 16, false}, NULL), S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_DISCARD, 0, DATA, 12, false}, NULL), S_IOERR);

        /* header shorter than 16 bytes */
        struct vd_buf b[2] = {{HDR, 8, false}, {STATUS, 1, true}};
        vd_add_chain(&q, b, 2);
        virtio_kick(vdev, 0);
        uint32_t id, len;
        uint8_t st = 0xee;
        CHECK(vd_get_used(&q, &id, &len));
        vd_read(&mem, STATUS, &st, 1);
        CHECK_EQ(st, S_IOERR);

        /* no writable status byte at all: completed with nothing written */
        struct vd_buf nb[1] = {{HDR, 16, false}};
        vd_add_chain(&q, nb, 1);
        virtio_kick(vdev, 0);
        CHECK(vd_get_used(&q, &id, &len));
        CHECK_EQ(len, 0);

        CHECK(!(vdev->status & VIRTIO_STATUS_NEEDS_RESET));
        struct virtio_blk_stats s;
        virtio_blk_get_stats(vdev, &s);
        CHECK_EQ(s.errors, 12);
        /* still serving */
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 0, DATA, 512, true}, NULL), S_OK);
        virtio_device_destroy(vdev);
}

/* The image must be open O_RDONLY: find our fd for it in /proc. */
static bool image_open_readonly(void)
{
        DIR *d = opendir("/proc/self/fd");
        REQUIRE(d);
        bool found = false, ro = true;
        struct dirent *e;
        while ((e = readdir(d))) {
                char link[300], target[300];
                snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
                ssize_t n = readlink(link, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = 0;
                if (strcmp(target, img) != 0)
                        continue;
                found = true;
                int flags = fcntl(atoi(e->d_name), F_GETFL);
                if ((flags & O_ACCMODE) != O_RDONLY)
                        ro = false;
        }
        closedir(d);
        return found && ro;
}

static void test_readonly(void)
{
        struct vd_queue q;
        struct virtio_device *vdev = open_blk(true, &q);
        CHECK(vdev->device_features & (1ull << F_RO));
        CHECK(!(vdev->device_features & (1ull << F_DISCARD)));
        CHECK(image_open_readonly());
        uint8_t before[512], after[512], junk[512];
        file_read(0, before, 512);
        memset(junk, 0xab, sizeof(junk));
        vd_write(&mem, DATA, junk, 512);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_OUT, 0, DATA, 512, false}, NULL), S_IOERR);
        file_read(0, after, 512);
        CHECK(memcmp(before, after, 512) == 0);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_WRITE_ZEROES, 0, DATA, 16, false}, NULL),
                 S_IOERR);
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 0, DATA, 512, true}, NULL), S_OK);
        vd_read(&mem, DATA, after, 512);
        CHECK(memcmp(before, after, 512) == 0);
        virtio_device_destroy(vdev);
}

static void test_features(void)
{
        char err[200];
        struct virtio_device *vdev = virtio_blk_create(&mem, NULL, img, false, err, sizeof(err));
        REQUIRE(vdev);
        struct vd_queue q;
        vd_queue_init(&q, &mem, Q0, 16);
        /* a feature we never offered */
        CHECK(!(vd_bringup(vdev, vdev->device_features | (1ull << 40), &q, 1) &
                VIRTIO_STATUS_FEATURES_OK));
        /* legacy driver (no VERSION_1) */
        CHECK(!(vd_bringup(vdev, vdev->device_features & ~(1ull << VIRTIO_F_VERSION_1), &q, 1) &
                VIRTIO_STATUS_FEATURES_OK));
        CHECK(vd_bringup(vdev, 1ull << VIRTIO_F_VERSION_1, &q, 1) & VIRTIO_STATUS_DRIVER_OK);
        CHECK(!vdev->vq[0].event_idx);
        virtio_device_destroy(vdev);

        CHECK(virtio_blk_create(&mem, NULL, "/nonexistent/disk.img", false, err, sizeof(err)) ==
              NULL);
        CHECK(strstr(err, "/nonexistent/disk.img") != NULL);
}

/* A second device that must keep working while the first is broken. */
static struct virtio_device *rng;
static struct vd_queue rngq;

static void rng_still_works(void)
{
        uint8_t zero[64] = {0}, got[64];
        vd_write(&mem, DATA2, zero, 64);
        struct vd_buf b = {DATA2, 64, true};
        vd_add_chain(&rngq, &b, 1);
        virtio_kick(rng, 0);
        uint32_t id, len;
        CHECK(vd_get_used(&rngq, &id, &len));
        CHECK_EQ(len, 64);
        vd_read(&mem, DATA2, got, 64);
        CHECK(memcmp(got, zero, 64) != 0);
}

static void expect_needs_reset(struct virtio_device *vdev, unsigned irqs_before)
{
        CHECK(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
        CHECK_EQ(config_irqs, irqs_before + 1);
        CHECK(vdev->isr & 2);
        rng_still_works();
}

static void test_attacks(void)
{
        char err[200];
        rng = virtio_rng_create(&mem, err, sizeof(err));
        REQUIRE(rng);
        vd_queue_init(&rngq, &mem, 0x6000, 8);
        REQUIRE(vd_bringup(rng, rng->device_features, &rngq, 1) & VIRTIO_STATUS_DRIVER_OK);
        rng_still_works();

        struct vd_queue q;
        struct virtio_device *vdev = open_blk(false, &q);

        /* descriptor loop */
        unsigned before = config_irqs;
        vd_set_desc(&q, 0, HDR, 16, VD_NEXT, 1);
        vd_set_desc(&q, 1, STATUS, 1, VD_NEXT | VD_WRITE, 0);
        vd_publish(&q, 0);
        virtio_kick(vdev, 0);
        expect_needs_reset(vdev, before);
        /* stopped: a good request is not processed until reset */
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 0, DATA, 512, true}, NULL), -1);
        /* the driver writes status back with NEEDS_RESET cleared: it stays */
        virtio_write_status(vdev, vdev->status & ~VIRTIO_STATUS_NEEDS_RESET);
        CHECK(vdev->status & VIRTIO_STATUS_NEEDS_RESET);

        /* reset and recover */
        vd_queue_init(&q, &mem, Q0, 16);
        CHECK(vd_bringup(vdev, vdev->device_features, &q, 1) & VIRTIO_STATUS_DRIVER_OK);
        CHECK(!(vdev->status & VIRTIO_STATUS_NEEDS_RESET));
        CHECK_EQ(submit(vdev, &q, &(struct req){T_IN, 0, DATA, 512, true}, NULL), S_OK);

        /* avail idx far ahead */
        before = config_irqs;
        vd_set_avail_idx(&q, (uint16_t)(q.avail_idx + 17));
        virtio_kick(vdev, 0);
        expect_needs_reset(vdev, before);

        /* buffer outside RAM */
        vd_queue_init(&q, &mem, Q0, 16);
        vd_bringup(vdev, vdev->device_features, &q, 1);
        before = config_irqs;
        struct vd_buf ob[3] = {{HDR, 16, false}, {RAM - 256, 4096, true}, {STATUS, 1, true}};
        vd_add_chain(&q, ob, 3);
        virtio_kick(vdev, 0);
        expect_needs_reset(vdev, before);

        /* request length beyond VIRTQ_MAX_CHAIN_BYTES via an indirect table */
        vd_queue_init(&q, &mem, Q0, 16);
        vd_bringup(vdev, vdev->device_features, &q, 1);
        before = config_irqs;
        uint8_t ind[48] = {0};
        uint64_t a0 = HDR, a1 = 0, a2 = STATUS;
        uint32_t l0 = 16, l1 = 0xfffffff0u, l2 = 1;
        uint16_t fl0 = VD_NEXT, fl1 = VD_NEXT | VD_WRITE, fl2 = VD_WRITE, n1 = 1, n2 = 2;
        memcpy(ind, &a0, 8), memcpy(ind + 8, &l0, 4), memcpy(ind + 12, &fl0, 2);
        memcpy(ind + 14, &n1, 2);
        memcpy(ind + 16, &a1, 8), memcpy(ind + 24, &l1, 4), memcpy(ind + 28, &fl1, 2);
        memcpy(ind + 30, &n2, 2);
        memcpy(ind + 32, &a2, 8), memcpy(ind + 40, &l2, 4), memcpy(ind + 44, &fl2, 2);
        vd_write(&mem, DATA, ind, sizeof(ind));
        vd_set_desc(&q, 0, DATA, 48, VD_INDIRECT, 0);
        vd_publish(&q, 0);
        virtio_kick(vdev, 0);
        expect_needs_reset(vdev, before);

        /* queue size not a power of two, larger than the maximum, ring outside RAM */
        struct {
                uint16_t size;
                uint64_t base;
        } bad[] = {{12, Q0}, {512, Q0}, {16, RAM - 64}};
        for (unsigned i = 0; i < 3; i++) {
                vd_queue_init(&q, &mem, Q0, 16);
                vd_bringup(vdev, vdev->device_features, &q, 1);
                before = config_irqs;
                virtio_write_status(vdev, 0);
                virtio_write_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
                virtio_write_driver_features(vdev, 1, 1); /* VERSION_1 */
                virtio_write_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                              VIRTIO_STATUS_FEATURES_OK);
                vdev->vq[0].size = bad[i].size;
                vdev->vq[0].desc_gpa = bad[i].base;
                vdev->vq[0].avail_gpa = Q0 + 0x1000;
                vdev->vq[0].used_gpa = Q0 + 0x2000;
                CHECK(virtio_queue_enable(vdev, 0) < 0);
                CHECK(!vdev->vq[0].ready);
                expect_needs_reset(vdev, before);
        }
        virtio_device_destroy(vdev);
        virtio_device_destroy(rng);
}

int main(void)
{
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        make_image();
        test_io();
        test_bad_requests();
        test_readonly();
        test_features();
        test_attacks();
        unlink(img);
        guest_mem_destroy(&mem);
        TEST_END();
}
