/* Format probing, backing chains and the format-independent entry points. */
#include "image_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
        uint8_t *p = buf;
        while (len) {
                ssize_t n = pread(fd, p, len, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
                off += (uint64_t)n;
        }
        return 0;
}

int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
        const uint8_t *p = buf;
        while (len) {
                ssize_t n = pwrite(fd, p, len, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
                off += (uint64_t)n;
        }
        return 0;
}

int iov_each(const struct iovec *iov, int iovcnt, uint64_t off,
             int (*fn)(void *ctx, uint8_t *buf, size_t len, uint64_t off), void *ctx)
{
        for (int i = 0; i < iovcnt; i++) {
                int rc = fn(ctx, iov[i].iov_base, iov[i].iov_len, off);
                if (rc < 0)
                        return rc;
                off += iov[i].iov_len;
        }
        return 0;
}

int block_each(uint8_t *buf, size_t len, uint64_t off, uint64_t block, block_part_fn fn, void *ctx)
{
        while (len) {
                uint64_t in = off % block;
                size_t n = block - in < len ? (size_t)(block - in) : len;
                int rc = fn(ctx, off / block, in, buf, n, off);
                if (rc < 0)
                        return rc;
                buf += n;
                off += n;
                len -= n;
        }
        return 0;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
        size_t t = 0;
        for (int i = 0; i < cnt; i++)
                t += iov[i].iov_len;
        return t;
}

/* Copies len bytes between buf and iov starting skip bytes into iov. */
static void iov_copy(const struct iovec *iov, int cnt, size_t skip, uint8_t *buf, size_t len,
                     bool to_iov)
{
        for (int i = 0; i < cnt && len; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                size_t n = iov[i].iov_len - skip;
                if (n > len)
                        n = len;
                uint8_t *p = (uint8_t *)iov[i].iov_base + skip;
                if (to_iov)
                        memcpy(p, buf, n);
                else
                        memcpy(buf, p, n);
                buf += n;
                len -= n;
                skip = 0;
        }
}

static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
        while (*cnt > 0 && n >= (*iov)->iov_len) {
                n -= (*iov)->iov_len;
                (*iov)++;
                (*cnt)--;
        }
        if (*cnt > 0 && n) {
                (*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
                (*iov)->iov_len -= n;
        }
}

/* preadv/pwritev until done. A read that ends early (end of file) zero-fills
 * the rest; with O_DIRECT that ends the request, since what follows a short
 * direct read is no longer aligned. */
static int rw_loop(int fd, bool direct, const struct iovec *in, int cnt, uint64_t off, bool write)
{
        struct iovec stackv[64];
        struct iovec *v = cnt <= 64 ? stackv : malloc(sizeof(*v) * (size_t)cnt);
        if (!v)
                return -ENOMEM;
        memcpy(v, in, sizeof(*v) * (size_t)cnt);
        struct iovec *iov = v;
        int rc = 0;
        while (cnt > 0) {
                int c = cnt > IOV_MAX ? IOV_MAX : cnt;
                size_t want = iov_total(iov, c);
                ssize_t n =
                    write ? pwritev(fd, iov, c, (off_t)off) : preadv(fd, iov, c, (off_t)off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = -errno;
                        break;
                }
                if (n == 0 || (direct && (size_t)n < want && (n % DIO_ALIGN || !write))) {
                        if (write) {
                                rc = -EIO;
                                break;
                        }
                        iov_advance(&iov, &cnt, (size_t)n);
                        for (int i = 0; i < cnt; i++)
                                memset(iov[i].iov_base, 0, iov[i].iov_len);
                        break;
                }
                off += (uint64_t)n;
                iov_advance(&iov, &cnt, (size_t)n);
        }
        if (v != stackv)
                free(v);
        return rc;
}

static int dio_block(int fd, uint8_t *buf, size_t len, uint64_t off, bool write)
{
        struct iovec one = {.iov_base = buf, .iov_len = len};
        return rw_loop(fd, true, &one, 1, off, write);
}

/* O_DIRECT through an aligned bounce buffer, 1 MiB at a time. */
static int rw_bounce(int fd, const struct iovec *iov, int cnt, uint64_t off, bool write)
{
        const uint64_t chunk = 1u << 20, a_mask = DIO_ALIGN - 1;
        uint64_t end = off + iov_total(iov, cnt);
        uint64_t a = off & ~a_mask, aend = (end + a_mask) & ~a_mask;
        uint8_t *bb = aligned_alloc(DIO_ALIGN, chunk);
        if (!bb)
                return -ENOMEM;
        int rc = 0;
        while (rc == 0 && a < aend) {
                uint64_t b = a + chunk < aend ? a + chunk : aend;
                uint64_t lo = a > off ? a : off, hi = b < end ? b : end;
                size_t blen = (size_t)(b - a);
                if (!write) {
                        rc = dio_block(fd, bb, blen, a, false);
                        if (rc == 0)
                                iov_copy(iov, cnt, (size_t)(lo - off), bb + (lo - a),
                                         (size_t)(hi - lo), true);
                } else {
                        if (lo > a)
                                rc = dio_block(fd, bb, DIO_ALIGN, a, false);
                        if (rc == 0 && hi < b)
                                rc = dio_block(fd, bb + blen - DIO_ALIGN, DIO_ALIGN, b - DIO_ALIGN,
                                               false);
                        iov_copy(iov, cnt, (size_t)(lo - off), bb + (lo - a), (size_t)(hi - lo),
                                 false);
                        if (rc == 0)
                                rc = dio_block(fd, bb, blen, a, true);
                }
                a = b;
        }
        free(bb);
        return rc;
}

