/* VHD ("vpc"), from Microsoft's Virtual Hard Disk Image Format Specification:
 * fixed disks (data, then a 512-byte footer) and dynamic disks (footer copy,
 * dynamic header, block allocation table, blocks of bitmap + data, footer).
 *
 * A new dynamic block goes where the footer was: the footer is first written
 * past the new block, then the block, then its BAT entry, so a crash at any
 * point leaves a valid image (at worst with unreferenced space). */
#include "image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VHD_FIXED      2
#define VHD_DYNAMIC    3
#define VHD_DIFFERENCE 4
#define BAT_UNUSED     0xffffffffu
#define VHD_MAX_SIZE   (2040ULL << 30)

struct vhd {
        struct blk_backend b;
        int fd;
        char path[PATH_MAX];
        uint32_t type;
        uint8_t footer[512];
        uint64_t bat_off;
        uint32_t bat_entries, block_size, bitmap_size;
        uint32_t *bat;
        uint64_t footer_off;        /* where the (last) footer lies */
        struct blk_backend *parent; /* differencing disks */
        uint8_t *bm;                /* cached sector bitmap of one block */
        uint32_t bm_block;
        bool warned;
};

static const struct blk_backend_ops vhd_ops;

bool is_vhd(struct blk_backend *b)
{
        return b && b->ops == &vhd_ops;
}

static struct vhd *to_v(struct blk_backend *b)
{
        return (struct vhd *)b;
}

static uint32_t vhd_checksum(const uint8_t *p, size_t len, size_t skip)
{
        uint32_t sum = 0;
        for (size_t i = 0; i < len; i++)
                if (i < skip || i >= skip + 4)
                        sum += p[i];
        return ~sum;
}

static int vhd_corrupt(struct vhd *v, const char *what, uint32_t bi)
{
        if (!v->warned)
                fprintf(stderr, "vhd %s: corrupt image: %s (block %u)\n", v->path, what, bi);
        v->warned = true;
        return -EIO;
}

/* A new block where the footer was: footer first, then the block, then
 * its BAT entry. Dynamic blocks are marked fully present; differencing
 * blocks start empty and show the parent until sectors are written. */
static int allocate_block(struct vhd *v, uint32_t bi)
{
        uint64_t start = (v->footer_off + 511) & ~511ULL;
        uint64_t total = (uint64_t)v->bitmap_size + v->block_size;
        if (start / 512 > 0xfffffffeULL)
                return -EFBIG;
        int rc = pwrite_full(v->fd, v->footer, 512, start + total);
        if (rc < 0)
                return rc;
        uint8_t *blk = calloc(1, total);
        if (!blk)
                return -ENOMEM;
        if (v->type == VHD_DYNAMIC)
                memset(blk, 0xff, v->bitmap_size);
        rc = pwrite_full(v->fd, blk, total, start);
        free(blk);
        if (rc < 0)
                return rc;
        v->footer_off = start + total;
        uint8_t e[4];
        put_be32(e, (uint32_t)(start / 512));
        if ((rc = pwrite_full(v->fd, e, 4, v->bat_off + (uint64_t)bi * 4)) < 0)
                return rc;
        v->bat[bi] = (uint32_t)(start / 512);
        v->bm_block = UINT32_MAX;
        return 0;
}

static int load_bitmap(struct vhd *v, uint32_t bi)
{
        if (v->bm_block == bi)
                return 0;
        v->bm_block = UINT32_MAX;
        int rc = pread_full(v->fd, v->bm, v->bitmap_size, (uint64_t)v->bat[bi] * 512);
        if (rc < 0)
                return rc == -EIO ? vhd_corrupt(v, "bitmap past the end", bi) : rc;
        v->bm_block = bi;
        return 0;
}

static bool present(const struct vhd *v, uint64_t sector)
{
        return v->bm[sector / 8] & (0x80 >> (sector % 8));
}

static int read_parent(struct vhd *v, uint8_t *buf, size_t n, uint64_t off)
{
        if (!v->parent || off >= v->parent->size) {
                memset(buf, 0, n);
                return 0;
        }
        size_t k = off + n > v->parent->size ? (size_t)(v->parent->size - off) : n;
        memset(buf + k, 0, n - k);
        struct iovec iov = {.iov_base = buf, .iov_len = k};
        return v->parent->ops->read(v->parent, &iov, 1, off);
}

