/* libFuzzer harness for the image format parsers: each input is written to a
 * file and opened with the format named by FUZZ_FORMAT (qcow2, vpc, vmdk, or
 * unset to probe); an image that opens is read across its first 8 MiB (and
 * once in one scattered request), walked by block status, then described,
 * and for qcow2 also checked, as a toolstack would. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "image.h"

static char path[64];
static const char *format;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        format = getenv("FUZZ_FORMAT");
        snprintf(path, sizeof(path), "/tmp/fuzz-image-%d.img", getpid());
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        FILE *f = fopen(path, "wb");
        if (!f)
                return 0;
        fwrite(data, 1, size, f);
        fclose(f);
        char err[512];
        struct blk_backend *b = blk_image_open(path, format, true, err, sizeof(err));
        if (b) {
                static uint8_t buf[64 << 10];
                uint64_t end = b->size < (8u << 20) ? b->size : (8u << 20);
                for (uint64_t off = 0; off < end; off += sizeof(buf)) {
                        size_t n = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
                        struct iovec iov = {.iov_base = buf, .iov_len = n};
                        b->ops->read(b, &iov, 1, off);
                }
                /* one request over many clusters, as scattered iovecs: the
                 * merged-run path */
                static uint8_t big[1 << 20];
                struct iovec v[3] = {{big, 4096}, {big + 8192, 700000}, {big + 709000, 300000}};
                if (b->size >= 1004096)
                        b->ops->read(b, v, 3, b->size - 1004096);
                /* block status and prefetch hints across the disk */
                uint64_t pnum = 0;
                for (uint64_t off = 0, k = 0; off < b->size && k < 4096; off += pnum, k++)
                        if (blk_image_block_status(b, off, b->size - off, &pnum) < 0 || !pnum)
                                break;
                blk_image_prefetch(b, 0, end);
                struct image_info in;
                blk_image_info(b, &in);
                bool qcow2 = !strcmp(blk_image_format(b), "qcow2");
                b->ops->close(b);
                if (qcow2) {
                        struct image_check ck;
                        blk_image_check(path, false, &ck, err, sizeof(err));
                        struct image_snapshot *s;
                        if (blk_image_snapshots(path, &s, err, sizeof(err)) >= 0)
                                free(s);
                }
        }
        unlink(path);
        return 0;
}
