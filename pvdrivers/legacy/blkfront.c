#include "blkfront.h"

#include "pv.h"
#include "pvdev.h"

#define QSIZE              8
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_BLK_F_RO    5
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_T_IN    0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK    0

static VRING(QSIZE) vq __attribute__((aligned(4096)));

static struct {
        uint32_t type, reserved;
        uint64_t sector;
} req_hdr;
static volatile uint8_t req_status;
static struct pvdev dev = {.index = -1};
static uint16_t last_used;
static uint32_t capacity;
static bool readonly;
static bool has_flush;
uint32_t blk_requests;

int blk_init(void)
{
        int r;
        uint64_t offered;
        if ((r = pvdev_find(&dev, VIRTIO_ID_BLOCK, 0)) < 0 || (r = pvdev_start(&dev)) < 0 ||
            (r = pvdev_offered_features(&dev, &offered)) < 0)
                return r;
        uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
                        (offered & ((1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_FLUSH)));
        readonly = offered & (1ull << VIRTIO_BLK_F_RO);
        has_flush = offered & (1ull << VIRTIO_BLK_F_FLUSH);
        uint8_t cap_le[8];
        if ((r = pvdev_accept_features(&dev, want)) < 0 ||
            (r = pvdev_setup_vring(&dev, 0, vq)) < 0 ||
            (r = pvdev_read_config(&dev, 0, sizeof(cap_le), cap_le)) < 0)
                return r;
        uint64_t cap = 0;
        for (int i = 7; i >= 0; i--)
                cap = (cap << 8) | cap_le[i];
        capacity = cap > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)cap;
        return pvdev_ready(&dev);
}

uint32_t blk_sectors(void)
{
        return capacity;
}

bool blk_readonly(void)
{
        return readonly;
}

static int submit(uint32_t type, uint32_t lba, void *buf, uint32_t count)
{
        if (dev.index < 0)
                return TPV_ENODEV;
        req_hdr.type = type;
        req_hdr.reserved = 0;
        req_hdr.sector = lba;
        req_status = 0xFF;
        unsigned n = 0;
        vq.desc[n] = (struct vring_desc){TPV_GPA(&req_hdr), sizeof(req_hdr), VIRTQ_DESC_F_NEXT, 1};
        n++;
        if (count) {
                uint16_t fl =
                    VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0);
                vq.desc[n] = (struct vring_desc){TPV_GPA(buf), count * BLK_SECTOR, fl, 2};
                n++;
        }
        vq.desc[n] = (struct vring_desc){TPV_GPA(&req_status), 1, VIRTQ_DESC_F_WRITE, 0};
        VRING_PUBLISH(vq, 0);
        blk_requests++;
        pvdev_kick(&dev);
        if (pvdev_wait_used(&dev, &VRING_USED_IDX(vq), last_used) < 0)
                return TPV_EIO;
        last_used++;
        return req_status == VIRTIO_BLK_S_OK ? 0 : TPV_EIO;
}

int blk_read(uint32_t lba, void *buf, uint32_t count)
{
        if (count == 0 || lba >= capacity || count > capacity - lba)
                return TPV_EINVAL;
        return submit(VIRTIO_BLK_T_IN, lba, buf, count);
}

int blk_write(uint32_t lba, const void *buf, uint32_t count)
{
        if (count == 0 || lba >= capacity || count > capacity - lba)
                return TPV_EINVAL;
        if (readonly)
                return TPV_EPERM;
        return submit(VIRTIO_BLK_T_OUT, lba, (void *)buf, count);
}

int blk_flush(void)
{
        if (!has_flush)
                return 0;
        return submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
}