/* Reads within one block; in and n are bytes inside it. */
static int read_in_block(struct vhd *v, uint32_t bi, uint64_t in, uint8_t *buf, size_t n,
                         uint64_t off)
{
        if (v->bat[bi] == BAT_UNUSED)
                return read_parent(v, buf, n, off);
        uint64_t data = (uint64_t)v->bat[bi] * 512 + v->bitmap_size;
        if (data + in + n > v->footer_off)
                return vhd_corrupt(v, "block past the end", bi);
        if (v->type == VHD_DYNAMIC)
                return pread_full(v->fd, buf, n, data + in);
        int rc = load_bitmap(v, bi);
        while (rc == 0 && n) {
                uint64_t sec = in / 512;
                bool here = present(v, sec);
                size_t k = 512 - in % 512;
                /* extend the run while the presence bit stays the same */
                uint64_t s2 = sec + 1;
                while (k < n && present(v, s2) == here) {
                        k += 512;
                        s2++;
                }
                if (k > n)
                        k = n;
                rc = here ? pread_full(v->fd, buf, k, data + in) : read_parent(v, buf, k, off);
                buf += k;
                in += k;
                off += k;
                n -= k;
        }
        return rc;
}

static int write_in_block(struct vhd *v, uint32_t bi, uint64_t in, const uint8_t *buf, size_t n,
                          uint64_t off)
{
        int rc;
        if (v->bat[bi] == BAT_UNUSED && (rc = allocate_block(v, bi)) < 0)
                return rc;
        uint64_t data = (uint64_t)v->bat[bi] * 512 + v->bitmap_size;
        if (data + in + n > v->footer_off)
                return vhd_corrupt(v, "block past the end", bi);
        if (v->type == VHD_DYNAMIC)
                return pwrite_full(v->fd, buf, n, data + in);
        /* differencing: whole sectors, partial ones merged with what reads
         * there now, then the bitmap bits (after the data) */
        uint64_t s0 = in / 512, s1 = (in + n + 511) / 512;
        size_t len = (size_t)((s1 - s0) * 512);
        uint8_t *tmp = malloc(len);
        if (!tmp)
                return -ENOMEM;
        uint64_t head = in % 512;
        rc = 0;
        if (head)
                rc = read_in_block(v, bi, s0 * 512, tmp, 512, off - head);
        if (rc == 0 && (in + n) % 512 && (s1 - 1 > s0 || !head))
                rc = read_in_block(v, bi, (s1 - 1) * 512, tmp + len - 512, 512,
                                   off - head + len - 512);
        memcpy(tmp + head, buf, n);
        if (rc == 0)
                rc = pwrite_full(v->fd, tmp, len, data + s0 * 512);
        free(tmp);
        if (rc == 0)
                rc = load_bitmap(v, bi);
        if (rc < 0)
                return rc;
        for (uint64_t sct = s0; sct < s1; sct++)
                v->bm[sct / 8] |= (uint8_t)(0x80 >> (sct % 8));
        return pwrite_full(v->fd, v->bm + s0 / 8, (size_t)((s1 - 1) / 8 - s0 / 8 + 1),
                           (uint64_t)v->bat[bi] * 512 + s0 / 8);
}

static int read_part(void *ctx, uint64_t bi, uint64_t in, uint8_t *buf, size_t n, uint64_t off)
{
        struct vhd *v = ctx;
        if (bi >= v->bat_entries)
                return -EIO;
        return read_in_block(v, (uint32_t)bi, in, buf, n, off);
}

static int write_part(void *ctx, uint64_t bi, uint64_t in, uint8_t *buf, size_t n, uint64_t off)
{
        struct vhd *v = ctx;
        if (bi >= v->bat_entries)
                return -EIO;
        return write_in_block(v, (uint32_t)bi, in, buf, n, off);
}

static int vhd_read_piece(void *ctx, uint8_t *buf, size_t len, uint64_t off)
{
        struct vhd *v = ctx;
        if (v->type == VHD_FIXED)
                return pread_full(v->fd, buf, len, off);
        return block_each(buf, len, off, v->block_size, read_part, v);
}

static int vhd_write_piece(void *ctx, uint8_t *buf, size_t len, uint64_t off)
{
        struct vhd *v = ctx;
        if (v->type == VHD_FIXED)
                return pwrite_full(v->fd, buf, len, off);
        return block_each(buf, len, off, v->block_size, write_part, v);
}

