/* virtio-blk (virtio 1.2 §5.2). Requests run synchronously on the thread that
 * delivered the kick, under the VMM device lock. A malformed request is the
 * guest's problem, answered with VIRTIO_BLK_S_IOERR; only a broken ring puts
 * the device in NEEDS_RESET. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../storage/image.h"
#include "blk_backend.h"
#include "blk_image.h"
#include "devices.h"
#include "virtio_core.h"

#define VIRTIO_ID_BLOCK 2

#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_WZ_UNMAP 1
#define VIRTIO_BLK_ID_BYTES 20

#define SECTOR                  512u
#define BLK_QUEUE_SIZE          256
#define BLK_SEG_MAX             (128 - 2)
#define BLK_MAX_DISCARD_SECTORS 0x400000u /* 2 GiB per segment */
#define BLK_MAX_DISCARD_SEG     16
#define BLK_DISCARD_ALIGN       8 /* sectors: 4 KiB, the host page/cluster size */

/* Device configuration layout (§5.2.4), little-endian. */
struct blk_config {
        uint64_t capacity;
        uint32_t size_max;
        uint32_t seg_max;
        struct {
                uint16_t cylinders;
                uint8_t heads;
                uint8_t sectors;
        } geometry;
        uint32_t blk_size;
        struct {
                uint8_t physical_block_exp;
                uint8_t alignment_offset;
                uint16_t min_io_size;
                uint32_t opt_io_size;
        } topology;
        uint8_t writeback;
        uint8_t unused0;
        uint16_t num_queues;
        uint32_t max_discard_sectors;
        uint32_t max_discard_seg;
        uint32_t discard_sector_alignment;
        uint32_t max_write_zeroes_sectors;
        uint32_t max_write_zeroes_seg;
        uint8_t write_zeroes_may_unmap;
        uint8_t unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct blk_config) == 60, "virtio-blk config layout");

struct blk_req_hdr {
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
};

struct blk_discard_seg {
        uint64_t sector;
        uint32_t num_sectors;
        uint32_t flags;
};

struct virtio_blk {
        struct virtio_device_priv head;
        struct virtio_device vdev;
        struct blk_backend *be;
        struct image_locks locks;
        uint64_t capacity; /* sectors */
        struct blk_config cfg;
        char serial[VIRTIO_BLK_ID_BYTES];
        struct virtio_blk_stats stats;
        struct virtq_chain chain;
        struct iovec data[VIRTQ_MAX_CHAIN];
};

static struct virtio_blk *to_blk(struct virtio_device *vdev)
{
        return vdev->priv;
}

static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t nsec)
{
        return sector <= b->capacity && nsec <= b->capacity - sector;
}

