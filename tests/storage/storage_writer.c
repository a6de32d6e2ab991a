/* Drives an image through the blk_backend API for the storage tests.
 *   random IMG FMT MIRROR SEED COUNT  random writes/zeroes, mirrored into a raw file
 *   crash IMG SEED                    endless slot writes; prints "flushed N" after flushes
 *   verify IMG SEED N                 the first N slots of a crash run read back
 * STORAGE_WRITER_DIRECT=1 opens with IMAGE_OPEN_DIRECT (cache=none). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "image.h"

#define SLOT 20480u /* not a cluster multiple: partial-cluster writes and COW */

static uint64_t rng(uint64_t *s)
{
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
        uint64_t s = seed | 1;
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t)(rng(&s) >> 24);
}

static struct blk_backend *open_or_die(const char *path, const char *fmt, bool ro)
{
        char err[512];
        /* STORAGE_WRITER_DIRECT=1: cache=none (O_DIRECT data) */
        const char *direct = getenv("STORAGE_WRITER_DIRECT");
        unsigned flags = (ro ? IMAGE_OPEN_READONLY : 0) |
                         (direct && !strcmp(direct, "1") ? IMAGE_OPEN_DIRECT : 0);
        struct blk_backend *b = blk_image_open_ex(path, fmt, flags, NULL, err, sizeof(err));
        if (!b) {
                fprintf(stderr, "storage_writer: %s\n", err);
                exit(1);
        }
        return b;
}

static void check(int rc, const char *what)
{
        if (rc < 0) {
                fprintf(stderr, "storage_writer: %s failed: %s\n", what, strerror(-rc));
                exit(1);
        }
}

static int do_random(char **a)
{
        struct blk_backend *b = open_or_die(a[0], a[1], false);
        int mfd = open(a[2], O_RDWR);
        if (mfd < 0) {
                perror(a[2]);
                return 1;
        }
        uint64_t s = strtoull(a[3], NULL, 0) | 1;
        long count = strtol(a[4], NULL, 0);
        static uint8_t buf[256 << 10];
        for (long i = 0; i < count; i++) {
                uint64_t len = 1 + rng(&s) % sizeof(buf);
                uint64_t off = rng(&s) % (b->size - len);
                if (rng(&s) % 4 == 0) {
                        len = (rng(&s) % 4 + 1) * 65536;
                        off = rng(&s) % (b->size / 65536 - 4) * 65536 + (rng(&s) % 2) * 512;
                        if (b->ops->write_zeroes) {
                                check(b->ops->write_zeroes(b, off, len), "write_zeroes");
                                memset(buf, 0, len);
                                if (pwrite(mfd, buf, len, (off_t)off) != (ssize_t)len)
                                        return 1;
                                continue;
                        }
                }
                fill(buf, len, rng(&s));
                struct iovec iov[2] = {{buf, len / 2}, {buf + len / 2, len - len / 2}};
                check(b->ops->write(b, iov, 2, off), "write");
                if (pwrite(mfd, buf, len, (off_t)off) != (ssize_t)len)
                        return 1;
                if (rng(&s) % 16 == 0)
                        check(b->ops->flush(b), "flush");
        }
        b->ops->close(b);
        close(mfd);
        return 0;
}

/* Slot order is a seeded permutation so each slot is written once. */
static uint32_t *slot_order(uint64_t seed, uint32_t n)
{
        uint32_t *p = malloc(n * sizeof(*p));
        for (uint32_t i = 0; i < n; i++)
                p[i] = i;
        uint64_t s = seed | 1;
        for (uint32_t i = n - 1; i > 0; i--) {
                uint32_t j = (uint32_t)(rng(&s) % (i + 1));
                uint32_t t = p[i];
                p[i] = p[j];
                p[j] = t;
        }
        return p;
}

static int do_crash(char **a)
{
        struct blk_backend *b = open_or_die(a[0], NULL, false);
        uint64_t seed = strtoull(a[1], NULL, 0);
        uint32_t n = (uint32_t)(b->size / SLOT);
        uint32_t *order = slot_order(seed, n);
        uint64_t s = seed * 7 + 1;
        static uint8_t buf[SLOT];
        for (uint32_t i = 0; i < n; i++) {
                fill(buf, SLOT, seed * 100003 + order[i]);
                struct iovec iov = {buf, SLOT};
                check(b->ops->write(b, &iov, 1, (uint64_t)order[i] * SLOT), "write");
                if (rng(&s) % 6 == 0) {
                        check(b->ops->flush(b), "flush");
                        printf("flushed %u\n", i + 1);
                        fflush(stdout);
                }
        }
        b->ops->close(b);
        free(order);
        printf("done\n");
        return 0;
}

static int do_verify(char **a)
{
        struct blk_backend *b = open_or_die(a[0], NULL, true);
        uint64_t seed = strtoull(a[1], NULL, 0);
        uint32_t done = (uint32_t)strtoul(a[2], NULL, 0);
        uint32_t n = (uint32_t)(b->size / SLOT);
        uint32_t *order = slot_order(seed, n);
        static uint8_t want[SLOT], got[SLOT];
        for (uint32_t i = 0; i < done && i < n; i++) {
                fill(want, SLOT, seed * 100003 + order[i]);
                struct iovec iov = {got, SLOT};
                check(b->ops->read(b, &iov, 1, (uint64_t)order[i] * SLOT), "read");
                if (memcmp(want, got, SLOT)) {
                        fprintf(stderr, "storage_writer: flushed write %u (slot %u) lost\n", i,
                                order[i]);
                        free(order);
                        return 1;
                }
        }
        b->ops->close(b);
        free(order);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 7 && !strcmp(argv[1], "random"))
                return do_random(argv + 2);
        if (argc == 4 && !strcmp(argv[1], "crash"))
                return do_crash(argv + 2);
        if (argc == 5 && !strcmp(argv[1], "verify"))
                return do_verify(argv + 2);
        fprintf(stderr, "usage: storage_writer random|crash|verify ...\n");
        return 2;
}