static int vhd_read(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        return iov_each(iov, iovcnt, off, vhd_read_piece, to_v(b));
}

static int vhd_write(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        if (b->readonly)
                return -EROFS;
        return iov_each(iov, iovcnt, off, vhd_write_piece, to_v(b));
}

static int vhd_flush(struct blk_backend *b)
{
        return b->readonly || fdatasync(to_v(b)->fd) == 0 ? 0 : -errno;
}

static void vhd_close(struct blk_backend *b)
{
        struct vhd *v = to_v(b);
        vhd_flush(b);
        close(v->fd);
        if (v->parent)
                v->parent->ops->close(v->parent);
        free(v->bat);
        free(v->bm);
        free(v);
}

static const struct blk_backend_ops vhd_ops = {
    .read = vhd_read,
    .write = vhd_write,
    .flush = vhd_flush,
    .close = vhd_close,
};

/* UTF-16 (le or be) to UTF-8, backslashes to slashes; "" when unusable. */
static void utf16_path(const uint8_t *in, size_t bytes, bool le, char *out, size_t outlen)
{
        size_t o = 0;
        for (size_t i = 0; i + 1 < bytes; i += 2) {
                unsigned c =
                    le ? (unsigned)(in[i] | in[i + 1] << 8) : (unsigned)(in[i] << 8 | in[i + 1]);
                if (c == 0)
                        break;
                if (c == '\\')
                        c = '/';
                if (o + 4 >= outlen || (c >= 0xd800 && c < 0xe000)) {
                        out[0] = 0;
                        return;
                }
                if (c < 0x80) {
                        out[o++] = (char)c;
                } else if (c < 0x800) {
                        out[o++] = (char)(0xc0 | c >> 6);
                        out[o++] = (char)(0x80 | (c & 0x3f));
                } else {
                        out[o++] = (char)(0xe0 | c >> 12);
                        out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
                        out[o++] = (char)(0x80 | (c & 0x3f));
                }
        }
        out[o] = 0;
}

/* The parent's path from the locators (relative, then absolute Windows
 * paths) or the parent's name, resolved against the child's folder. */
static int find_parent(int fd, const char *child, const uint8_t *h, uint64_t fsize, char *out,
                       size_t outlen)
{
        char cand[1024];
        const char *slash = strrchr(child, '/');
        int dirlen = slash ? (int)(slash - child) : 0;
        for (int pass = 0; pass < 3; pass++) {
                for (int i = 0; i < 8; i++) {
                        const uint8_t *l = h + 576 + i * 24;
                        uint32_t code = be32(l), len = be32(l + 8);
                        uint64_t at = be64(l + 16);
                        bool want = pass == 0   ? code == 0x57327275 /* W2ru */
                                    : pass == 1 ? code == 0x57326b75 /* W2ku */
                                                : false;
                        if (!want || len == 0 || len > 2048 || at > fsize || at + len > fsize)
                                continue;
                        uint8_t raw[2048];
                        if (pread_full(fd, raw, len, at) < 0)
                                continue;
                        utf16_path(raw, len, true, cand, sizeof(cand));
                        if (cand[0])
                                goto found;
                }
                if (pass == 2) {
                        utf16_path(h + 64, 512, false, cand, sizeof(cand));
                        if (cand[0])
                                goto found;
                }
                continue;
        found : {
                const char *c = cand;
                if (!strncmp(c, "./", 2))
                        c += 2;
                if (c[0] == '/' || (c[1] == ':' && c[2] == '/'))
                        snprintf(out, outlen, "%s", c);
                else if (dirlen)
                        snprintf(out, outlen, "%.*s/%s", dirlen, child, c);
                else
                        snprintf(out, outlen, "%s", c);
                if (access(out, R_OK) == 0)
                        return 0;
        }
        }
        return -ENOENT;
}

