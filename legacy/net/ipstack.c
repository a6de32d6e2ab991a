#include "ipstack.h"

#include "../../pvdrivers/legacy/include/tandem_pv.h"
#include "../kernel/lib.h"

#define ETH_HLEN    14
#define ETH_P_IP    0x0800
#define ETH_P_ARP   0x0806
#define IP_HLEN     20
#define UDP_HLEN    8
#define IPPROTO_UDP 17
#define ARP_LEN     28
#define NEIGHBOURS  4
#define HELD_MAX    4
#define FRAME_MAX   (ETH_HLEN + IP_HLEN + UDP_HLEN + UDP_PAYLOAD_MAX)

struct neighbour {
        uint32_t ip;
        uint8_t mac[6];
};

/* A datagram waiting for its next hop's MAC: the whole frame, built with
 * the destination MAC left to fill in. */
struct held {
        uint32_t next_hop, len;
        uint8_t frame[FRAME_MAX];
};

static struct net_config cfg;
static uint8_t my_mac[6];
static int (*wire_send)(const void *, uint32_t);
static struct neighbour neigh[NEIGHBOURS];
static unsigned neigh_next;
static struct held held[HELD_MAX];
static unsigned nheld;
static uint16_t ip_id;
struct ip_counters ip_counters;

static const uint8_t broadcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
        put16(p, (uint16_t)(v >> 16));
        put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Internet checksum (RFC 1071) over len bytes, continuing from sum. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
        for (uint32_t i = 0; i + 1 < len; i += 2)
                sum += get16(p + i);
        if (len & 1)
                sum += (uint32_t)p[len - 1] << 8;
        return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xFFFF) + (sum >> 16);
        return (uint16_t)~sum;
}

static void eth_header(uint8_t *f, const uint8_t *dst, uint16_t type)
{
        memcpy(f, dst, 6);
        memcpy(f + 6, my_mac, 6);
        put16(f + 12, type);
}

static const uint8_t *neighbour_mac(uint32_t ip)
{
        for (unsigned i = 0; i < NEIGHBOURS; i++)
                if (neigh[i].ip == ip)
                        return neigh[i].mac;
        return NULL;
}

static void send_held(uint32_t ip, const uint8_t *mac);

static void learn(uint32_t ip, const uint8_t *mac)
{
        struct neighbour *n = NULL;
        for (unsigned i = 0; i < NEIGHBOURS && !n; i++)
                if (neigh[i].ip == ip)
                        n = &neigh[i];
        if (!n) {
                n = &neigh[neigh_next];
                neigh_next = (neigh_next + 1) % NEIGHBOURS;
        }
        n->ip = ip;
        memcpy(n->mac, mac, 6);
        send_held(ip, mac);
}

static void arp_send(uint16_t op, const uint8_t *dst_mac, const uint8_t *target_mac,
                     uint32_t target_ip)
{
        uint8_t f[ETH_HLEN + ARP_LEN + 18] = {0}; /* padded to the 60-byte minimum */
        eth_header(f, dst_mac, ETH_P_ARP);
        uint8_t *a = f + ETH_HLEN;
        put16(a, 1); /* Ethernet */
        put16(a + 2, ETH_P_IP);
        a[4] = 6;
        a[5] = 4;
        put16(a + 6, op);
        memcpy(a + 8, my_mac, 6);
        put32(a + 14, cfg.addr);
        memcpy(a + 18, target_mac, 6);
        put32(a + 24, target_ip);
        if (op == 1)
                ip_counters.arp_requests++;
        else
                ip_counters.arp_replies++;
        wire_send(f, sizeof(f));
}

static void arp_ask(uint32_t ip)
{
        static const uint8_t zero[6];
        arp_send(1, broadcast, zero, ip);
}

static void send_held(uint32_t ip, const uint8_t *mac)
{
        unsigned kept = 0;
        for (unsigned i = 0; i < nheld; i++) {
                if (held[i].next_hop == ip) {
                        memcpy(held[i].frame, mac, 6);
                        if (wire_send(held[i].frame, held[i].len) < 0)
                                ip_counters.dropped++;
                        else
                                ip_counters.udp_sent++;
                } else {
                        if (kept != i)
                                held[kept] = held[i];
                        kept++;
                }
        }
        nheld = kept;
}