int image_file_rw(int fd, bool direct, const struct iovec *iov, int iovcnt, uint64_t off,
                  bool write)
{
        if (direct) {
                bool aligned = !(off % DIO_ALIGN);
                for (int i = 0; aligned && i < iovcnt; i++)
                        aligned = !((uintptr_t)iov[i].iov_base % DIO_ALIGN) &&
                                  !(iov[i].iov_len % DIO_ALIGN);
                if (!aligned)
                        return rw_bounce(fd, iov, iovcnt, off, write);
        }
        return rw_loop(fd, direct, iov, iovcnt, off, write);
}

int image_reopen_direct(int fd, const char *path, bool readonly, char *err, size_t errlen)
{
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
        int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_DIRECT;
        int dfd = open(self, flags);
        if (dfd < 0 && errno == ENOENT)
                dfd = open(path, flags);
        if (dfd < 0)
                snprintf(err, errlen, "cannot open disk image %s with O_DIRECT (cache=none): %s",
                         path, strerror(errno));
        return dfd;
}

static const char *probe_fd(int fd)
{
        uint8_t head[8] = {0};
        if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head)) {
                if (!memcmp(head, "QFI\xfb", 4))
                        return "qcow2";
                if (!memcmp(head, "conectix", 8))
                        return "vpc";
                if (!memcmp(head, "KDMV", 4))
                        return "vmdk";
        }
        /* A fixed VHD (footer only at the end) is never probed: a guest could
         * otherwise turn its raw disk into something else by writing a footer. */
        return "raw";
}

const char *blk_image_probe(const char *path, char *err, size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(errno));
                return NULL;
        }
        const char *f = probe_fd(fd);
        close(fd);
        return f;
}

struct blk_backend *image_open_chain(const char *path, const char *format, bool readonly,
                                     struct image_chain *chain, char *err, size_t errlen)
{
        if (format && strcmp(format, "raw") && strcmp(format, "qcow2") && strcmp(format, "vpc") &&
            strcmp(format, "vmdk")) {
                snprintf(err, errlen, "unknown image format '%s' (raw, qcow2, vpc or vmdk)",
                         format);
                return NULL;
        }
        if (chain->depth >= IMAGE_MAX_CHAIN) {
                snprintf(err, errlen, "backing chain deeper than %d images at %s", IMAGE_MAX_CHAIN,
                         path);
                return NULL;
        }
        struct stat st;
        if (stat(path, &st) < 0) {
                snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(errno));
                return NULL;
        }
        for (int i = 0; i < chain->depth; i++) {
                if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
                        snprintf(err, errlen, "backing chain loops back to %s", path);
                        return NULL;
                }
        }
        if (chain->locks) {
                int lfd = blk_image_lock_file(path, !readonly, err, errlen);
                if (lfd < 0)
                        return NULL;
                chain->locks->fd[chain->locks->n++] = lfd;
        }
        chain->dev[chain->depth] = st.st_dev;
        chain->ino[chain->depth] = st.st_ino;
        chain->depth++;

        if (format && !strcmp(format, "raw"))
                return blk_raw_open_ex(path, readonly, chain->direct, err, errlen);
        int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(errno));
                return NULL;
        }
        const char *probed = probe_fd(fd);
        if (!format)
                format = probed;
        if (!strcmp(format, "raw")) {
                close(fd);
                return blk_raw_open_ex(path, readonly, chain->direct, err, errlen);
        }
        bool fixed_vhd = !strcmp(format, "vpc") && !strcmp(probed, "raw");
        if (strcmp(format, probed) && !fixed_vhd) {
                snprintf(err, errlen, "%s is not a %s image (it looks like %s)", path, format,
                         probed);
                close(fd);
                return NULL;
        }
        if (!strcmp(format, "qcow2"))
                return qcow2_open(fd, path, readonly, chain, err, errlen);
        if (!strcmp(format, "vmdk"))
                return vmdk_open(fd, path, readonly, err, errlen);
        return vhd_open(fd, path, readonly, chain, err, errlen);
}

struct blk_backend *blk_image_open(const char *path, const char *format, bool readonly, char *err,
                                   size_t errlen)
{
        struct image_chain chain = {0};
        return image_open_chain(path, format, readonly, &chain, err, errlen);
}

