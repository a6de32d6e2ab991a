#include "netfront.h"

#include "pv.h"
#include "pvdev.h"

#define QSIZE            8
#define BUF_SIZE         2048
#define HDR_LEN          12 /* virtio 1 net header, num_buffers included */
#define VIRTIO_ID_NET    1
#define VIRTIO_NET_F_MAC 5
#define RX_QUEUE         0
#define TX_QUEUE         1

_Static_assert(NET_RX_BUFS == QSIZE && NET_TX_SLOTS == QSIZE, "one buffer per ring entry");
_Static_assert(HDR_LEN + NET_FRAME_MAX <= BUF_SIZE, "a frame fits one buffer");

static VRING(QSIZE) rxq __attribute__((aligned(4096))), txq __attribute__((aligned(4096)));
static uint8_t rx_buf[QSIZE][BUF_SIZE] __attribute__((aligned(16)));
static uint8_t tx_buf[QSIZE][BUF_SIZE] __attribute__((aligned(16)));
static bool tx_busy[QSIZE];
static uint16_t rx_last_used, tx_last_used;
static struct pvdev dev = {.index = -1};
static uint8_t mac[6];
uint32_t net_front_tx_frames, net_front_rx_frames, net_front_tx_busy;

static bool rx_waiting(void)
{
        return VRING_USED_IDX(rxq) != rx_last_used;
}

/* The notify kicks every queue of the device and clears the device's port,
 * which may also have been set by a frame received meanwhile: such frames
 * are left for net_front_rx_waiting() callers to collect. */
static void kick(void)
{
        pvdev_kick(&dev);
}

bool net_front_rx_waiting(void)
{
        return dev.index >= 0 && rx_waiting();
}

static void post_rx(uint16_t id)
{
        VRING_PUBLISH(rxq, id);
}

int net_front_init(void)
{
        struct tpv_device_info info;
        int r = pvdev_find(&dev, VIRTIO_ID_NET, &info);
        if (r < 0)
                return r;
        r = TPV_EIO;
        uint64_t offered;
        if (info.num_queues < 2 || info.queue_max < QSIZE || (r = pvdev_start(&dev)) < 0 ||
            (r = pvdev_offered_features(&dev, &offered)) < 0)
                goto fail;
        /* No checksum or segmentation offloads, no mergeable buffers: every
         * frame is whole, checksummed and fits one 2 KiB buffer. */
        uint64_t want = (1ull << VIRTIO_F_VERSION_1) | (offered & (1ull << VIRTIO_NET_F_MAC));
        if ((r = pvdev_accept_features(&dev, want)) < 0 ||
            (r = pvdev_setup_vring(&dev, RX_QUEUE, rxq)) < 0 ||
            (r = pvdev_setup_vring(&dev, TX_QUEUE, txq)) < 0)
                goto fail;
        if (want & (1ull << VIRTIO_NET_F_MAC)) {
                if ((r = pvdev_read_config(&dev, 0, sizeof(mac), mac)) < 0)
                        goto fail;
        } else {
                /* Locally administered, from the device index. */
                mac[0] = 0x06;
                mac[5] = (uint8_t)dev.index;
        }
        for (uint16_t i = 0; i < QSIZE; i++) {
                rxq.desc[i] =
                    (struct vring_desc){TPV_GPA(rx_buf[i]), BUF_SIZE, VIRTQ_DESC_F_WRITE, 0};
                txq.desc[i] = (struct vring_desc){TPV_GPA(tx_buf[i]), 0, 0, 0};
                post_rx(i);
        }
        if ((r = pvdev_ready(&dev)) < 0)
                goto fail;
        kick();
        return 0;
fail:
        dev.index = -1;
        return r < 0 ? r : TPV_EIO;
}

const uint8_t *net_front_mac(void)
{
        return mac;
}

uint32_t net_front_port_mask(void)
{
        return dev.index < 0 ? 0 : 1u << dev.port;
}

static void reclaim_tx(void)
{
        while (VRING_USED_IDX(txq) != tx_last_used) {
                barrier();
                uint32_t id = txq.used.ring[tx_last_used % QSIZE].id;
                if (id < QSIZE)
                        tx_busy[id] = false;
                tx_last_used++;
        }
}

int net_front_send(const void *frame, uint32_t len)
{
        if (dev.index < 0)
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
        VRING_PUBLISH(txq, slot);
        kick();
        net_front_tx_frames++;
        return 0;
}

unsigned net_front_poll(void (*fn)(const uint8_t *frame, uint32_t len))
{
        if (dev.index < 0)
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
