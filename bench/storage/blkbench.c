/* Throughput of one image through the storage backend: sequential 1 MiB and
 * random 4 KiB reads and writes, with the backend opened cache=none
 * (IMAGE_OPEN_DIRECT: guest data with O_DIRECT), so every pass reaches the
 * disk. The random passes come after the sequential write, so on qcow2 they
 * hit allocated clusters.
 * usage: blkbench IMAGE FORMAT SIZE_MIB RANDOM_OPS
 * prints: seq-write seq-read MiB/s, rand-write rand-read IOPS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "image.h"

static double now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int io(struct blk_backend *b, bool write, void *buf, size_t n, uint64_t off)
{
        struct iovec iov = {.iov_base = buf, .iov_len = n};
        int e = write ? b->ops->write(b, &iov, 1, off) : b->ops->read(b, &iov, 1, off);
        if (e < 0) {
                fprintf(stderr, "blkbench: %s at %llu failed\n", write ? "write" : "read",
                        (unsigned long long)off);
                exit(1);
        }
        return e;
}

int main(int argc, char **argv)
{
        if (argc != 5) {
                fprintf(stderr, "usage: blkbench IMAGE FORMAT SIZE_MIB RANDOM_OPS\n");
                return 2;
        }
        const char *path = argv[1], *fmt = argv[2];
        uint64_t size = strtoull(argv[3], NULL, 0) << 20;
        long ops = strtol(argv[4], NULL, 0);
        char err[512];
        struct blk_backend *b =
            blk_image_open_ex(path, fmt, IMAGE_OPEN_DIRECT, NULL, err, sizeof(err));
        if (!b || b->size < size) {
                fprintf(stderr, "blkbench: %s\n", b ? "image smaller than SIZE_MIB" : err);
                return 1;
        }
        uint8_t *buf = aligned_alloc(4096, 1 << 20);
        for (size_t i = 0; i < 1 << 20; i++)
                buf[i] = (uint8_t)(i * 7 + 1);
        double t = now();
        for (uint64_t off = 0; off < size; off += 1 << 20)
                io(b, true, buf, 1 << 20, off);
        b->ops->flush(b);
        double seq_w = (double)(size >> 20) / (now() - t);
        t = now();
        for (uint64_t off = 0; off < size; off += 1 << 20)
                io(b, false, buf, 1 << 20, off);
        double seq_r = (double)(size >> 20) / (now() - t);
        srand(7);
        t = now();
        for (long i = 0; i < ops; i++)
                io(b, true, buf, 4096, ((uint64_t)rand() % (size / 4096)) * 4096);
        b->ops->flush(b);
        double rnd_w = (double)ops / (now() - t);
        t = now();
        for (long i = 0; i < ops; i++)
                io(b, false, buf, 4096, ((uint64_t)rand() % (size / 4096)) * 4096);
        double rnd_r = (double)ops / (now() - t);
        printf("%.0f %.0f %.0f %.0f\n", seq_w, seq_r, rnd_w, rnd_r);
        b->ops->close(b);
        free(buf);
        return 0;
}