struct blk_backend *vhd_open(int fd, const char *path, bool readonly, struct image_chain *chain,
                             char *err, size_t errlen)
{
        struct vhd *v = calloc(1, sizeof(*v));
        if (!v) {
                close(fd);
                snprintf(err, errlen, "out of memory opening %s", path);
                return NULL;
        }
        v->fd = fd;
        snprintf(v->path, sizeof(v->path), "%s", path);
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_size < 512)
                FAIL("vhd %s: file too small for a footer", path);
        uint64_t fsize = (uint64_t)st.st_size;
        /* the footer is the last 512 bytes (511 for some old writers) */
        v->footer_off = fsize - 512;
        if (pread_full(fd, v->footer, 512, v->footer_off) < 0 || memcmp(v->footer, "conectix", 8)) {
                v->footer_off = fsize & ~511ULL;
                if (v->footer_off >= 512)
                        v->footer_off -= 512;
                if (pread_full(fd, v->footer, 512, v->footer_off) < 0 ||
                    memcmp(v->footer, "conectix", 8)) {
                        /* a dynamic disk with a damaged tail still has the copy at 0 */
                        if (pread_full(fd, v->footer, 512, 0) < 0 ||
                            memcmp(v->footer, "conectix", 8))
                                FAIL("vhd %s: no footer found", path);
                        v->footer_off = fsize & ~511ULL;
                }
        }
        if (vhd_checksum(v->footer, 512, 64) != be32(v->footer + 64))
                FAIL("vhd %s: footer checksum mismatch", path);
        v->type = be32(v->footer + 60);
        uint64_t size = be64(v->footer + 48);
        if (v->type != VHD_FIXED && v->type != VHD_DYNAMIC && v->type != VHD_DIFFERENCE)
                FAIL("vhd %s: unknown disk type %u", path, v->type);
        if (size > VHD_MAX_SIZE)
                FAIL("vhd %s: virtual size %llu exceeds the VHD limit", path,
                     (unsigned long long)size);
        if (v->type == VHD_FIXED) {
                if (size > v->footer_off)
                        FAIL("vhd %s: fixed disk shorter than its size", path);
        } else {
                uint64_t hoff = be64(v->footer + 16);
                uint8_t h[1024];
                if (hoff > fsize || pread_full(fd, h, sizeof(h), hoff) < 0)
                        FAIL("vhd %s: dynamic header outside the file", path);
                if (memcmp(h, "cxsparse", 8))
                        FAIL("vhd %s: bad dynamic header cookie", path);
                if (vhd_checksum(h, sizeof(h), 36) != be32(h + 36))
                        FAIL("vhd %s: dynamic header checksum mismatch", path);
                v->bat_off = be64(h + 16);
                v->bat_entries = be32(h + 28);
                v->block_size = be32(h + 32);
                if (v->block_size < 512 || v->block_size > (256u << 20) ||
                    (v->block_size & (v->block_size - 1)))
                        FAIL("vhd %s: invalid block size %u", path, v->block_size);
                if ((uint64_t)v->bat_entries * v->block_size < size)
                        FAIL("vhd %s: block table does not cover the disk", path);
                if (v->bat_off + (uint64_t)v->bat_entries * 4 > fsize)
                        FAIL("vhd %s: block table outside the file", path);
                v->bitmap_size = ((v->block_size / 512 / 8) + 511) & ~511u;
                v->bat = malloc((size_t)v->bat_entries * 4 + 4);
                v->bm = malloc(v->bitmap_size);
                v->bm_block = UINT32_MAX;
                if (!v->bat || !v->bm)
                        FAIL("out of memory opening %s", path);
                if (pread_full(fd, v->bat, (size_t)v->bat_entries * 4, v->bat_off) < 0)
                        FAIL("vhd %s: cannot read the block table", path);
                for (uint32_t i = 0; i < v->bat_entries; i++)
                        v->bat[i] = be32((uint8_t *)&v->bat[i]);
                if (v->type == VHD_DIFFERENCE) {
                        char pp[1200], perr[512];
                        if (find_parent(fd, path, h, fsize, pp, sizeof(pp)) < 0)
                                FAIL("vhd %s: parent disk not found", path);
                        v->parent = image_open_chain(pp, "vpc", true, chain, perr, sizeof(perr));
                        if (!v->parent && strstr(perr, "backing chain"))
                                FAIL("%s", perr);
                        if (!v->parent)
                                FAIL("vhd %s: parent: %s", path, perr);
                        if (memcmp(to_v(v->parent)->footer + 68, h + 40, 16))
                                FAIL("vhd %s: parent %s has a different unique id (was it "
                                     "replaced?)",
                                     path, pp);
                }
        }
        v->b = (struct blk_backend){.ops = &vhd_ops, .size = size, .readonly = readonly};
        return &v->b;
fail:
        close(fd);
        if (v->parent)
                v->parent->ops->close(v->parent);
        free(v->bat);
        free(v->bm);
        free(v);
        return NULL;
}

