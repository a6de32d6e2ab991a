/* The image layer on hand-made and hand-damaged images: every damaged image
 * gives a clear error (open) or -EIO (I/O), never a crash; data written
 * through the API reads back across reopen, backing chains and COW. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "image_internal.h"

static int failures;
static char dir[64];

#define EXPECT(cond, ...)                                                                          \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        failures++;                                                                \
                        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                }                                                                                  \
        } while (0)

static const char *tmp(const char *name)
{
        static char bufs[4][128];
        static int n;
        char *p = bufs[n++ % 4];
        snprintf(p, 128, "%s/%s", dir, name);
        return p;
}

static void patch(const char *path, uint64_t off, const void *data, size_t len)
{
        int fd = open(path, O_RDWR);
        if (fd < 0 || pwrite_full(fd, data, len, off) < 0) {
                perror(path);
                exit(1);
        }
        close(fd);
}

static void patch32(const char *path, uint64_t off, uint32_t v)
{
        uint8_t b[4];
        put_be32(b, v);
        patch(path, off, b, 4);
}

static void patch64(const char *path, uint64_t off, uint64_t v)
{
        uint8_t b[8];
        put_be64(b, v);
        patch(path, off, b, 8);
}

static uint64_t peek64(const char *path, uint64_t off)
{
        uint8_t b[8] = {0};
        int fd = open(path, O_RDONLY);
        if (fd < 0 || pread_full(fd, b, 8, off) < 0) {
                perror(path);
                exit(1);
        }
        close(fd);
        return be64(b);
}

static void make(const char *path, const char *fmt, uint64_t size, struct image_create_opts *o)
{
        char err[256];
        if (blk_image_create(path, fmt, size, o, err, sizeof(err)) < 0) {
                fprintf(stderr, "create %s: %s\n", path, err);
                exit(1);
        }
}

static int rw(struct blk_backend *b, bool write, void *buf, size_t len, uint64_t off)
{
        struct iovec iov = {buf, len};
        return write ? b->ops->write(b, &iov, 1, off) : b->ops->read(b, &iov, 1, off);
}

/* Opening must fail and the message must name the problem. */
static void expect_open_error(const char *path, const char *fmt, bool ro, const char *needle)
{
        char err[512] = "";
        struct blk_backend *b = blk_image_open(path, fmt, ro, err, sizeof(err));
        EXPECT(!b, "%s opened although it should fail with '%s'", path, needle);
        if (b)
                b->ops->close(b);
        EXPECT(strstr(err, needle), "error for %s: got '%s', want '%s'", path, err, needle);
}

static void fresh_qcow2(const char *path)
{
        struct image_create_opts o = {0};
        make(path, "qcow2", 64 << 20, &o);
        struct blk_backend *b = blk_image_open(path, NULL, false, (char[256]){0}, 256);
        uint8_t d[4096];
        memset(d, 0xab, sizeof(d));
        rw(b, true, d, sizeof(d), 0);
        b->ops->close(b);
}

