/* The legacy guest's network settings: NET.CFG in the data disk's root
 * directory (docs/net.md, "Legacy guest"), lines of KEY=VALUE:
 *   ADDRESS=10.0.2.15/24   this guest's IPv4 address and prefix length
 *   GATEWAY=10.0.2.2       next hop for other networks (optional)
 *   SUMMARY=10.0.2.2:5555  where each sale's summary datagram goes (optional)
 * Blank lines and lines starting with '#' are ignored. */
#ifndef LEGACY_NET_NETCFG_H
#define LEGACY_NET_NETCFG_H

#include <stdbool.h>
#include <stdint.h>

struct net_config {
        uint32_t addr, mask, gateway; /* host byte order; gateway 0 = none */
        uint32_t summary_addr;        /* 0 = no summaries */
        uint16_t summary_port;
};

/* Parses the text of NET.CFG. Returns 0, or -1 with *why naming the first
 * bad line's problem and *line its number. */
int netcfg_parse(const char *text, uint32_t len, struct net_config *c, const char **why,
                 unsigned *line);
/* Formats a host-order address as dotted quad (out holds 16 bytes). */
void netcfg_format_ip(uint32_t a, char out[16]);

#endif
