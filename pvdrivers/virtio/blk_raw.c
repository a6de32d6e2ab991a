/* Raw image backend: the guest's disk is the file's bytes. */
#include "blk_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../storage/image_internal.h"
#include "virtio_core.h"

struct blk_raw {
        struct blk_backend b;
        int fd;
        bool direct; /* fd has O_DIRECT */
};

static int raw_fd(struct blk_backend *b)
{
        return ((struct blk_raw *)b)->fd;
}

static int raw_rw(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off,
                  bool write)
{
        struct blk_raw *r = (struct blk_raw *)b;
        if (iovcnt > VIRTQ_MAX_CHAIN)
                return -EINVAL;
        return image_file_rw(r->fd, r->direct, iov, iovcnt, off, write);
}

static int raw_read(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        return raw_rw(b, iov, iovcnt, off, false);
}

static int raw_write(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off)
{
        return raw_rw(b, iov, iovcnt, off, true);
}

static int raw_flush(struct blk_backend *b)
{
        return fdatasync(raw_fd(b)) < 0 ? -errno : 0;
}

static int raw_discard(struct blk_backend *b, uint64_t off, uint64_t len)
{
        if (fallocate(raw_fd(b), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                      (off_t)len) < 0)
                return -errno;
        return 0;
}

static int raw_write_zeroes(struct blk_backend *b, uint64_t off, uint64_t len)
{
        if (fallocate(raw_fd(b), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                      (off_t)len) == 0)
                return 0;
        if (errno != EOPNOTSUPP && errno != ENOSYS)
                return -errno;
        static const uint8_t zeros[65536];
        while (len > 0) {
                size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
                struct iovec iov = {.iov_base = (void *)zeros, .iov_len = n};
                int rc = raw_rw(b, &iov, 1, off, true);
                if (rc < 0)
                        return rc;
                off += n;
                len -= n;
        }
        return 0;
}

void raw_prefetch(struct blk_backend *b, uint64_t off, uint64_t len)
{
        (void)posix_fadvise(raw_fd(b), (off_t)off, (off_t)len, POSIX_FADV_WILLNEED);
}

int raw_block_status(struct blk_backend *b, uint64_t off, uint64_t len, uint64_t *pnum)
{
        int fd = raw_fd(b);
        *pnum = len;
        off_t data = lseek(fd, (off_t)off, SEEK_DATA);
        if (data < 0)
                return errno == ENXIO ? 0 : 1; /* ENXIO: only a hole up to the end */
        if ((uint64_t)data > off) {
                if ((uint64_t)data - off < len)
                        *pnum = (uint64_t)data - off;
                return 0;
        }
        off_t hole = lseek(fd, (off_t)off, SEEK_HOLE);
        if (hole > 0 && (uint64_t)hole > off && (uint64_t)hole - off < len)
                *pnum = (uint64_t)hole - off;
        return 1;
}

static void raw_close(struct blk_backend *b)
{
        close(raw_fd(b));
        free(b);
}

static const struct blk_backend_ops raw_ops = {
    .read = raw_read,
    .write = raw_write,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
};

struct blk_backend *blk_raw_open(const char *path, bool readonly, char *err, size_t errlen)
{
        return blk_raw_open_ex(path, readonly, false, err, errlen);
}

struct blk_backend *blk_raw_open_ex(const char *path, bool readonly, bool direct, char *err,
                                    size_t errlen)
{
        int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(errno));
                return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
                snprintf(err, errlen, "disk image %s is not a regular file or block device", path);
                close(fd);
                return NULL;
        }
        uint64_t size = (uint64_t)st.st_size;
        if (S_ISBLK(st.st_mode)) {
                off_t end = lseek(fd, 0, SEEK_END);
                size = end > 0 ? (uint64_t)end : 0;
        }
        struct blk_raw *r = calloc(1, sizeof(*r));
        if (!r) {
                snprintf(err, errlen, "out of memory opening %s", path);
                close(fd);
                return NULL;
        }
        /* A size that is not a multiple of the direct-I/O block would grow
         * on the first read-modify-write of the last block: stay buffered. */
        if (direct && !(size % DIO_ALIGN)) {
                int dfd = image_reopen_direct(fd, path, readonly, err, errlen);
                if (dfd < 0) {
                        close(fd);
                        free(r);
                        return NULL;
                }
                close(fd);
                fd = dfd;
                r->direct = true;
        }
        r->fd = fd;
        r->b = (struct blk_backend){.ops = &raw_ops, .size = size, .readonly = readonly};
        return &r->b;
}