static void test_header_damage(void)
{
        const char *p = tmp("h.qcow2");
        struct {
                uint64_t off;
                int width;
                uint64_t val;
                const char *needle;
        } cases[] = {
            {4, 4, 99, "unsupported version"},
            {20, 4, 40, "invalid cluster bits"},
            {24, 8, 1ULL << 60, "too large"},
            {32, 4, 1, "encrypted"},
            {40, 8, 1ULL << 40, "L1 table offset"},
            {36, 4, 0xffffffffu, "L1 table too large"},
            {48, 8, 1ULL << 40, "refcount table offset"},
            {56, 4, 0xffffffffu, "refcount table size"},
            {72, 8, 1ULL << 20, "unsupported incompatible"},
            {96, 4, 7, "refcount order"},
            {100, 4, 1u << 30, "header length"},
            {16, 4, 5000, "backing file name"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                fresh_qcow2(p);
                if (cases[i].off == 16)
                        patch64(p, 8, 200);
                if (cases[i].width == 4)
                        patch32(p, cases[i].off, (uint32_t)cases[i].val);
                else
                        patch64(p, cases[i].off, cases[i].val);
                expect_open_error(p, NULL, true, cases[i].needle);
        }
        fresh_qcow2(p);
        patch(p, 0, "QFI\xfa", 4);
        expect_open_error(p, "qcow2", true, "not a qcow2 image");
        /* truncated to the header only */
        fresh_qcow2(p);
        if (truncate(p, 100) < 0)
                perror("truncate");
        expect_open_error(p, NULL, true, "truncated");
        char err[256];
        EXPECT(blk_image_create(tmp("big.qcow2"), "qcow2", 1ULL << 60, NULL, err, sizeof(err)) < 0,
               "1 EiB qcow2 was created");
}

static void test_pointer_damage(void)
{
        const char *p = tmp("p.qcow2");
        char err[256];
        uint8_t buf[8192];
        /* L1 entry past the end of the file */
        fresh_qcow2(p);
        uint64_t l1 = peek64(p, 40);
        patch64(p, l1, (1ULL << 40) | (1ULL << 63));
        struct blk_backend *b = blk_image_open(p, NULL, false, err, sizeof(err));
        EXPECT(b, "open with damaged L1: %s", err);
        if (b) {
                EXPECT(rw(b, false, buf, 4096, 0) == -EIO, "read through bad L1 entry");
                EXPECT(rw(b, true, buf, 4096, 0) == -EIO, "write through bad L1 entry");
                b->ops->close(b);
        }
        /* L2 entry (data cluster) past the end, and a garbage compressed one */
        uint64_t entries[] = {(1ULL << 63) | (1ULL << 44), (1ULL << 62) | 0x30000 | (3ULL << 54),
                              0x10200 | (1ULL << 63)};
        for (int i = 0; i < 3; i++) {
                fresh_qcow2(p);
                uint64_t l2 = peek64(p, peek64(p, 40)) & 0x00fffffffffffe00ULL;
                patch64(p, l2, entries[i]);
                b = blk_image_open(p, NULL, false, err, sizeof(err));
                EXPECT(b, "open with damaged L2: %s", err);
                if (b) {
                        EXPECT(rw(b, false, buf, 4096, 0) == -EIO, "read of bad L2 entry %d", i);
                        b->ops->close(b);
                }
        }
        /* refcount table entry past the end: allocation fails cleanly */
        fresh_qcow2(p);
        patch64(p, peek64(p, 48), 1ULL << 40);
        b = blk_image_open(p, NULL, false, err, sizeof(err));
        EXPECT(b, "open with damaged refcount table: %s", err);
        if (b) {
                memset(buf, 1, sizeof(buf));
                EXPECT(rw(b, true, buf, 4096, 32 << 20) < 0, "write with bad refcount block");
                b->ops->close(b);
        }
}

/* Refcounts at their maximum for clusters past the end of the file: the
 * allocator skips a few, refuses a runaway, and never wraps a count. */
static void test_refcount_overflow(void)
{
        const char *p = tmp("rc.qcow2");
        char err[256];
        uint8_t buf[4096];
        for (int whole = 0; whole < 2; whole++) {
                fresh_qcow2(p);
                uint64_t rb = peek64(p, peek64(p, 48));
                uint64_t file_clusters = 8; /* well past what fresh_qcow2 uses */
                static uint8_t ones[65536];
                memset(ones, 0xff, sizeof(ones));
                uint64_t from = whole ? 0 : file_clusters * 2;
                patch(p, rb + from, ones + from, whole ? sizeof(ones) : 64);
                struct blk_backend *b = blk_image_open(p, NULL, false, err, sizeof(err));
                EXPECT(b, "open with saturated refcounts: %s", err);
                if (!b)
                        continue;
                memset(buf, 3, sizeof(buf));
                int rc = rw(b, true, buf, sizeof(buf), 1 << 20);
                if (whole) {
                        /* every count saturated: either skipped past or refused, never wrapped */
                        EXPECT(rc == 0 || rc == -EIO, "write with saturated block: %d", rc);
                } else {
                        EXPECT(rc == 0, "write past a few stale counts: %d", rc);
                }
                if (rc == 0) {
                        memset(buf, 0, sizeof(buf));
                        EXPECT(rw(b, false, buf, sizeof(buf), 1 << 20) == 0 && buf[4095] == 3,
                               "data past stale counts reads back");
                }
                b->ops->close(b);
                struct image_check ck;
                EXPECT(blk_image_check(p, false, &ck, err, sizeof(err)) == 0 && !ck.corruptions,
                       "saturated refcounts: %s %s", err, ck.first_problem);
        }
}

static void test_chains_and_flags(void)
{
        char err[256];
        struct image_create_opts o = {.backing = "loop-b.qcow2", .backing_format = "qcow2"};
        make(tmp("loop-a.qcow2"), "qcow2", 1 << 20, &o);
        o.backing = "loop-a.qcow2";
        make(tmp("loop-b.qcow2"), "qcow2", 1 << 20, &o);
        expect_open_error(tmp("loop-a.qcow2"), NULL, false, "loops");
        o.backing = "loop-a.qcow2";
        make(tmp("self.qcow2"), "qcow2", 1 << 20,
             &(struct image_create_opts){.backing = "self.qcow2"});
        expect_open_error(tmp("self.qcow2"), NULL, true, "loops");
        /* a chain deeper than the limit */
        make(tmp("c0.qcow2"), "qcow2", 1 << 20, NULL);
        for (int i = 1; i <= IMAGE_MAX_CHAIN; i++) {
                char name[32], back[32];
                snprintf(name, sizeof(name), "c%d.qcow2", i);
                snprintf(back, sizeof(back), "c%d.qcow2", i - 1);
                make(tmp(name), "qcow2", 1 << 20, &(struct image_create_opts){.backing = back});
        }
        char top[32];
        snprintf(top, sizeof(top), "c%d.qcow2", IMAGE_MAX_CHAIN);
        expect_open_error(tmp(top), NULL, true, "deeper");
        struct blk_backend *b = blk_image_open(tmp("c10.qcow2"), NULL, true, err, sizeof(err));
        EXPECT(b, "chain of 11: %s", err);
        if (b)
                b->ops->close(b);
        expect_open_error(tmp("missing-b.qcow2"), NULL, true, "No such file");

        /* dirty bit: read-only only */
        const char *p = tmp("dirty.qcow2");
        fresh_qcow2(p);
        patch64(p, 72, 1);
        expect_open_error(p, NULL, false, "dirty");
        b = blk_image_open(p, NULL, true, err, sizeof(err));
        EXPECT(b, "dirty image read-only: %s", err);
        if (b)
                b->ops->close(b);
        /* format=raw never probes */
        fresh_qcow2(p);
        b = blk_image_open(p, "raw", true, err, sizeof(err));
        EXPECT(b && !strcmp(blk_image_format(b), "raw"), "qcow2 file opened as raw");
        if (b) {
                uint8_t m[4];
                rw(b, false, m, 4, 0);
                EXPECT(!memcmp(m, "QFI\xfb", 4), "raw view shows the qcow2 header");
                b->ops->close(b);
        }
        expect_open_error(p, "vhdx", true, "unknown image format");
        expect_open_error(p, "vmdk", true, "not a vmdk image");
}

static void test_vhd_damage(void)
{
        const char *p = tmp("d.vhd");
        char err[256];
        make(p, "vpc", 16 << 20, NULL);
        patch(p, 0, "x", 1); /* the copy at 0 is not what counts */
        struct blk_backend *b = blk_image_open(p, "vpc", false, err, sizeof(err));
        EXPECT(b, "vhd with damaged head copy: %s", err);
        if (b)
                b->ops->close(b);
        make(p, "vpc", 16 << 20, NULL);
        off_t end = 1536 + 512 + 512;
        patch32(p, (uint64_t)end - 512 + 60, 9);
        expect_open_error(p, "vpc", true, "checksum");
        /* BAT entry past the end (re-checksummed header untouched: the BAT has none) */
        make(p, "vpc", 16 << 20, NULL);
        patch32(p, 1536, 0x7ffffff0);
        b = blk_image_open(p, "vpc", false, err, sizeof(err));
        EXPECT(b, "vhd with bad BAT: %s", err);
        if (b) {
                uint8_t buf[512];
                EXPECT(rw(b, false, buf, 512, 0) == -EIO, "read of bad BAT entry");
                b->ops->close(b);
        }
}

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* A minimal monolithicSparse VMDK: header, one-entry grain directory, one
 * grain table, grain size 128 sectors. */
static void make_vmdk(const char *path, uint64_t grain, uint32_t gd_sector, uint32_t gt_sector)
{
        uint8_t f[4 * 512 + 65536] = {0};
        memcpy(f, "KDMV", 4);
        put_le32(f + 4, 1);
        put_le32(f + 12, 1024); /* capacity: 512 KiB */
        put_le32(f + 20, (uint32_t)grain);
        put_le32(f + 44, 512);
        put_le32(f + 56, gd_sector);
        put_le32(f + 512 * 1, gt_sector); /* GD[0] */
        put_le32(f + 512 * 2 + 4, 4);     /* GT[1]: grain at sector 4 */
        memset(f + 512 * 4, 0x77, 65536);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || pwrite_full(fd, f, sizeof(f), 0) < 0)
                exit(1);
        close(fd);
}