static uint8_t do_rw(struct virtio_blk *b, const struct blk_req_hdr *h, struct virtq_chain *c,
                     bool write, uint32_t *written)
{
        uint64_t len;
        unsigned n;
        if (write) {
                len = c->out_bytes - sizeof(*h);
                n = iov_slice(c->iov, c->nout, sizeof(*h), len, b->data);
        } else {
                len = c->in_bytes - 1;
                n = iov_slice(c->iov + c->nout, c->nin, 0, len, b->data);
        }
        if (len % SECTOR || !range_ok(b, h->sector, len / SECTOR))
                return VIRTIO_BLK_S_IOERR;
        if (write && b->be->readonly)
                return VIRTIO_BLK_S_IOERR;
        uint64_t off = h->sector * SECTOR;
        int rc = write ? b->be->ops->write(b->be, b->data, (int)n, off)
                       : b->be->ops->read(b->be, b->data, (int)n, off);
        if (rc < 0)
                return VIRTIO_BLK_S_IOERR;
        if (write) {
                b->stats.wr_reqs++;
                b->stats.wr_bytes += len;
        } else {
                b->stats.rd_reqs++;
                b->stats.rd_bytes += len;
                *written += (uint32_t)len;
        }
        return VIRTIO_BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES carry an array of segments in the readable data. */
static uint8_t do_ranges(struct virtio_blk *b, struct virtq_chain *c, bool zeroes)
{
        uint64_t len = c->out_bytes - sizeof(struct blk_req_hdr);
        if (b->be->readonly)
                return VIRTIO_BLK_S_IOERR;
        if (len == 0 || len % sizeof(struct blk_discard_seg) ||
            len / sizeof(struct blk_discard_seg) > BLK_MAX_DISCARD_SEG)
                return VIRTIO_BLK_S_IOERR;
        int (*op)(struct blk_backend *, uint64_t, uint64_t) =
            zeroes ? b->be->ops->write_zeroes : b->be->ops->discard;
        if (!op)
                return VIRTIO_BLK_S_UNSUPP;
        for (uint64_t off = 0; off < len; off += sizeof(struct blk_discard_seg)) {
                struct blk_discard_seg s;
                iov_copy_from(c->iov, c->nout, sizeof(struct blk_req_hdr) + off, &s, sizeof(s));
                uint32_t allowed = zeroes ? VIRTIO_BLK_WZ_UNMAP : 0;
                if (s.flags & ~allowed)
                        return VIRTIO_BLK_S_UNSUPP;
                if (s.num_sectors > BLK_MAX_DISCARD_SECTORS ||
                    !range_ok(b, s.sector, s.num_sectors))
                        return VIRTIO_BLK_S_IOERR;
                uint64_t boff = s.sector * SECTOR, blen = (uint64_t)s.num_sectors * SECTOR;
                /* a hole reads back as zeros, so UNMAP may deallocate */
                int rc = zeroes && (s.flags & VIRTIO_BLK_WZ_UNMAP) && b->be->ops->discard
                             ? b->be->ops->discard(b->be, boff, blen)
                             : op(b->be, boff, blen);
                if (rc < 0)
                        return VIRTIO_BLK_S_IOERR;
        }
        b->stats.discards++;
        return VIRTIO_BLK_S_OK;
}

static uint32_t blk_handle(struct virtio_device *vdev, unsigned q, struct virtq_chain *c)
{
        (void)q;
        struct virtio_blk *b = to_blk(vdev);
        if (c->nin == 0 || c->in_bytes == 0) {
                /* no status byte: nothing can be reported back */
                b->stats.errors++;
                return 0;
        }
        uint32_t written = 1; /* the status byte */
        uint8_t status = VIRTIO_BLK_S_IOERR;
        struct blk_req_hdr h;
        if (iov_copy_from(c->iov, c->nout, 0, &h, sizeof(h)) != sizeof(h))
                goto done;
        switch (h.type) {
        case VIRTIO_BLK_T_IN:
                status = do_rw(b, &h, c, false, &written);
                break;
        case VIRTIO_BLK_T_OUT:
                status = do_rw(b, &h, c, true, &written);
                break;
        case VIRTIO_BLK_T_FLUSH:
                status = b->be->ops->flush(b->be) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
                b->stats.flushes++;
                break;
        case VIRTIO_BLK_T_GET_ID: {
                size_t n = c->in_bytes - 1;
                if (n > VIRTIO_BLK_ID_BYTES)
                        n = VIRTIO_BLK_ID_BYTES;
                written += (uint32_t)iov_copy_to(c->iov + c->nout, c->nin, 0, b->serial, n);
                status = VIRTIO_BLK_S_OK;
                break;
        }
        case VIRTIO_BLK_T_DISCARD:
                status = do_ranges(b, c, false);
                break;
        case VIRTIO_BLK_T_WRITE_ZEROES:
                status = do_ranges(b, c, true);
                break;
        default:
                status = VIRTIO_BLK_S_UNSUPP;
                break;
        }
done:
        if (status != VIRTIO_BLK_S_OK)
                b->stats.errors++;
        iov_copy_to(c->iov + c->nout, c->nin, c->in_bytes - 1, &status, 1);
        return written;
}

static void blk_queue_notify(struct virtio_device *vdev, unsigned q)
{
        virtio_queue_process(vdev, q, &to_blk(vdev)->chain, blk_handle);
}

static void blk_config_read(struct virtio_device *vdev, uint32_t off, void *data, unsigned len)
{
        memcpy(data, (const uint8_t *)&to_blk(vdev)->cfg + off, len);
}

static void blk_config_write(struct virtio_device *vdev, uint32_t off, const void *data,
                             unsigned len)
{
        /* writeback is writable only with CONFIG_WCE, which is not offered */
        (void)vdev, (void)off, (void)data, (void)len;
}

static const struct virtio_dev_ops blk_ops = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
                (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_F_INDIRECT_DESC),
    .num_queues = 1,
    .queue_max_size = BLK_QUEUE_SIZE,
    .config_size = sizeof(struct blk_config),
    .config_read = blk_config_read,
    .config_write = blk_config_write,
    .queue_notify = blk_queue_notify,
};

