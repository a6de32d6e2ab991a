/* Per-NIC counters in the VMM's "stats" control reply: a "net" array with
 * one object per virtio-net device, in --net order (docs/net.md). */
#ifndef TANDEM_NET_STATS_H
#define TANDEM_NET_STATS_H

struct control;
struct virtio_device;

/* Adds nic to the reply; the first call registers the stats hook. Nothing
 * to do without a control socket (ctl NULL). 0, or -1 when full. */
int net_stats_add(struct control *ctl, struct virtio_device *nic);

#endif