static void test_vmdk(void)
{
        const char *p = tmp("v.vmdk");
        char err[256];
        uint8_t buf[65536];
        make_vmdk(p, 128, 1, 2);
        expect_open_error(p, NULL, false, "read-only");
        struct blk_backend *b = blk_image_open(p, NULL, true, err, sizeof(err));
        EXPECT(b && b->size == 512 << 10, "hand-made vmdk: %s", err);
        if (b) {
                EXPECT(rw(b, false, buf, 65536, 65536) == 0 && buf[0] == 0x77 && buf[65535] == 0x77,
                       "vmdk grain 1 reads back");
                EXPECT(rw(b, false, buf, 4096, 0) == 0 && buf[0] == 0, "vmdk grain 0 is zero");
                EXPECT(rw(b, true, buf, 512, 0) == -EROFS, "vmdk write refused");
                b->ops->close(b);
        }
        make_vmdk(p, 100, 1, 2);
        expect_open_error(p, NULL, true, "grain size");
        make_vmdk(p, 128, 100000, 2);
        expect_open_error(p, NULL, true, "grain directory outside");
        make_vmdk(p, 128, 1, 0x7ffffff0);
        b = blk_image_open(p, NULL, true, err, sizeof(err));
        EXPECT(b, "vmdk with a bad grain table pointer opens: %s", err);
        if (b) {
                EXPECT(rw(b, false, buf, 512, 0) == -EIO, "read through bad grain table");
                b->ops->close(b);
        }
}

