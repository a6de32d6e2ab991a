/* Block image backends behind virtio-blk: raw today, qcow2/VHD later. Offsets
 * and lengths are in bytes; the device has already checked them against size. */
#ifndef TANDEM_BLK_BACKEND_H
#define TANDEM_BLK_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct blk_backend;

struct blk_backend_ops {
        /* Fill/consume every byte of iov; return 0 or -errno. Reads past the end
         * of a shorter-than-size image return zeros. */
        int (*read)(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off);
        int (*write)(struct blk_backend *b, const struct iovec *iov, int iovcnt, uint64_t off);
        int (*flush)(struct blk_backend *b);
        /* Deallocate (discard) or zero a range; may be NULL when unsupported. */
        int (*discard)(struct blk_backend *b, uint64_t off, uint64_t len);
        int (*write_zeroes)(struct blk_backend *b, uint64_t off, uint64_t len);
        void (*close)(struct blk_backend *b);
};

struct blk_backend {
        const struct blk_backend_ops *ops;
        uint64_t size; /* bytes the guest sees */
        bool readonly;
};

/* Opens a raw image (O_RDONLY when readonly). */
struct blk_backend *blk_raw_open(const char *path, bool readonly, char *err, size_t errlen);

#endif
