/* VMDK hosted sparse extents ("monolithicSparse" and "streamOptimized"),
 * read-only, from VMware's Virtual Disk Format 1.1 specification: a
 * little-endian sparse header, a grain directory of grain-table sectors,
 * grain tables of grain sectors. streamOptimized extents deflate each grain
 * (zlib stream) behind a grain marker (virtual sector, compressed size), and
 * their header says "grain directory at the end": the real one is in the
 * footer, a copy of the header in the second-to-last sector. */
#include "image_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define VMDK_MAGIC    0x564d444bu /* "KDMV" read little-endian */
#define FLAG_COMPRESS (1u << 16)
#define FLAG_MARKERS  (1u << 17)
#define DEFLATE       1
#define GD_AT_END     0xffffffffffffffffULL
#define GD_MAX_BYTES  (64u << 20)
#define GRAIN_MAX     (1u << 17) /* sectors: 64 MiB */

struct vmdk {
        struct blk_backend b;
        int fd;
        char path[PATH_MAX];
        uint64_t grain; /* bytes */
        uint32_t gtes;  /* entries per grain table */
        uint32_t *gd;
        uint64_t gd_entries;
        uint64_t fsize;
        uint64_t gt_cached; /* sector of the cached grain table, 0 = none */
        uint32_t *gt;
        bool compressed, markers;
        uint8_t *zin, *grain_buf; /* compressed input, last inflated grain */
        uint64_t grain_cached;    /* its sector, 0 = none */
        bool warned;
};

static const struct blk_backend_ops vmdk_ops;