void ip_start(const struct net_config *c, const uint8_t mac[6],
              int (*send)(const void *frame, uint32_t len))
{
        cfg = *c;
        memcpy(my_mac, mac, 6);
        wire_send = send;
        if (cfg.gateway)
                arp_ask(cfg.gateway);
}

static void arp_input(const uint8_t *a, uint32_t len)
{
        if (len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_P_IP || a[4] != 6 || a[5] != 4)
                return;
        uint16_t op = get16(a + 6);
        uint32_t sender = get32(a + 14), target = get32(a + 24);
        if (target != cfg.addr || sender == 0)
                return;
        /* RFC 826: whoever asks us or answers us is worth remembering. */
        learn(sender, a + 8);
        if (op == 1)
                arp_send(2, a + 8, a + 8, sender);
}

void ip_input(const uint8_t *frame, uint32_t len)
{
        if (len < ETH_HLEN || !cfg.addr) {
                ip_counters.rx_ignored++;
                return;
        }
        if (get16(frame + 12) == ETH_P_ARP)
                arp_input(frame + ETH_HLEN, len - ETH_HLEN);
        else
                ip_counters.rx_ignored++; /* nothing listens for IP here yet */
}

int ip_udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const void *data, uint32_t len)
{
        static uint8_t f[FRAME_MAX];
        if (len > UDP_PAYLOAD_MAX || !cfg.addr)
                return TPV_EINVAL;
        uint32_t next_hop = dst;
        if ((dst & cfg.mask) != (cfg.addr & cfg.mask)) {
                if (!cfg.gateway)
                        return TPV_EINVAL; /* no route */
                next_hop = cfg.gateway;
        }
        uint32_t ulen = UDP_HLEN + len, tlen = IP_HLEN + ulen;
        uint8_t *ip = f + ETH_HLEN, *udp = ip + IP_HLEN;
        memset(f, 0, ETH_HLEN + IP_HLEN + UDP_HLEN);
        ip[0] = 0x45; /* IPv4, 5-word header */
        put16(ip + 2, (uint16_t)tlen);
        put16(ip + 4, ++ip_id);
        put16(ip + 6, 0x4000); /* don't fragment */
        ip[8] = 64;
        ip[9] = IPPROTO_UDP;
        put32(ip + 12, cfg.addr);
        put32(ip + 16, dst);
        put16(ip + 10, csum_fold(csum_add(0, ip, IP_HLEN)));
        put16(udp, sport);
        put16(udp + 2, dport);
        put16(udp + 4, (uint16_t)ulen);
        memcpy(udp + UDP_HLEN, data, len);
        /* Checksum over the pseudo-header (RFC 768) and the datagram. */
        uint32_t sum = csum_add(0, ip + 12, 8) + IPPROTO_UDP + ulen;
        uint16_t c = csum_fold(csum_add(sum, udp, ulen));
        put16(udp + 6, c ? c : 0xFFFF);
        uint32_t flen = ETH_HLEN + tlen;
        if (flen < 60) {
                memset(f + flen, 0, 60 - flen);
                flen = 60;
        }
        const uint8_t *mac = neighbour_mac(next_hop);
        if (!mac) {
                if (nheld == HELD_MAX) {
                        ip_counters.dropped++;
                        arp_ask(next_hop);
                        return TPV_ENOSPC;
                }
                eth_header(f, broadcast, ETH_P_IP);
                held[nheld].next_hop = next_hop;
                held[nheld].len = flen;
                memcpy(held[nheld].frame, f, flen);
                nheld++;
                ip_counters.held++;
                arp_ask(next_hop);
                return 0;
        }
        eth_header(f, mac, ETH_P_IP);
        int r = wire_send(f, flen);
        if (r < 0) {
                ip_counters.dropped++;
                return r;
        }
        ip_counters.udp_sent++;
        return 0;
}
