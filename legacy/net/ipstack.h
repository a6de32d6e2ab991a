/* A minimal IPv4 stack for the legacy guest: ARP (asks, answers, caches a
 * few neighbours), IPv4 without fragments or options, UDP send. It never
 * waits: a datagram whose next hop has no MAC yet is held (a few of them)
 * and goes out when the ARP reply arrives. */
#ifndef LEGACY_NET_IPSTACK_H
#define LEGACY_NET_IPSTACK_H

#include <stdint.h>

#include "netcfg.h"

#define UDP_PAYLOAD_MAX 1472 /* 1500 - IPv4 header - UDP header */

/* mac: this interface's address; send: puts one Ethernet frame on the
 * wire (0 or negative). Asks ARP for the gateway at once. */
void ip_start(const struct net_config *c, const uint8_t mac[6],
              int (*send)(const void *frame, uint32_t len));
/* One received Ethernet frame. */
void ip_input(const uint8_t *frame, uint32_t len);
/* Sends (or holds until ARP answers) one UDP datagram; addresses in host
 * byte order. 0, or TPV_EINVAL (too long), TPV_ENOSPC (hold queue full),
 * TPV_EBUSY (the NIC's transmit slots are all busy). */
int ip_udp_send(uint32_t dst, uint16_t sport, uint16_t dport, const void *data, uint32_t len);

struct ip_counters {
        uint32_t arp_requests, arp_replies, udp_sent, held, dropped, rx_ignored;
};
extern struct ip_counters ip_counters;

#endif
