/* virtio-net driven through real rings in real guest memory, with a real
 * event loop thread and a real SOCK_SEQPACKET pair as the wire: transmit
 * (with a completed partial checksum), mergeable and single-buffer receive,
 * a frame held back until buffers arrive, and the attacks: short headers,
 * oversized frames, offloads that were not negotiated, and broken rings
 * (NEEDS_RESET, then recovery by reset). */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/harness.h"
#include "../unit/vdriver.h"
#include "evloop.h"
#include "devices.h"
#include "net.h"
#include "virtio_core.h"

#define RAM    (4ull << 20)
#define RXQ    0x1000
#define TXQ    0x3000
#define RXBUF  0x10000
#define TXBUF  0x40000
#define QSIZE  64
#define HDRLEN 12

static struct guest_mem mem;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct evloop *loop;

static void fill_frame(uint8_t *f, size_t len, uint8_t seed)
{
        for (size_t i = 0; i < len; i++)
                f[i] = (uint8_t)(seed + i * 7);
        memcpy(f, "\x06\x54\x01\x02\x03\x04\x02\x00\x00\x00\x00\x01\x08\x00", 14);
}

/* Sends one frame from the "guest": header + data in two descriptors. */
static void guest_tx(struct virtio_device *d, struct vd_queue *q, const struct virtio_net_hdr *h,
                     const uint8_t *frame, uint32_t len)
{
        pthread_mutex_lock(&lock);
        vd_write(&mem, TXBUF, h, HDRLEN);
        vd_write(&mem, TXBUF + 0x100, frame, len);
        struct vd_buf b[2] = {{TXBUF, HDRLEN, false}, {TXBUF + 0x100, len, false}};
        vd_add_chain(q, b, 2);
        virtio_kick(d, VIRTIO_NET_TXQ);
        pthread_mutex_unlock(&lock);
}

