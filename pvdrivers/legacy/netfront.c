#include "netfront.h"

#include "pv.h"

#define QSIZE              8
#define BUF_SIZE           2048
#define HDR_LEN            12 /* virtio 1 net header, num_buffers included */
#define VIRTIO_ID_NET      1
#define VIRTIO_NET_F_MAC   5
#define VIRTIO_F_VERSION_1 32
#define VIRTQ_DESC_F_WRITE 2
#define RX_QUEUE           0
#define TX_QUEUE           1

_Static_assert(NET_RX_BUFS == QSIZE && NET_TX_SLOTS == QSIZE, "one buffer per ring entry");
_Static_assert(HDR_LEN + NET_FRAME_MAX <= BUF_SIZE, "a frame fits one buffer");

struct vq_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
};

/* Split virtqueue layout (virtio 1.2 §2.7). */
struct vring {
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
};

static struct vring rxq __attribute__((aligned(4096)));
static struct vring txq __attribute__((aligned(4096)));
static uint8_t rx_buf[QSIZE][BUF_SIZE] __attribute__((aligned(16)));
static uint8_t tx_buf[QSIZE][BUF_SIZE] __attribute__((aligned(16)));
static bool tx_busy[QSIZE];
static uint16_t rx_last_used, tx_last_used;
static int dev_index = -1;
static unsigned dev_port;
static uint8_t mac[6];
uint32_t net_front_tx_frames, net_front_rx_frames, net_front_tx_busy;

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

static int setup_queue(unsigned q, struct vring *r)
{
        struct tpv_bus_op op = {.opcode = TPV_BUS_QUEUE_SETUP,
                                .queue = q,
                                .value = QSIZE,
                                .desc = TPV_GPA(r->desc),
                                .avail = TPV_GPA(&r->avail),
                                .used = TPV_GPA(&r->used)};
        return bus_op(&op);
}

static bool rx_waiting(void)
{
        return *(volatile uint16_t *)&rxq.used.idx != rx_last_used;
}

/* The notify kicks every queue of the device and clears the device's port,
 * which may also have been set by a frame received meanwhile: such frames
 * are left for net_front_rx_waiting() callers to collect. */
static void kick(void)
{
        tpv_hypercall2(TPV_HC_EVENT_NOTIFY, dev_port, 0);
}

bool net_front_rx_waiting(void)
{
        return dev_index >= 0 && rx_waiting();
}

static void post_rx(uint16_t id)
{
        rxq.avail.ring[rxq.avail.idx % QSIZE] = id;
        barrier(); /* the entry before the index */
        rxq.avail.idx++;
}

int net_front_init(void)
{
        struct tpv_device_info info;
        for (unsigned i = 0; pv_device_info(i, &info) == 0; i++) {
                if (info.type == TPV_DEV_VIRTIO && info.virtio_id == VIRTIO_ID_NET) {
                        dev_index = (int)i;
                        break;
                }
        }
        if (dev_index < 0)
                return TPV_ENODEV;
        int r = TPV_EIO;
        if (info.num_queues < 2 || info.queue_max < QSIZE ||
            PV_PORT_DEVICE0 + (unsigned)dev_index > 31)
                goto fail;
        dev_port = PV_PORT_DEVICE0 + (unsigned)dev_index;
        r = tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_DEVICE(dev_index), dev_port);
        struct tpv_bus_op op = {.opcode = TPV_BUS_RESET};
        if (r < 0 || (r = bus_op(&op)) < 0)
                goto fail;
        set_status(1 | 2); /* ACKNOWLEDGE | DRIVER */
        op = (struct tpv_bus_op){.opcode = TPV_BUS_GET_FEATURES};
        if ((r = bus_op(&op)) < 0)
                goto fail;
        /* No checksum or segmentation offloads, no mergeable buffers: every
         * frame is whole, checksummed and fits one 2 KiB buffer. */
        uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (op.features & (1ull << VIRTIO_NET_F_MAC));
        op = (struct tpv_bus_op){.opcode = TPV_BUS_SET_FEATURES, .features = want};
        if ((r = bus_op(&op)) < 0)
                goto fail;
        set_status(1 | 2 | 8); /* + FEATURES_OK */
        op = (struct tpv_bus_op){.opcode = TPV_BUS_GET_STATUS};
        r = TPV_EIO;
        if (bus_op(&op) < 0 || !(op.value & 8))
                goto fail;
        if ((r = setup_queue(RX_QUEUE, &rxq)) < 0 || (r = setup_queue(TX_QUEUE, &txq)) < 0)
                goto fail;
        if (want & (1ull << VIRTIO_NET_F_MAC)) {
                op = (struct tpv_bus_op){.opcode = TPV_BUS_READ_CONFIG, .offset = 0, .length = 6};
                if ((r = bus_op(&op)) < 0)
                        goto fail;
                for (int i = 0; i < 6; i++)
                        mac[i] = op.data[i];
        } else {
                /* Locally administered, from the device index. */
                mac[0] = 0x06;
                mac[5] = (uint8_t)dev_index;
        }
        for (uint16_t i = 0; i < QSIZE; i++) {
                rxq.desc[i] = (struct vq_desc){TPV_GPA(rx_buf[i]), BUF_SIZE, VIRTQ_DESC_F_WRITE, 0};
                txq.desc[i] = (struct vq_desc){TPV_GPA(tx_buf[i]), 0, 0, 0};
                post_rx(i);
        }
        if ((r = set_status(1 | 2 | 8 | 4)) < 0) /* + DRIVER_OK */
                goto fail;
        kick();
        return 0;