/* Random byte damage in the metadata of small images: opening, reading
 * everything and writing must end in success or an error, never a crash
 * (this is what the ASan build is for). */
static void test_fuzz(const char *fmt, uint64_t meta_bytes)
{
        const char *p = tmp("fuzz.img"), *pristine = tmp("fuzz.orig");
        char err[256];
        struct image_create_opts o = {.cluster_size = 4096};
        make(pristine, fmt, 1 << 20, &o);
        struct blk_backend *b = blk_image_open(pristine, fmt, false, err, sizeof(err));
        static uint8_t buf[1 << 20];
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t)(i * 7);
        rw(b, true, buf, 300000, 100000);
        b->ops->close(b);
        uint64_t s = 0x9e3779b97f4a7c15ULL;
        int opened = 0;
        int iters = getenv("STORAGE_FUZZ_ITERS") ? atoi(getenv("STORAGE_FUZZ_ITERS")) : 150;
        for (int iter = 0; iter < iters; iter++) {
                char cmd[300];
                snprintf(cmd, sizeof(cmd), "cp %s %s", pristine, p);
                if (system(cmd) != 0)
                        exit(1);
                int fd = open(p, O_RDWR);
                for (int k = 0; k < 1 + iter % 8; k++) {
                        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                        uint8_t v = (uint8_t)(s >> 56);
                        if (pwrite(fd, &v, 1, (off_t)((s >> 8) % meta_bytes)) != 1)
                                exit(1);
                }
                close(fd);
                b = blk_image_open(p, fmt, iter % 2, err, sizeof(err));
                if (!b)
                        continue;
                opened++;
                uint64_t n = b->size < sizeof(buf) ? b->size : sizeof(buf);
                (void)rw(b, false, buf, (size_t)n, 0);
                if (!b->readonly && b->size > 8192) {
                        (void)rw(b, true, buf, 5000, 3000);
                        if (b->ops->discard)
                                (void)b->ops->discard(b, 0, 8192);
                        (void)b->ops->flush(b);
                }
                b->ops->close(b);
                struct image_check ck;
                (void)blk_image_check(p, iter % 3 == 0, &ck, err, sizeof(err));
        }
        EXPECT(opened > 0, "%s fuzz: no damaged image opened at all", fmt);
}

/* Random I/O against an in-memory model, across reopen and a backing file. */
/* base_fmt: the backing file's format; NULL for none. */
/* direct: cache=none (O_DIRECT data; the model's buffers are unaligned, so
 * bounce buffers and read-modify-write of edge blocks get exercised too). */