static ssize_t host_recv(int fd, uint8_t *buf, size_t len)
{
        for (int i = 0; i < 200; i++) {
                ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
                if (n >= 0)
                        return n;
                nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
        return -1;
}

static void post_rx(struct virtio_device *d, struct vd_queue *q, uint64_t gpa, uint32_t len)
{
        pthread_mutex_lock(&lock);
        struct vd_buf b = {gpa, len, true};
        vd_add_chain(q, &b, 1);
        virtio_kick(d, VIRTIO_NET_RXQ);
        pthread_mutex_unlock(&lock);
}

static struct virtio_net_stats stats(struct virtio_device *d)
{
        struct virtio_net_stats s;
        pthread_mutex_lock(&lock);
        virtio_net_get_stats(d, &s);
        pthread_mutex_unlock(&lock);
        return s;
}

static uint8_t bringup(struct virtio_device *d, uint64_t feat, struct vd_queue *qs)
{
        pthread_mutex_lock(&lock);
        memset(mem.base + RXQ, 0, 0x4000);
        vd_queue_init(&qs[0], &mem, RXQ, QSIZE);
        vd_queue_init(&qs[1], &mem, TXQ, QSIZE);
        uint8_t st = vd_bringup(d, feat, qs, 2);
        pthread_mutex_unlock(&lock);
        return st;
}

int main(void)
{
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        loop = evloop_new();
        REQUIRE(loop);
        int sv[2];
        REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
        char err[200];
        uint8_t mac[6];
        CHECK(net_mac_parse("06:54:00:aa:bb:cc", mac) == 0);
        CHECK(net_mac_parse("07:54:00:aa:bb:cc", mac) < 0); /* multicast */
        CHECK(net_mac_parse("06:54:00:aa:bb", mac) < 0);
        CHECK(net_mac_parse("06:54:00:aa:bb:cc:dd", mac) < 0);
        uint8_t m1[6], m2[6], m3[6];
        net_mac_for_name("alpha", 0, m1);
        net_mac_for_name("alpha", 0, m2);
        net_mac_for_name("beta", 0, m3);
        CHECK(memcmp(m1, m2, 6) == 0 && memcmp(m1, m3, 6) != 0 && (m1[0] & 3) == 2);

        CHECK(virtio_net_create(&mem, NULL, NULL, mac, err, sizeof(err)) == NULL);
        struct net_backend *be = net_socket_open(sv[0], err, sizeof(err));
        REQUIRE(be);
        REQUIRE(net_mac_parse("06:54:00:aa:bb:cc", mac) == 0);
        struct virtio_device *d = virtio_net_create(&mem, loop, be, mac, err, sizeof(err));
        REQUIRE(d);
        struct vd_loop_thread th;
        vd_loop_start(&th, loop, &lock);

        /* a backend without a header offers no segmentation and no guest csum */
        CHECK(d->device_features & (1ull << VIRTIO_NET_F_MRG_RXBUF));
        CHECK(d->device_features & (1ull << VIRTIO_NET_F_CSUM));
        CHECK(!(d->device_features & (1ull << VIRTIO_NET_F_HOST_TSO4)));
        CHECK(!(d->device_features & (1ull << VIRTIO_NET_F_GUEST_CSUM)));
        struct virtio_net_config cfg;
        d->ops->config_read(d, 0, &cfg, sizeof(cfg));
        CHECK(memcmp(cfg.mac, mac, 6) == 0 && cfg.status == 1);

        uint64_t feat = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) |
                        (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_CSUM) |
                        (1ull << VIRTIO_NET_F_STATUS);
        /* TSO was not offered: FEATURES_OK is refused */
        struct vd_queue q[2];
        CHECK(
            !(bringup(d, feat | (1ull << VIRTIO_NET_F_HOST_TSO4), q) & VIRTIO_STATUS_FEATURES_OK));
        CHECK(bringup(d, feat, q) & VIRTIO_STATUS_DRIVER_OK);

        /* transmit: the frame arrives exactly, header stripped */
        uint8_t frame[2048], got[4096];
        fill_frame(frame, 1000, 1);
        struct virtio_net_hdr h = {0};
        guest_tx(d, &q[1], &h, frame, 1000);
        CHECK(vd_wait_used(&q[1], &lock, 1, 3000));
        CHECK_EQ(host_recv(sv[1], got, sizeof(got)), 1000);
        CHECK(memcmp(got, frame, 1000) == 0);

        /* a partial checksum is completed for a backend without a header */
        fill_frame(frame, 200, 9);
        frame[40] = frame[41] = 0;
        h = (struct virtio_net_hdr){
            .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
        guest_tx(d, &q[1], &h, frame, 200);
        CHECK(vd_wait_used(&q[1], &lock, 2, 3000));
        CHECK_EQ(host_recv(sv[1], got, sizeof(got)), 200);
        uint32_t sum = 0;
        for (int i = 34; i < 200; i += 2)
                sum += (uint32_t)got[i] << 8 | got[i + 1];
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        CHECK_EQ(sum, 0xffff);

        /* attacks on transmit: answered, counted, nothing reaches the wire */
        h = (struct virtio_net_hdr){.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                    .gso_size = 1400,
                                    .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                    .csum_start = 34,
                                    .csum_offset = 16};
        guest_tx(d, &q[1], &h, frame, 200); /* segmentation never negotiated */
        h = (struct virtio_net_hdr){
            .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 190, .csum_offset = 20};
        guest_tx(d, &q[1], &h, frame, 200); /* checksum field past the end */
        h = (struct virtio_net_hdr){0};
        guest_tx(d, &q[1], &h, frame, 2000); /* above 1518 without TSO */
        guest_tx(d, &q[1], &h, frame, 10);   /* a runt */
        pthread_mutex_lock(&lock);
        struct vd_buf shorthdr = {TXBUF, 6, false}; /* header cut short */
        vd_add_chain(&q[1], &shorthdr, 1);
        virtio_kick(d, VIRTIO_NET_TXQ);
        pthread_mutex_unlock(&lock);
        CHECK(vd_wait_used(&q[1], &lock, 7, 3000));
        struct virtio_net_stats s = stats(d);
        CHECK_EQ(s.tx_packets, 2);
        CHECK_EQ(s.tx_errors, 4);
        CHECK_EQ(s.tx_oversized, 1);
        CHECK(host_recv(sv[1], got, sizeof(got)) < 0);
        CHECK(!(d->status & VIRTIO_STATUS_NEEDS_RESET));

        /* receive, mergeable: 1012 bytes need two 512-byte buffers */
        post_rx(d, &q[0], RXBUF, 512);
        post_rx(d, &q[0], RXBUF + 0x1000, 512);
        post_rx(d, &q[0], RXBUF + 0x2000, 512);
        fill_frame(frame, 1000, 3);
        CHECK_EQ(send(sv[1], frame, 1000, 0), 1000);
        CHECK(vd_wait_used(&q[0], &lock, 2, 3000));
        uint32_t id, len;
        pthread_mutex_lock(&lock);
        CHECK(vd_get_used(&q[0], &id, &len) && len == 512);
        CHECK(vd_get_used(&q[0], &id, &len) && len == 500);
        struct virtio_net_hdr rh;
        vd_read(&mem, RXBUF, &rh, HDRLEN);
        CHECK_EQ(rh.num_buffers, 2);
        vd_read(&mem, RXBUF + HDRLEN, got, 500);
        vd_read(&mem, RXBUF + 0x1000, got + 500, 500);
        pthread_mutex_unlock(&lock);
        CHECK(memcmp(got, frame, 1000) == 0);

        /* a frame that finds too little room waits for more buffers */
        fill_frame(frame, 1400, 5);
        CHECK_EQ(send(sv[1], frame, 1400, 0), 1400);
        nanosleep(&(struct timespec){0, 50000000}, NULL);
        pthread_mutex_lock(&lock);
        CHECK_EQ(vd_used_idx(&q[0]), 2);
        pthread_mutex_unlock(&lock);
        post_rx(d, &q[0], RXBUF + 0x3000, 2048);
        CHECK(vd_wait_used(&q[0], &lock, 4, 3000));
        pthread_mutex_lock(&lock);
        CHECK(vd_get_used(&q[0], &id, &len) && len == 512);
        CHECK(vd_get_used(&q[0], &id, &len) && len == 1412 - 512);
        vd_read(&mem, RXBUF + 0x2000 + HDRLEN, got, 500);
        vd_read(&mem, RXBUF + 0x3000, got + 500, 900);
        pthread_mutex_unlock(&lock);
        CHECK(memcmp(got, frame, 1400) == 0);
        s = stats(d);
        CHECK_EQ(s.rx_packets, 2);
        CHECK_EQ(s.rx_bytes, 2400);

        /* without MRG_RXBUF a frame needs one buffer; a smaller one is dropped */
        CHECK(bringup(d, feat & ~(1ull << VIRTIO_NET_F_MRG_RXBUF), q) & VIRTIO_STATUS_DRIVER_OK);
        post_rx(d, &q[0], RXBUF, 256);
        post_rx(d, &q[0], RXBUF + 0x1000, 2048);
        CHECK_EQ(send(sv[1], frame, 600, 0), 600);
        CHECK_EQ(send(sv[1], frame, 600, 0), 600);
        CHECK(vd_wait_used(&q[0], &lock, 2, 3000));
        pthread_mutex_lock(&lock);
        CHECK(vd_get_used(&q[0], &id, &len) && len == 0);
        CHECK(vd_get_used(&q[0], &id, &len) && len == 612);
        pthread_mutex_unlock(&lock);
        CHECK_EQ(stats(d).rx_dropped, 1);

        /* broken rings: NEEDS_RESET, the VMM goes on, a reset recovers */
        pthread_mutex_lock(&lock);
        vd_set_desc(&q[1], 5, RAM - 8, 64, 0, 0); /* buffer runs past RAM */
        vd_publish(&q[1], 5);
        virtio_kick(d, VIRTIO_NET_TXQ);
        CHECK(d->status & VIRTIO_STATUS_NEEDS_RESET);
        pthread_mutex_unlock(&lock);
        CHECK(bringup(d, feat, q) & VIRTIO_STATUS_DRIVER_OK);
        pthread_mutex_lock(&lock);
        vd_set_desc(&q[1], 3, TXBUF, 64, VD_NEXT, 3); /* a self loop */
        vd_publish(&q[1], 3);
        virtio_kick(d, VIRTIO_NET_TXQ);
        CHECK(d->status & VIRTIO_STATUS_NEEDS_RESET);
        pthread_mutex_unlock(&lock);
        CHECK(bringup(d, feat, q) & VIRTIO_STATUS_DRIVER_OK);
        pthread_mutex_lock(&lock);
        vd_set_desc(&q[0], 0, 0xFFFFFFFFFFFFF000ull, 4096, VD_WRITE, 0); /* wraps */
        vd_publish(&q[0], 0);
        virtio_kick(d, VIRTIO_NET_RXQ);
        pthread_mutex_unlock(&lock);
        CHECK_EQ(send(sv[1], frame, 100, 0), 100);
        bool reset_seen = false;
        for (int i = 0; i < 2000 && !reset_seen; i++) {
                pthread_mutex_lock(&lock);
                reset_seen = d->status & VIRTIO_STATUS_NEEDS_RESET;
                pthread_mutex_unlock(&lock);
                nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
        CHECK(reset_seen);
        pthread_mutex_lock(&lock);
        vd_publish(&q[0], 70); /* head beyond the queue: ignored while broken */
        virtio_kick(d, VIRTIO_NET_RXQ);
        pthread_mutex_unlock(&lock);

        /* after a reset the device works again */
        CHECK(bringup(d, feat, q) & VIRTIO_STATUS_DRIVER_OK);
        fill_frame(frame, 300, 8);
        h = (struct virtio_net_hdr){0};
        guest_tx(d, &q[1], &h, frame, 300);
        CHECK(vd_wait_used(&q[1], &lock, 1, 3000));
        CHECK_EQ(host_recv(sv[1], got, sizeof(got)), 300);
        CHECK(memcmp(got, frame, 300) == 0);

        vd_loop_stop(&th);
        virtio_device_destroy(d);
        evloop_free(loop);
        close(sv[1]);
        TEST_END();
}