fail:
        dev_index = -1;
        return r < 0 ? r : TPV_EIO;
}

const uint8_t *net_front_mac(void)
{
        return mac;
}

uint32_t net_front_port_mask(void)
{
        return dev_index < 0 ? 0 : 1u << dev_port;
}

static void reclaim_tx(void)
{
        while (*(volatile uint16_t *)&txq.used.idx != tx_last_used) {
                barrier();
                uint32_t id = txq.used.ring[tx_last_used % QSIZE].id;
                if (id < QSIZE)
                        tx_busy[id] = false;
                tx_last_used++;
        }
}

int net_front_send(const void *frame, uint32_t len)
{
        if (dev_index < 0)
                return TPV_ENODEV;
        if (len < 14 || len > NET_FRAME_MAX)
                return TPV_EINVAL;
        reclaim_tx();
        uint16_t slot = QSIZE;
        for (uint16_t i = 0; i < QSIZE; i++) {
                if (!tx_busy[i]) {
                        slot = i;
                        break;
                }
        }
        if (slot == QSIZE) {
                net_front_tx_busy++;
                return TPV_EBUSY;
        }
        uint8_t *b = tx_buf[slot];
        for (unsigned i = 0; i < HDR_LEN; i++)
                b[i] = 0; /* no checksum to complete, no GSO */
        const uint8_t *src = frame;
        for (uint32_t i = 0; i < len; i++)
                b[HDR_LEN + i] = src[i];
        txq.desc[slot].len = HDR_LEN + len;
        tx_busy[slot] = true;
        txq.avail.ring[txq.avail.idx % QSIZE] = slot;
        barrier(); /* descriptor and entry before the index */
        txq.avail.idx++;
        barrier();
        kick();
        net_front_tx_frames++;
        return 0;
}

unsigned net_front_poll(void (*fn)(const uint8_t *frame, uint32_t len))
{
        if (dev_index < 0)
                return 0;
        reclaim_tx();
        unsigned n = 0;
        /* Giving buffers back (the kick) may deliver a frame the device
         * held for want of buffers at once, so look again after it. */
        while (rx_waiting()) {
                while (rx_waiting()) {
                        barrier();
                        uint32_t id = rxq.used.ring[rx_last_used % QSIZE].id;
                        uint32_t len = rxq.used.ring[rx_last_used % QSIZE].len;
                        rx_last_used++;
                        if (id >= QSIZE)
                                continue; /* not a buffer of ours: ignore it */
                        if (len >= HDR_LEN + 14 && len <= BUF_SIZE) {
                                net_front_rx_frames++;
                                fn(rx_buf[id] + HDR_LEN, len - HDR_LEN);
                        }
                        post_rx((uint16_t)id);
                        n++;
                }
                barrier();
                kick();
        }
        return n;
}
