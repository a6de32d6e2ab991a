/* Shared by the format backends in pvdrivers/storage; not a public API. */
#ifndef TANDEM_STORAGE_IMAGE_INTERNAL_H
#define TANDEM_STORAGE_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"

/* The chain of images opened so far, to refuse loops and runaway depth. */
struct image_chain {
        int depth;
        dev_t dev[IMAGE_MAX_CHAIN];
        ino_t ino[IMAGE_MAX_CHAIN];
        struct image_locks *locks; /* NULL: take no flocks */
        bool direct;               /* IMAGE_OPEN_DIRECT for every file */
};

/* Alignment of O_DIRECT offsets, lengths and buffers (safe for 512-byte and
 * 4 KiB sector disks alike). */
#define DIO_ALIGN 4096u

/* preadv/pwritev of every byte of iov at off; reads past the end of the file
 * give zeros. direct: fd has O_DIRECT, and requests that are not DIO_ALIGN
 * aligned (offset, lengths, buffers) go through an aligned bounce buffer,
 * writes read-modify-write their partial edge blocks. */
int image_file_rw(int fd, bool direct, const struct iovec *iov, int iovcnt, uint64_t off,
                  bool write);
/* Same file opened again with O_DIRECT (for data next to buffered metadata). */
int image_reopen_direct(int fd, const char *path, bool readonly, char *err, size_t errlen);
void raw_prefetch(struct blk_backend *b, uint64_t off, uint64_t len);
void qcow2_prefetch(struct blk_backend *b, uint64_t off, uint64_t len);
int raw_block_status(struct blk_backend *b, uint64_t off, uint64_t len, uint64_t *pnum);
int qcow2_block_status(struct blk_backend *b, uint64_t off, uint64_t len, uint64_t *pnum);
/* Raw images with or without O_DIRECT. */
struct blk_backend *blk_raw_open_ex(const char *path, bool readonly, bool direct, char *err,
                                    size_t errlen);

struct blk_backend *image_open_chain(const char *path, const char *format, bool readonly,
                                     struct image_chain *chain, char *err, size_t errlen);

struct blk_backend *qcow2_open(int fd, const char *path, bool readonly, struct image_chain *chain,
                               char *err, size_t errlen);
struct blk_backend *vhd_open(int fd, const char *path, bool readonly, struct image_chain *chain,
                             char *err, size_t errlen);
struct blk_backend *vmdk_open(int fd, const char *path, bool readonly, char *err, size_t errlen);
int qcow2_info(struct blk_backend *b, struct image_info *out);
int vmdk_info(struct blk_backend *b, struct image_info *out);
bool is_vmdk(struct blk_backend *b);
int vhd_info(struct blk_backend *b, struct image_info *out);
bool is_qcow2(struct blk_backend *b);
bool is_vhd(struct blk_backend *b);
int qcow2_create(const char *path, uint64_t size, const struct image_create_opts *o, char *err,
                 size_t errlen);
int vhd_create(const char *path, uint64_t size, bool fixed, const char *parent, char *err,
               size_t errlen);
int qcow2_resize(const char *path, uint64_t size, char *err, size_t errlen);
int vhd_resize(const char *path, uint64_t size, char *err, size_t errlen);
int qcow2_check(const char *path, bool repair, struct image_check *out, char *err, size_t errlen);

/* Big-endian fields, as both formats store them. */
static inline uint16_t be16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p)
{
        return (uint64_t)be32(p) << 32 | be32(p + 4);
}
static inline void put_be16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}
static inline void put_be32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
}
static inline void put_be64(uint8_t *p, uint64_t v)
{
        put_be32(p, (uint32_t)(v >> 32));
        put_be32(p + 4, (uint32_t)v);
}

/* Whole-buffer I/O: 0, -errno, or -EIO on a short read (past the end). */
int pread_full(int fd, void *buf, size_t len, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Runs fn over each iovec piece with its running disk offset. */
int iov_each(const struct iovec *iov, int iovcnt, uint64_t off,
             int (*fn)(void *ctx, uint8_t *buf, size_t len, uint64_t off), void *ctx);

/* Splits the disk range [off, off + len) at every multiple of block (a
 * qcow2 cluster, a VHD block, a VMDK grain) and runs fn on each part with
 * the block's index, the offset inside it, the part of buf and its disk
 * offset. Stops at the first error. */
typedef int (*block_part_fn)(void *ctx, uint64_t index, uint64_t in, uint8_t *buf, size_t n,
                             uint64_t off);
int block_each(uint8_t *buf, size_t len, uint64_t off, uint64_t block, block_part_fn fn, void *ctx);

/* For the format openers: report in err and leave through their fail label. */
#define FAIL(...)                                                                                  \
        do {                                                                                       \
                snprintf(err, errlen, __VA_ARGS__);                                                \
                goto fail;                                                                         \
        } while (0)

#endif
