/* The real backends under the device: libslirp answers an ARP request for
 * its gateway and carries a UDP datagram from the "guest" to a listener on
 * the host's loopback; a TAP (when this process may create one) offers the
 * offloads and moves frames both ways, seen from an AF_PACKET socket on the
 * host side. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/harness.h"
#include "../unit/vdriver.h"
#include "devices.h"
#include "evloop.h"
#include "net.h"
#include "virtio_core.h"

#define RAM   (4ull << 20)
#define RXQ   0x1000
#define TXQ   0x3000
#define RXBUF 0x10000
#define TXBUF 0x40000
#define QSIZE 64

static struct guest_mem mem;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct evloop *loop;
static const uint8_t guest_mac[6] = {0x06, 0x54, 0, 0, 0, 0x15};

static void sleep_ms(long ms)
{
        nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000}, NULL);
}

static struct virtio_device *up(struct net_backend *be, struct vd_queue *q)
{
        char err[200];
        struct virtio_device *d = virtio_net_create(&mem, loop, be, guest_mac, err, sizeof(err));
        REQUIRE(d);
        uint64_t f = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) |
                     (1ull << VIRTIO_NET_F_MRG_RXBUF);
        pthread_mutex_lock(&lock);
        memset(mem.base + RXQ, 0, 0x4000);
        vd_queue_init(&q[0], &mem, RXQ, QSIZE);
        vd_queue_init(&q[1], &mem, TXQ, QSIZE);
        REQUIRE(vd_bringup(d, f, q, 2) & VIRTIO_STATUS_DRIVER_OK);
        for (int i = 0; i < 8; i++) {
                struct vd_buf b = {RXBUF + 0x1000ull * i, 2048, true};
                vd_add_chain(&q[0], &b, 1);
        }
        virtio_kick(d, VIRTIO_NET_RXQ);
        pthread_mutex_unlock(&lock);
        return d;
}

static void tx(struct virtio_device *d, struct vd_queue *q, const void *frame, uint32_t len)
{
        static const uint8_t hdr[12];
        pthread_mutex_lock(&lock);
        vd_write(&mem, TXBUF, hdr, 12);
        vd_write(&mem, TXBUF + 0x100, frame, len);
        struct vd_buf b[2] = {{TXBUF, 12, false}, {TXBUF + 0x100, len, false}};
        vd_add_chain(q, b, 2);
        virtio_kick(d, VIRTIO_NET_TXQ);
        pthread_mutex_unlock(&lock);
}

/* Waits for a received frame whose EtherType is type; copies it out. */
static int rx_wait(struct vd_queue *q, uint16_t type, uint8_t *out)
{
        for (int t = 0; t < 3000; t++) {
                uint32_t id, len;
                pthread_mutex_lock(&lock);
                bool got = vd_get_used(q, &id, &len);
                if (got) {
                        uint8_t f[2048];
                        vd_read(&mem, RXBUF + 0x1000ull * (id % 8), f, len);
                        pthread_mutex_unlock(&lock);
                        if (len > 26 && (f[24] << 8 | f[25]) == type) {
                                memcpy(out, f + 12, len - 12);
                                return (int)len - 12;
                        }
                        continue;
                }
                pthread_mutex_unlock(&lock);
                sleep_ms(1);
        }
        return -1;
}

static uint16_t ip_csum(const uint8_t *p, int n)
{
        uint32_t s = 0;
        for (int i = 0; i < n; i += 2)
                s += (uint32_t)p[i] << 8 | p[i + 1];
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return (uint16_t)~s;
}