static const struct virtio_dev_ops blk_ro_ops = {
    .name = "blk",
    .device_id = VIRTIO_ID_BLOCK,
    .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_RO) |
                (1ull << VIRTIO_F_INDIRECT_DESC),
    .num_queues = 1,
    .queue_max_size = BLK_QUEUE_SIZE,
    .config_size = sizeof(struct blk_config),
    .config_read = blk_config_read,
    .config_write = blk_config_write,
    .queue_notify = blk_queue_notify,
};

static void blk_destroy(struct virtio_device *vdev)
{
        struct virtio_blk *b = to_blk(vdev);
        b->be->ops->close(b->be);
        blk_image_unlock(&b->locks);
        free(b);
}

void virtio_blk_get_stats(struct virtio_device *vdev, struct virtio_blk_stats *out)
{
        if (vdev->ops->device_id != VIRTIO_ID_BLOCK) {
                memset(out, 0, sizeof(*out));
                return;
        }
        *out = to_blk(vdev)->stats;
}

/* Takes over be and locks, also on failure. */
static struct virtio_device *blk_create(const struct guest_mem *mem, const char *path,
                                        struct blk_backend *be, const struct image_locks *lk,
                                        bool readonly, char *err, size_t errlen)
{
        struct image_locks locks = *lk;
        if (be->size < SECTOR) {
                snprintf(err, errlen, "disk image %s is smaller than one 512-byte sector", path);
                be->ops->close(be);
                blk_image_unlock(&locks);
                return NULL;
        }
        if (!readonly && be->readonly) {
                snprintf(err, errlen, "disk image %s (%s) can only be opened read-only; add ,ro",
                         path, blk_image_format(be));
                be->ops->close(be);
                blk_image_unlock(&locks);
                return NULL;
        }
        struct virtio_blk *b = calloc(1, sizeof(*b));
        if (!b) {
                snprintf(err, errlen, "out of memory creating virtio-blk for %s", path);
                be->ops->close(be);
                blk_image_unlock(&locks);
                return NULL;
        }
        b->head.destroy = blk_destroy;
        b->be = be;
        b->locks = locks;
        b->capacity = be->size / SECTOR;
        virtio_device_init(&b->vdev, readonly ? &blk_ro_ops : &blk_ops, b, mem);
        b->cfg = (struct blk_config){
            .capacity = b->capacity,
            .seg_max = BLK_SEG_MAX,
            .blk_size = SECTOR,
            .num_queues = 1,
            .max_discard_sectors = BLK_MAX_DISCARD_SECTORS,
            .max_discard_seg = BLK_MAX_DISCARD_SEG,
            .discard_sector_alignment = BLK_DISCARD_ALIGN,
            .max_write_zeroes_sectors = BLK_MAX_DISCARD_SECTORS,
            .max_write_zeroes_seg = BLK_MAX_DISCARD_SEG,
            .write_zeroes_may_unmap = 1,
        };
        /* GET_ID: the image's file name, which is what a user recognises */
        char *copy = strdup(path);
        if (copy) {
                const char *name = basename(copy);
                size_t n = strlen(name);
                memcpy(b->serial, name, n < sizeof(b->serial) ? n : sizeof(b->serial));
                free(copy);
        }
        return &b->vdev;
}

struct virtio_device *virtio_blk_create(const struct guest_mem *mem, struct evloop *loop,
                                        const char *path, bool readonly, char *err, size_t errlen)
{
        (void)loop; /* requests complete synchronously */
        struct image_locks locks = {0};
        struct blk_backend *be = blk_raw_open(path, readonly, err, errlen);
        return be ? blk_create(mem, path, be, &locks, readonly, err, errlen) : NULL;
}

struct virtio_device *virtio_blk_create_image(const struct guest_mem *mem, struct evloop *loop,
                                              const char *path, const char *format, bool readonly,
                                              char *err, size_t errlen)
{
        return virtio_blk_create_image_ex(mem, loop, path, format, readonly, false, err, errlen);
}

struct virtio_device *virtio_blk_create_image_ex(const struct guest_mem *mem, struct evloop *loop,
                                                 const char *path, const char *format,
                                                 bool readonly, bool direct, char *err,
                                                 size_t errlen)
{
        (void)loop;
        struct image_locks locks;
        unsigned flags = (readonly ? IMAGE_OPEN_READONLY : 0) | (direct ? IMAGE_OPEN_DIRECT : 0);
        struct blk_backend *be = blk_image_open_ex(path, format, flags, &locks, err, errlen);
        return be ? blk_create(mem, path, be, &locks, readonly, err, errlen) : NULL;
}