int vhd_info(struct blk_backend *b, struct image_info *out)
{
        struct vhd *v = to_v(b);
        out->format = "vpc";
        out->virtual_size = b->size;
        out->cluster_size = v->block_size;
        out->version = (int)v->type;
        return 0;
}

/* CHS geometry from the specification's appendix. */
static void chs(uint64_t sectors, uint16_t *c, uint8_t *h, uint8_t *s)
{
        uint64_t cth;
        uint32_t spt, heads;
        if (sectors > 65535ULL * 16 * 255)
                sectors = 65535ULL * 16 * 255;
        if (sectors >= 65535ULL * 16 * 63) {
                spt = 255;
                heads = 16;
                cth = sectors / spt;
        } else {
                spt = 17;
                cth = sectors / spt;
                heads = (uint32_t)((cth + 1023) / 1024);
                if (heads < 4)
                        heads = 4;
                if (cth >= heads * 1024ULL || heads > 16) {
                        spt = 31;
                        heads = 16;
                        cth = sectors / spt;
                }
                if (cth >= heads * 1024ULL) {
                        spt = 63;
                        heads = 16;
                        cth = sectors / spt;
                }
        }
        *c = (uint16_t)(cth / heads);
        *h = (uint8_t)heads;
        *s = (uint8_t)spt;
}

/* Rounds size up so that the CHS geometry describes it exactly (readers
 * that trust geometry over the size field then agree), below the CHS limit. */
static uint64_t chs_size(uint64_t size, uint16_t *c, uint8_t *h, uint8_t *s)
{
        uint64_t want = (size + 511) / 512;
        for (uint64_t n = want; n < want + 70000; n++) {
                chs(n, c, h, s);
                uint64_t got = (uint64_t)*c * *h * *s;
                if (got >= want)
                        return got * 512;
                if (got == 65535ULL * 16 * 255)
                        break;
        }
        return want * 512;
}

static void make_footer(uint8_t *f, uint64_t size, uint32_t type)
{
        memset(f, 0, 512);
        memcpy(f, "conectix", 8);
        put_be32(f + 8, 2);
        put_be32(f + 12, 0x00010000);
        put_be64(f + 16, type == VHD_FIXED ? ~0ULL : 512);
        put_be32(f + 24, (uint32_t)(time(NULL) - 946684800));
        memcpy(f + 28, "tndm", 4);
        put_be32(f + 32, 0x00010000);
        memcpy(f + 36, "Wi2k", 4);
        put_be64(f + 40, size);
        put_be64(f + 48, size);
        uint16_t c;
        uint8_t h, s;
        chs(size / 512, &c, &h, &s);
        put_be16(f + 56, c);
        f[58] = h;
        f[59] = s;
        put_be32(f + 60, type);
        for (int i = 0; i < 16; i++)
                f[68 + i] = (uint8_t)rand();
        put_be32(f + 64, vhd_checksum(f, 512, 64));
}

/* The locator and name of a parent, as a differencing header stores them. */
static size_t put_utf16(uint8_t *out, size_t cap, const char *s, bool le, bool backslash)
{
        size_t o = 0;
        for (; *s && o + 2 <= cap; s++) {
                unsigned c = (unsigned char)*s;
                if (c >= 0x80)
                        return 0; /* keep it simple: ASCII parent names only */
                if (backslash && c == '/')
                        c = '\\';
                out[o + (le ? 0 : 1)] = (uint8_t)c;
                out[o + (le ? 1 : 0)] = 0;
                o += 2;
        }
        return *s ? 0 : o;
}