static void test_slirp(void)
{
        char err[200];
        int lsock = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        REQUIRE(bind(lsock, (struct sockaddr *)&a, sizeof(a)) == 0);
        socklen_t al = sizeof(a);
        getsockname(lsock, (struct sockaddr *)&a, &al);
        uint16_t port = ntohs(a.sin_port);

        const char *bad[] = {"tcp::x-:80"};
        CHECK(net_slirp_open(bad, 1, err, sizeof(err)) == NULL);
        struct net_backend *be = net_slirp_open(NULL, 0, err, sizeof(err));
        REQUIRE(be);
        struct vd_queue q[2];
        struct virtio_device *d = up(be, q);

        /* ARP: who has 10.0.2.2? */
        uint8_t f[128] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        memcpy(f + 6, guest_mac, 6);
        f[12] = 0x08, f[13] = 0x06;
        const uint8_t arp[] = {0, 1, 8, 0, 6, 4, 0, 1};
        memcpy(f + 14, arp, 8);
        memcpy(f + 22, guest_mac, 6);
        memcpy(f + 28, "\x0a\x00\x02\x0f", 4);
        memcpy(f + 38, "\x0a\x00\x02\x02", 4);
        tx(d, &q[1], f, 60);
        uint8_t r[2048];
        int n = rx_wait(&q[0], 0x0806, r);
        CHECK(n >= 42);
        if (n >= 42) {
                CHECK(memcmp(r, guest_mac, 6) == 0);
                CHECK(r[21] == 2 && memcmp(r + 28, "\x0a\x00\x02\x02", 4) == 0);
        }

        /* UDP from 10.0.2.15 to the gateway reaches 127.0.0.1:port */
        const char msg[] = "TICKET 0042 race 3 runner 7 stake 2.50";
        uint8_t p[128] = {0};
        memcpy(p, r + 6, 6); /* the gateway's MAC from the ARP reply */
        memcpy(p + 6, guest_mac, 6);
        p[12] = 0x08;
        uint8_t *ip = p + 14;
        uint16_t ulen = (uint16_t)(8 + sizeof(msg));
        uint16_t tot = (uint16_t)(20 + ulen);
        ip[0] = 0x45, ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot, ip[8] = 64, ip[9] = 17;
        memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
        uint16_t c = ip_csum(ip, 20);
        ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
        uint8_t *u = ip + 20;
        u[0] = 0x30, u[1] = 0x39, u[2] = (uint8_t)(port >> 8), u[3] = (uint8_t)port;
        u[4] = (uint8_t)(ulen >> 8), u[5] = (uint8_t)ulen;
        memcpy(u + 8, msg, sizeof(msg));
        tx(d, &q[1], p, 14 + tot);
        struct timeval tv = {5, 0};
        setsockopt(lsock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char got[128] = "";
        CHECK_EQ(recv(lsock, got, sizeof(got), 0), sizeof(msg));
        CHECK(strcmp(got, msg) == 0);
        struct virtio_net_stats s;
        pthread_mutex_lock(&lock);
        virtio_net_get_stats(d, &s);
        pthread_mutex_unlock(&lock);
        CHECK_EQ(s.tx_packets, 2);
        CHECK(s.rx_packets >= 1);
        pthread_mutex_lock(&lock);
        virtio_device_destroy(d);
        pthread_mutex_unlock(&lock);
        close(lsock);
}

static void test_tap(void)
{
        char err[200], name[16];
        snprintf(name, sizeof(name), "tnt%d", (int)getpid() % 100000);
        struct net_backend *be = net_tap_open(name, err, sizeof(err));
        if (!be) {
                printf("tap part skipped: %s\n", err);
                return;
        }
        CHECK(be->vnet_hdr);
        struct vd_queue q[2];
        struct virtio_device *d = up(be, q);
        CHECK(d->device_features & (1ull << VIRTIO_NET_F_HOST_TSO4));
        CHECK((d->device_features & (1ull << VIRTIO_NET_F_GUEST_CSUM)) ==
              (be->offload & NET_OFFLOAD_CSUM ? (1ull << VIRTIO_NET_F_GUEST_CSUM) : 0));
        int ps = socket(AF_PACKET, SOCK_RAW, htons(0x88b5)); /* local experimental type */
        REQUIRE(ps >= 0);
        struct sockaddr_ll sl = {.sll_family = AF_PACKET,
                                 .sll_protocol = htons(0x88b5),
                                 .sll_ifindex = (int)if_nametoindex(name)};
        REQUIRE(sl.sll_ifindex > 0 && bind(ps, (struct sockaddr *)&sl, sizeof(sl)) == 0);
        uint8_t f[300];
        for (int i = 0; i < 300; i++)
                f[i] = (uint8_t)(i * 13);
        memset(f, 0xff, 6);
        memcpy(f + 6, guest_mac, 6);
        f[12] = 0x88, f[13] = 0xb5;
        tx(d, &q[1], f, 300); /* guest → host */
        struct timeval tv = {5, 0};
        setsockopt(ps, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        uint8_t g[2048];
        CHECK_EQ(recv(ps, g, sizeof(g), 0), 300);
        CHECK(memcmp(g, f, 300) == 0);
        memcpy(f, guest_mac, 6); /* host → guest */
        f[6] = 0x02;
        CHECK_EQ(sendto(ps, f, 200, 0, (struct sockaddr *)&sl, sizeof(sl)), 200);
        int n = rx_wait(&q[0], 0x88b5, g);
        CHECK_EQ(n, 200);
        CHECK(n == 200 && memcmp(g, f, 200) == 0);
        close(ps);
        pthread_mutex_lock(&lock);
        virtio_device_destroy(d);
        pthread_mutex_unlock(&lock);
        /* a non-persistent TAP goes away with its last fd */
        CHECK(if_nametoindex(name) == 0);
}

int main(void)
{
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        loop = evloop_new();
        REQUIRE(loop);
        struct vd_loop_thread th;
        vd_loop_start(&th, loop, &lock);
        test_slirp();
        test_tap();
        vd_loop_stop(&th);
        evloop_free(loop);
        TEST_END();
}
