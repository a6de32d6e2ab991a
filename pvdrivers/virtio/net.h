/* virtio-net (virtio 1.2 §5.1): one receive and one transmit queue on a host
 * backend (pvdrivers/net/net_backend.h). The guest's MAC is in config space;
 * mergeable receive buffers, and checksum/TSO offloads where the backend
 * passes the virtio-net header through (TAP). */
#ifndef TANDEM_VIRTIO_NET_H
#define TANDEM_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "../../hv/vmm/evloop.h"
#include "../../hv/vmm/guest_mem.h"
#include "../net/net_backend.h"
#include "virtio_dev.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_CSUM       0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_HOST_ECN   13
#define VIRTIO_NET_F_MRG_RXBUF  15
#define VIRTIO_NET_F_STATUS     16

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_TCPV6    4
#define VIRTIO_NET_HDR_GSO_ECN      0x80

#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* Largest frame without TSO (1500-byte MTU, an 802.1Q tag) and with it. */
#define VIRTIO_NET_MAX_FRAME     1518u
#define VIRTIO_NET_MAX_GSO_FRAME 65550u

struct virtio_net_hdr {
        uint8_t flags;
        uint8_t gso_type;
        uint16_t hdr_len;
        uint16_t gso_size;
        uint16_t csum_start;
        uint16_t csum_offset;
        uint16_t num_buffers;
} __attribute__((packed));

struct virtio_net_config {
        uint8_t mac[6];
        uint16_t status; /* 1 = link up */
        uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct virtio_net_stats {
        uint64_t rx_packets, rx_bytes, rx_dropped; /* dropped: no room in the guest's buffers */
        uint64_t tx_packets, tx_bytes, tx_dropped; /* dropped: the host side was full */
        uint64_t tx_errors;                        /* malformed header, runt, bad offload */
        uint64_t tx_oversized;                     /* frame above the negotiated maximum */
};

/* Takes over be (destroyed with the device). mac is the guest's address. */
struct virtio_device *virtio_net_create(const struct guest_mem *mem, struct evloop *loop,
                                        struct net_backend *be, const uint8_t mac[6], char *err,
                                        size_t errlen);
/* Zeros when vdev is not a virtio-net device. */
void virtio_net_get_stats(struct virtio_device *vdev, struct virtio_net_stats *out);
const char *virtio_net_backend_desc(struct virtio_device *vdev);

#include "../net/net_mac.h"

#endif