static void test_model(const char *fmt, const char *base_fmt, int version, uint64_t cs, bool direct)
{
        char err[256];
        const uint64_t size = 8 << 20;
        uint8_t *model = malloc(size), *got = malloc(size);
        const char *bfmt = base_fmt ? base_fmt : "raw";
        const char *base = tmp(!strcmp(bfmt, "vpc") ? "base.vhd" : "base.raw");
        make(base, bfmt, size, NULL);
        struct blk_backend *b = blk_image_open(base, bfmt, false, err, sizeof(err));
        uint64_t s = 88172645463325252ULL;
        for (uint64_t i = 0; i < size; i++) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                model[i] = (uint8_t)s;
        }
        rw(b, true, model, size / 2, 0); /* the upper half stays zero */
        memset(model + size / 2, 0, size / 2);
        b->ops->close(b);
        const char *top = tmp("top.img");
        struct image_create_opts o = {.cluster_size = cs, .qcow2_version = version};
        if (base_fmt) {
                o.backing = !strcmp(bfmt, "vpc") ? "base.vhd" : "base.raw";
                o.backing_format = bfmt;
        } else {
                memset(model, 0, size);
        }
        make(top, fmt, size, &o);
        for (int round = 0; round < 3; round++) {
                b = blk_image_open_ex(top, fmt, direct ? IMAGE_OPEN_DIRECT : 0, NULL, err,
                                      sizeof(err));
                EXPECT(b, "open %s: %s", fmt, err);
                if (!b)
                        break;
                for (int i = 0; i < 300; i++) {
                        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                        uint64_t len = 1 + s % 100000;
                        uint64_t off = (s >> 20) % (size - len);
                        if (i % 7 == 0 && b->ops->write_zeroes) {
                                EXPECT(b->ops->write_zeroes(b, off, len) == 0, "zeroes");
                                memset(model + off, 0, len);
                                continue;
                        }
                        for (uint64_t k = 0; k < len; k++)
                                model[off + k] = (uint8_t)(k * 31 + i + round);
                        EXPECT(rw(b, true, model + off, len, off) == 0, "%s write", fmt);
                }
                EXPECT(rw(b, false, got, size, 0) == 0, "%s read", fmt);
                EXPECT(!memcmp(got, model, size), "%s v%d round %d: data differs", fmt, version,
                       round);
                /* scattered aligned pieces across many clusters in one request,
                 * as virtio-blk hands them over */
                uint8_t *al = aligned_alloc(4096, 3 << 20);
                struct iovec v[4] = {{al, 4096},
                                     {al + 8192, 1 << 20},
                                     {al + (2 << 20), 12288},
                                     {al + (2 << 20) + 16384, 512}};
                uint64_t voff = 3 * 65536 - 4096 * (uint64_t)round;
                memset(al, 0xa5, 3 << 20);
                EXPECT(b->ops->read(b, v, 4, voff) == 0, "%s iov read", fmt);
                size_t at = 0;
                for (int k = 0; k < 4; k++) {
                        EXPECT(!memcmp(v[k].iov_base, model + voff + at, v[k].iov_len),
                               "%s iov read piece %d differs", fmt, k);
                        at += v[k].iov_len;
                }
                for (int k = 0; k < 4; k++)
                        memset(v[k].iov_base, 0x40 + k + round, v[k].iov_len);
                EXPECT(b->ops->write(b, v, 4, voff) == 0, "%s iov write", fmt);
                at = 0;
                for (int k = 0; k < 4; k++) {
                        memcpy(model + voff + at, v[k].iov_base, v[k].iov_len);
                        at += v[k].iov_len;
                }
                free(al);
                EXPECT(rw(b, false, got, size, 0) == 0, "%s read", fmt);
                EXPECT(!memcmp(got, model, size), "%s round %d: data differs after iov write", fmt,
                       round);
                b->ops->close(b);
        }
        struct image_check ck;
        EXPECT(blk_image_check(top, false, &ck, err, sizeof(err)) == 0 && ck.corruptions == 0,
               "%s check: %s %s", fmt, err, ck.first_problem);
        free(model);
        free(got);
}

int main(void)
{
        snprintf(dir, sizeof(dir), "/tmp/tandem-storage-XXXXXX");
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        test_header_damage();
        test_pointer_damage();
        test_refcount_overflow();
        test_chains_and_flags();
        test_vhd_damage();
        test_vmdk();
        test_fuzz("qcow2", 6 * 4096);
        test_fuzz("vpc", 2048);
        test_model("qcow2", "raw", 3, 65536, false);
        test_model("qcow2", "raw", 2, 4096, false);
        test_model("qcow2", "vpc", 3, 65536, false);
        test_model("vpc", NULL, 0, 0, false);
        test_model("vpc", "vpc", 0, 0, false); /* a differencing VHD */
        test_model("qcow2", "raw", 3, 65536, true);
        test_model("qcow2", NULL, 3, 4096, true);
        test_model("raw", NULL, 0, 0, true);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cleanup of %s failed\n", dir);
        if (failures)
                fprintf(stderr, "%d failures\n", failures);
        else
                printf("storage: all checks passed\n");
        return failures ? 1 : 0;
}
