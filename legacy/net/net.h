/* The legacy guest's network service: NET.CFG, the PV NIC and the IPv4
 * stack, and the sale summary datagram the terminal sends (docs/net.md,
 * "Legacy guest"). Without a NIC or NET.CFG everything here is a no-op. */
#ifndef LEGACY_NET_NET_H
#define LEGACY_NET_NET_H

#include <stdbool.h>
#include <stdint.h>

#define NET_CFG_FILE      "NET.CFG"
#define NET_SUMMARY_MAGIC "TANDEM-SALE 1\r\n"
#define NET_SUMMARY_SPORT 4660 /* the guest's UDP source port */

/* After the data disk is mounted (disk_ok) or refused. */
void net_start(bool disk_ok);
uint32_t net_port_mask(void);
/* The NIC's port fired: take in what it received. */
void net_event(void);
/* Sends NET_SUMMARY_MAGIC followed by the sale's ticket record (exactly as
 * in TICKETS.DAT) to SUMMARY= of NET.CFG. Never waits; a datagram that
 * cannot go out is counted and logged. */
void net_ticket_summary(const char *record, uint32_t len);

#endif