int vhd_create(const char *path, uint64_t size, bool fixed, const char *parent, char *err,
               size_t errlen)
{
        uint8_t pfoot[512] = {0};
        if (parent) {
                char pp[PATH_MAX + 1100];
                const char *slash = strrchr(path, '/');
                if (parent[0] != '/' && slash)
                        snprintf(pp, sizeof(pp), "%.*s/%s", (int)(slash - path), path, parent);
                else
                        snprintf(pp, sizeof(pp), "%s", parent);
                struct blk_backend *pb = blk_image_open(pp, "vpc", true, err, errlen);
                if (!pb)
                        return -EINVAL;
                memcpy(pfoot, to_v(pb)->footer, 512);
                if (!size)
                        size = pb->size;
                pb->ops->close(pb);
                fixed = false;
        }
        uint16_t c;
        uint8_t h, s;
        size = chs_size(size, &c, &h, &s);
        if (size > VHD_MAX_SIZE) {
                snprintf(err, errlen, "virtual size exceeds the VHD limit of 2040 GiB");
                return -EINVAL;
        }
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        uint8_t f[512];
        make_footer(f, size, fixed ? VHD_FIXED : parent ? VHD_DIFFERENCE : VHD_DYNAMIC);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
                return -errno;
        }
        int rc;
        if (fixed) {
                rc = pwrite_full(fd, f, 512, size);
        } else {
                uint32_t bs = 2u << 20;
                uint32_t entries = (uint32_t)((size + bs - 1) / bs);
                uint64_t bat_bytes = ((uint64_t)entries * 4 + 511) & ~511ULL;
                uint64_t end = 1536 + bat_bytes;
                uint8_t hdr[1024] = {0}, loc[512] = {0};
                memcpy(hdr, "cxsparse", 8);
                put_be64(hdr + 8, ~0ULL);
                put_be64(hdr + 16, 1536);
                put_be32(hdr + 24, 0x00010000);
                put_be32(hdr + 28, entries);
                put_be32(hdr + 32, bs);
                rc = 0;
                if (parent) {
                        const char *base = strrchr(parent, '/') ? strrchr(parent, '/') + 1 : parent;
                        char rel[600];
                        snprintf(rel, sizeof(rel), "./%s", parent);
                        size_t ll = put_utf16(loc, sizeof(loc), rel, true, true);
                        if (!ll || !put_utf16(hdr + 64, 512, base, false, false)) {
                                snprintf(err, errlen, "parent name must be ASCII and short");
                                close(fd);
                                unlink(path);
                                return -EINVAL;
                        }
                        memcpy(hdr + 40, pfoot + 68, 16); /* parent unique id */
                        memcpy(hdr + 56, pfoot + 24, 4);  /* parent time stamp */
                        put_be32(hdr + 576, 0x57327275);  /* W2ru */
                        put_be32(hdr + 580, 1);           /* sectors reserved */
                        put_be32(hdr + 584, (uint32_t)ll);
                        put_be64(hdr + 592, end);
                        end += 512;
                }
                put_be32(hdr + 36, vhd_checksum(hdr, sizeof(hdr), 36));
                uint8_t *bat = malloc(bat_bytes);
                rc = bat ? 0 : -ENOMEM;
                if (bat)
                        memset(bat, 0xff, bat_bytes);
                if (rc == 0)
                        rc = pwrite_full(fd, f, 512, 0);
                if (rc == 0)
                        rc = pwrite_full(fd, hdr, sizeof(hdr), 512);
                if (rc == 0)
                        rc = pwrite_full(fd, bat, bat_bytes, 1536);
                if (rc == 0 && parent)
                        rc = pwrite_full(fd, loc, 512, 1536 + bat_bytes);
                if (rc == 0)
                        rc = pwrite_full(fd, f, 512, end);
                free(bat);
        }
        if (rc == 0 && fdatasync(fd) < 0)
                rc = -errno;
        close(fd);
        if (rc < 0)
                snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
        return rc;
}

int vhd_resize(const char *path, uint64_t size, char *err, size_t errlen)
{
        struct blk_backend *b = blk_image_open(path, "vpc", false, err, errlen);
        if (!b)
                return -EINVAL;
        struct vhd *v = to_v(b);
        int rc = 0;
        uint16_t c;
        uint8_t h, s;
        size = chs_size(size, &c, &h, &s);
        if (v->type != VHD_FIXED || size < b->size || size > VHD_MAX_SIZE) {
                snprintf(err, errlen, "only growing fixed VHDs (up to 2040 GiB) is supported");
                rc = -EINVAL;
                goto out;
        }
        uint8_t f[512];
        memcpy(f, v->footer, 512);
        put_be64(f + 48, size);
        chs(size / 512, &c, &h, &s);
        put_be16(f + 56, c);
        f[58] = h;
        f[59] = s;
        put_be32(f + 64, vhd_checksum(f, 512, 64));
        static const uint8_t zero[512];
        rc = pwrite_full(v->fd, f, 512, size);
        if (rc == 0 && size != b->size)
                rc = pwrite_full(v->fd, zero, 512, b->size);
        if (rc < 0)
                snprintf(err, errlen, "cannot resize %s: %s", path, strerror(-rc));
out:
        b->ops->close(b);
        return rc;
}
