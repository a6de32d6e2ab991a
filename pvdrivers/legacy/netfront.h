/* Guest virtio-net driver over the PV bus (docs/pv-abi.md §4.3): receive
 * queue 0 with NET_RX_BUFS posted 2 KiB buffers, transmit queue 1 with
 * NET_TX_SLOTS copy slots. Nothing here waits: a send takes a free slot or
 * fails at once, and received frames are collected when the device's port
 * fires (the kernel's event loop calls net_front_poll). */
#ifndef TANDEM_PV_NETFRONT_H
#define TANDEM_PV_NETFRONT_H

#include <stdbool.h>
#include <stdint.h>

#define NET_RX_BUFS   8
#define NET_TX_SLOTS  8
#define NET_FRAME_MAX 1514 /* Ethernet without FCS, no offloads negotiated */

/* Finds the first virtio-net device and brings it up; 0 or TPV_E*
 * (TPV_ENODEV: the domain has no network). */
int net_front_init(void);
const uint8_t *net_front_mac(void);
/* Queues one Ethernet frame (14..NET_FRAME_MAX bytes, copied). 0, or
 * TPV_EBUSY when every transmit slot is still with the device, TPV_EINVAL
 * for a bad length, TPV_ENODEV without a device. */
int net_front_send(const void *frame, uint32_t len);
/* Hands every frame the device has completed to fn, then gives the buffers
 * back to the device. Returns the number of frames. */
unsigned net_front_poll(void (*fn)(const uint8_t *frame, uint32_t len));
/* True when received frames wait for net_front_poll although the port may
 * not say so (a send's kick clears the port; see netfront.c). */
bool net_front_rx_waiting(void);
/* Port mask the kernel's event loop waits on (0 without a device). */
uint32_t net_front_port_mask(void);

extern uint32_t net_front_tx_frames, net_front_rx_frames, net_front_tx_busy;

#endif
