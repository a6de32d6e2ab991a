/* MAC addresses for virtual NICs, shared by tandem-vmm and tandemd so both
 * derive the same default address for a domain's NIC. */
#ifndef TANDEM_NET_MAC_H
#define TANDEM_NET_MAC_H

#include <stdint.h>

/* "06:54:00:12:34:56" → mac; 0, or -1 (also for multicast addresses). */
int net_mac_parse(const char *s, uint8_t mac[6]);
/* A stable locally administered unicast address derived from a domain name
 * and NIC index (06:54:xx:xx:xx:xx), so a domain keeps its MAC across
 * restarts and hosts. */
void net_mac_for_name(const char *name, unsigned index, uint8_t mac[6]);
void net_mac_format(const uint8_t mac[6], char out[18]);

#endif