bool is_vmdk(struct blk_backend *b)
{
        return b && b->ops == &vmdk_ops;
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int vmdk_corrupt(struct vmdk *v, const char *what, uint64_t x)
{
        if (!v->warned)
                fprintf(stderr, "vmdk %s: corrupt image: %s (0x%llx)\n", v->path, what,
                        (unsigned long long)x);
        v->warned = true;
        return -EIO;
}

/* Inflates the compressed grain at sector (virtual grain g) into grain_buf. */
static int inflate_grain(struct vmdk *v, uint64_t sector, uint64_t g)
{
        if (v->grain_cached == sector)
                return 0;
        uint64_t at = sector * 512, max = v->grain * 2 + 4096, len = max;
        if (v->markers) {
                uint8_t m[12];
                if (pread_full(v->fd, m, sizeof(m), at) < 0)
                        return vmdk_corrupt(v, "grain marker past the end", sector);
                uint64_t lba = le64(m);
                len = le32(m + 8);
                if (lba != g * (v->grain / 512))
                        return vmdk_corrupt(v, "grain marker for another sector", lba);
                if (len == 0 || len > max)
                        return vmdk_corrupt(v, "compressed grain size", len);
                at += 12;
        }
        if (at + len > v->fsize) {
                if (v->markers || at >= v->fsize)
                        return vmdk_corrupt(v, "compressed grain past the end", sector);
                len = v->fsize - at;
        }
        if (pread_full(v->fd, v->zin, (size_t)len, at) < 0)
                return -EIO;
        v->grain_cached = 0;
        z_stream z = {0};
        if (inflateInit(&z) != Z_OK)
                return -ENOMEM;
        z.next_in = v->zin;
        z.avail_in = (uInt)len;
        z.next_out = v->grain_buf;
        z.avail_out = (uInt)v->grain;
        int zr = inflate(&z, Z_FINISH);
        size_t out = v->grain - z.avail_out;
        inflateEnd(&z);
        if (zr != Z_STREAM_END)
                return vmdk_corrupt(v, "grain does not inflate", sector);
        memset(v->grain_buf + out, 0, v->grain - out); /* a short last grain */
        v->grain_cached = sector;
        return 0;
}

/* One grain's part: through its grain table (cached), then a zero, a
 * compressed or a plain grain. */
static int read_in_grain(void *ctx, uint64_t g, uint64_t in, uint8_t *buf, size_t n, uint64_t off)
{
        (void)off;
        struct vmdk *v = ctx;
        uint64_t gdi = g / v->gtes;
        uint64_t sector = 0;
        if (gdi >= v->gd_entries)
                return vmdk_corrupt(v, "grain beyond the directory", g);
        uint64_t gts = v->gd[gdi];
        if (gts) {
                if (gts * 512 + (uint64_t)v->gtes * 4 > v->fsize)
                        return vmdk_corrupt(v, "grain table outside the file", gts);
                if (v->gt_cached != gts) {
                        uint8_t *raw = (uint8_t *)v->gt;
                        v->gt_cached = 0;
                        if (pread_full(v->fd, raw, (size_t)v->gtes * 4, gts * 512) < 0)
                                return -EIO;
                        for (uint32_t i = 0; i < v->gtes; i++)
                                v->gt[i] = le32(raw + i * 4);
                        v->gt_cached = gts;
                }
                sector = v->gt[g % v->gtes];
        }
        if (sector <= 1) { /* 0 unallocated, 1 a zero grain */
                memset(buf, 0, n);
        } else if (v->compressed) {
                if (sector * 512 >= v->fsize)
                        return vmdk_corrupt(v, "grain outside the file", sector);
                int rc = inflate_grain(v, sector, g);
                if (rc < 0)
                        return rc;
                memcpy(buf, v->grain_buf + in, n);
        } else {
                if (sector * 512 >= v->fsize)
                        return vmdk_corrupt(v, "grain outside the file", sector);
                ssize_t got = pread(v->fd, buf, n, (off_t)(sector * 512 + in));
                if (got < 0)
                        return -errno;
                memset(buf + got, 0, n - (size_t)got);
        }
        return 0;
}

static int read_piece(void *ctx, uint8_t *buf, size_t len, uint64_t off)
{
        struct vmdk *v = ctx;
        return block_each(buf, len, off, v->grain, read_in_grain, v);
}

static int vmdk_read(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        return iov_each(iov, iovcnt, off, read_piece, b);
}

static int vmdk_write(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        (void)b;
        (void)iov;
        (void)iovcnt;
        (void)off;
        return -EROFS;
}

static int vmdk_flush(struct blk_backend *b)
{
        (void)b;
        return 0;
}

static void vmdk_close(struct blk_backend *b)
{
        struct vmdk *v = (struct vmdk *)b;
        close(v->fd);
        free(v->gd);
        free(v->gt);
        free(v->zin);
        free(v->grain_buf);
        free(v);
}

static const struct blk_backend_ops vmdk_ops = {
    .read = vmdk_read,
    .write = vmdk_write,
    .flush = vmdk_flush,
    .close = vmdk_close,
};

struct blk_backend *vmdk_open(int fd, const char *path, bool readonly, char *err, size_t errlen)
{
        struct vmdk *v = calloc(1, sizeof(*v));
        if (!v) {
                close(fd);
                snprintf(err, errlen, "out of memory opening %s", path);
                return NULL;
        }
        v->fd = fd;
        snprintf(v->path, sizeof(v->path), "%s", path);
        if (!readonly)
                FAIL("vmdk %s: VMDK images open read-only; convert to qcow2 to write", path);
        struct stat st;
        uint8_t h[512];
        if (fstat(fd, &st) < 0 || pread_full(fd, h, sizeof(h), 0) < 0)
                FAIL("vmdk %s: header is truncated", path);
        v->fsize = (uint64_t)st.st_size;
        uint32_t version = le32(h + 4), flags = le32(h + 8);
        uint64_t capacity = le64(h + 12), grain = le64(h + 20);
        uint64_t desc_off = le64(h + 28), desc_len = le64(h + 36);
        v->gtes = le32(h + 44);
        uint64_t gd_off = le64(h + 56);
        uint16_t compress = (uint16_t)(h[77] | h[78] << 8);
        if (le32(h) != VMDK_MAGIC)
                FAIL("vmdk %s: bad magic", path);
        if (version < 1 || version > 3)
                FAIL("vmdk %s: unsupported version %u", path, version);
        if (compress && compress != DEFLATE)
                FAIL("vmdk %s: unknown grain compression %u", path, compress);
        v->compressed = (flags & FLAG_COMPRESS) && compress == DEFLATE;
        v->markers = flags & FLAG_MARKERS;
        if (gd_off == GD_AT_END) {
                /* streamOptimized: the footer (a header copy) holds the real
                 * directory; it sits before the end-of-stream marker */
                uint8_t f[512];
                if (v->fsize < 1536 || pread_full(fd, f, sizeof(f), v->fsize - 1024) < 0 ||
                    le32(f) != VMDK_MAGIC)
                        FAIL("vmdk %s: grain directory at the end, but no footer", path);
                gd_off = le64(f + 56);
                if (gd_off == GD_AT_END || le64(f + 12) != capacity || le64(f + 20) != grain ||
                    le32(f + 44) != v->gtes)
                        FAIL("vmdk %s: footer does not match the header", path);
        }
        if (grain < 1 || grain > GRAIN_MAX || (grain & (grain - 1)))
                FAIL("vmdk %s: invalid grain size %llu", path, (unsigned long long)grain);
        if (v->gtes < 1 || v->gtes > 4096)
                FAIL("vmdk %s: invalid grain table size %u", path, v->gtes);
        if (capacity > (1ULL << 44)) /* 8 PiB */
                FAIL("vmdk %s: capacity %llu sectors is too large", path,
                     (unsigned long long)capacity);
        v->grain = grain * 512;
        uint64_t grains = (capacity + grain - 1) / grain;
        v->gd_entries = (grains + v->gtes - 1) / v->gtes;
        if (v->gd_entries * 4 > GD_MAX_BYTES)
                FAIL("vmdk %s: grain directory too large", path);
        if (gd_off * 512 + v->gd_entries * 4 > v->fsize || gd_off > v->fsize)
                FAIL("vmdk %s: grain directory outside the file", path);
        if (desc_off && desc_len && desc_len < 64 && desc_off * 512 < v->fsize) {
                /* an embedded descriptor naming a parent is a delta link */
                char d[64 * 512 + 1];
                ssize_t got = pread(fd, d, desc_len * 512, (off_t)(desc_off * 512));
                d[got > 0 ? got : 0] = 0;
                if (strstr(d, "parentFileNameHint"))
                        FAIL("vmdk %s: VMDK delta links (parent disks) are not supported", path);
        }
        v->gd = malloc(v->gd_entries * 4 + 4);
        v->gt = malloc((size_t)v->gtes * 4);
        if (!v->gd || !v->gt)
                FAIL("out of memory opening %s", path);
        if (pread_full(fd, v->gd, v->gd_entries * 4, gd_off * 512) < 0)
                FAIL("vmdk %s: cannot read the grain directory", path);
        for (uint64_t i = 0; i < v->gd_entries; i++)
                v->gd[i] = le32((uint8_t *)&v->gd[i]);
        if (v->compressed) {
                v->zin = malloc(v->grain * 2 + 4096);
                v->grain_buf = malloc(v->grain);
                if (!v->zin || !v->grain_buf)
                        FAIL("out of memory opening %s", path);
        }
        v->b = (struct blk_backend){.ops = &vmdk_ops, .size = capacity * 512, .readonly = true};
        return &v->b;
fail:
        close(fd);
        free(v->gd);
        free(v->gt);
        free(v->zin);
        free(v->grain_buf);
        free(v);
        return NULL;
}

int vmdk_info(struct blk_backend *b, struct image_info *out)
{
        struct vmdk *v = (struct vmdk *)b;
        out->format = "vmdk";
        out->virtual_size = b->size;
        out->cluster_size = v->grain;
        return 0;
}
