#include "blkfront.h"

#include "pv.h"

#define QSIZE              8
#define VIRTIO_ID_BLOCK    2
#define VIRTIO_BLK_F_RO    5
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_F_VERSION_1 32
#define VIRTQ_DESC_F_NEXT  1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTIO_BLK_T_IN    0
#define VIRTIO_BLK_T_OUT   1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK    0

struct vq_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
};

/* Split virtqueue layout (virtio 1.2 §2.7), in one static block. */
static struct {
        struct vq_desc desc[QSIZE] __attribute__((aligned(16)));
        struct {
                uint16_t flags, idx, ring[QSIZE], used_event;
        } avail __attribute__((aligned(2)));
        struct {
                uint16_t flags, idx;
                struct {
                        uint32_t id, len;
                } ring[QSIZE];
                uint16_t avail_event;
        } used __attribute__((aligned(4)));
} vq __attribute__((aligned(4096)));

static struct {
        uint32_t type, reserved;
        uint64_t sector;
} req_hdr;
static volatile uint8_t req_status;
static int dev_index = -1;
static unsigned dev_port;
static uint16_t last_used;
static uint32_t capacity;
static bool readonly;
static bool has_flush;
uint32_t blk_requests;

#define barrier() __asm__ volatile("" ::: "memory")

static int bus_op(struct tpv_bus_op *op)
{
        return tpv_hypercall2(TPV_HC_BUS_OP, (uint32_t)dev_index, TPV_GPA(op));
}

static int set_status(uint32_t status)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_SET_STATUS, .value = status};
        return bus_op(&op);
}

int blk_init(void)
{
        struct tpv_device_info info;
        for (unsigned i = 0; pv_device_info(i, &info) == 0; i++) {
                if (info.type == TPV_DEV_VIRTIO && info.virtio_id == VIRTIO_ID_BLOCK) {
                        dev_index = (int)i;
                        break;
                }
        }
        if (dev_index < 0)
                return TPV_ENODEV;
        dev_port = PV_PORT_DEVICE0 + (unsigned)dev_index;
        int r = tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_DEVICE(dev_index), dev_port);
        if (r < 0)
                return r;
        struct tpv_bus_op op = {.opcode = TPV_BUS_RESET};
        if ((r = bus_op(&op)) < 0)
                return r;
        set_status(1 | 2); /* ACKNOWLEDGE | DRIVER */
        op = (struct tpv_bus_op){.opcode = TPV_BUS_GET_FEATURES};
        if ((r = bus_op(&op)) < 0)
                return r;
        uint64_t offered = op.features;
        uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
                        (offered & ((1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_FLUSH)));
        readonly = offered & (1ull << VIRTIO_BLK_F_RO);
        has_flush = offered & (1ull << VIRTIO_BLK_F_FLUSH);
        op = (struct tpv_bus_op){.opcode = TPV_BUS_SET_FEATURES, .features = want};
        if ((r = bus_op(&op)) < 0)
                return r;
        set_status(1 | 2 | 8); /* + FEATURES_OK */
        op = (struct tpv_bus_op){.opcode = TPV_BUS_GET_STATUS};
        if (bus_op(&op) < 0 || !(op.value & 8))
                return TPV_EIO;
        op = (struct tpv_bus_op){.opcode = TPV_BUS_QUEUE_SETUP,
                                 .queue = 0,
                                 .value = QSIZE,
                                 .desc = TPV_GPA(vq.desc),
                                 .avail = TPV_GPA(&vq.avail),
                                 .used = TPV_GPA(&vq.used)};
        if ((r = bus_op(&op)) < 0)
                return r;
        op = (struct tpv_bus_op){.opcode = TPV_BUS_READ_CONFIG, .offset = 0, .length = 8};
        if ((r = bus_op(&op)) < 0)
                return r;
        uint64_t cap = 0;
        for (int i = 7; i >= 0; i--)
                cap = (cap << 8) | op.data[i];
        capacity = cap > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)cap;
        return set_status(1 | 2 | 8 | 4); /* + DRIVER_OK */
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
        if (dev_index < 0)
                return TPV_ENODEV;
        req_hdr.type = type;
        req_hdr.reserved = 0;
        req_hdr.sector = lba;
        req_status = 0xFF;
        unsigned n = 0;
        vq.desc[n] = (struct vq_desc){TPV_GPA(&req_hdr), sizeof(req_hdr), VIRTQ_DESC_F_NEXT, 1};
        n++;
        if (count) {
                uint16_t fl =
                    VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0);
                vq.desc[n] = (struct vq_desc){TPV_GPA(buf), count * BLK_SECTOR, fl, 2};
                n++;
        }
        vq.desc[n] = (struct vq_desc){TPV_GPA(&req_status), 1, VIRTQ_DESC_F_WRITE, 0};
        vq.avail.ring[vq.avail.idx % QSIZE] = 0;
        barrier(); /* descriptors and ring entry before the index */
        vq.avail.idx++;
        barrier();
        blk_requests++;
        uint32_t bit = 1u << dev_port;
        uint32_t pending = (uint32_t)tpv_hypercall2(TPV_HC_EVENT_NOTIFY, dev_port, 0);
        (void)pending;
        while (*(volatile uint16_t *)&vq.used.idx == last_used) {
                pv_block(bit);
                if (*(volatile uint16_t *)&vq.used.idx != last_used)
                        break;
                /* Woken without a completion: the device may have given up
                 * on our rings (NEEDS_RESET); never wait forever for it. */
                struct tpv_bus_op op = {.opcode = TPV_BUS_GET_STATUS};
                if (bus_op(&op) < 0 || (op.value & (64 | 128)))
                        return TPV_EIO;
        }
        barrier();
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