struct blk_backend *blk_image_open_ex(const char *path, const char *format, unsigned flags,
                                      struct image_locks *locks, char *err, size_t errlen)
{
        if (locks)
                locks->n = 0;
        struct image_chain chain = {.locks = locks, .direct = flags & IMAGE_OPEN_DIRECT};
        struct blk_backend *b =
            image_open_chain(path, format, flags & IMAGE_OPEN_READONLY, &chain, err, errlen);
        if (!b && locks)
                blk_image_unlock(locks);
        return b;
}

int blk_image_lock_file(const char *path, bool exclusive, char *err, size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(errno));
                return -1;
        }
        if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
                return fd;
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
                snprintf(err, errlen,
                         exclusive ? "disk image %s is in use by another VM or tool "
                                     "(locked); it cannot be opened for writing"
                                   : "disk image %s is being written by another VM or tool "
                                     "(locked); it cannot be opened now",
                         path);
        else
                snprintf(err, errlen, "cannot lock disk image %s: %s", path, strerror(e));
        return -1;
}

void blk_image_unlock(struct image_locks *locks)
{
        for (int i = 0; i < locks->n; i++)
                close(locks->fd[i]);
        locks->n = 0;
}

struct blk_backend *blk_image_open_locked(const char *path, const char *format, bool readonly,
                                          struct image_locks *locks, char *err, size_t errlen)
{
        locks->n = 0;
        struct image_chain chain = {.locks = locks};
        struct blk_backend *b = image_open_chain(path, format, readonly, &chain, err, errlen);
        if (!b)
                blk_image_unlock(locks);
        return b;
}

int blk_image_block_status(struct blk_backend *b, uint64_t off, uint64_t len, uint64_t *pnum)
{
        if (off >= b->size || !len) {
                *pnum = len ? len : 1;
                return 0;
        }
        if (len > b->size - off)
                len = b->size - off;
        if (is_qcow2(b))
                return qcow2_block_status(b, off, len, pnum);
        if (!is_vhd(b) && !is_vmdk(b))
                return raw_block_status(b, off, len, pnum);
        *pnum = len;
        return 1;
}

void blk_image_prefetch(struct blk_backend *b, uint64_t off, uint64_t len)
{
        if (off >= b->size)
                return;
        if (len > b->size - off)
                len = b->size - off;
        if (is_qcow2(b))
                qcow2_prefetch(b, off, len);
        else if (!is_vhd(b) && !is_vmdk(b))
                raw_prefetch(b, off, len);
}

const char *blk_image_format(struct blk_backend *b)
{
        return is_qcow2(b) ? "qcow2" : is_vhd(b) ? "vpc" : is_vmdk(b) ? "vmdk" : "raw";
}

int blk_image_info(struct blk_backend *b, struct image_info *out)
{
        memset(out, 0, sizeof(*out));
        if (is_qcow2(b))
                return qcow2_info(b, out);
        if (is_vhd(b))
                return vhd_info(b, out);
        if (is_vmdk(b))
                return vmdk_info(b, out);
        out->format = "raw";
        out->virtual_size = b->size;
        return 0;
}

int blk_image_create(const char *path, const char *format, uint64_t size,
                     const struct image_create_opts *o, char *err, size_t errlen)
{
        struct image_create_opts none = {0};
        if (!o)
                o = &none;
        /* qcow2 readers (QEMU, this layer) count whole 512-byte sectors: a
         * size in between would lose the tail of a converted raw image */
        if (!strcmp(format, "qcow2"))
                return qcow2_create(path, size > UINT64_MAX - 511 ? size : (size + 511) & ~511ULL,
                                    o, err, errlen);
        if (!strcmp(format, "vpc"))
                return vhd_create(path, size, o->vhd_fixed, o->backing, err, errlen);
        if (strcmp(format, "raw")) {
                snprintf(err, errlen, "unknown image format '%s' (raw, qcow2 or vpc)", format);
                return -EINVAL;
        }
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
                snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        close(fd);
        return 0;
}

int blk_image_resize(const char *path, uint64_t size, char *err, size_t errlen)
{
        const char *f = blk_image_probe(path, err, errlen);
        if (!f)
                return -ENOENT;
        if (!strcmp(f, "qcow2"))
                return qcow2_resize(path, size, err, errlen);
        if (!strcmp(f, "vpc"))
                return vhd_resize(path, size, err, errlen);
        if (truncate(path, (off_t)size) < 0) {
                snprintf(err, errlen, "cannot resize %s: %s", path, strerror(errno));
                return -errno;
        }
        return 0;
}

int blk_image_check(const char *path, bool repair, struct image_check *out, char *err,
                    size_t errlen)
{
        memset(out, 0, sizeof(*out));
        const char *f = blk_image_probe(path, err, errlen);
        if (!f)
                return -ENOENT;
        if (!strcmp(f, "qcow2"))
                return qcow2_check(path, repair, out, err, errlen);
        struct blk_backend *b = blk_image_open(path, f, true, err, errlen);
        if (!b)
                return -EINVAL;
        b->ops->close(b);
        return 0;
}
