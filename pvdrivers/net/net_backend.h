/* Host sides of a virtual NIC. Every backend hands the device one file
 * descriptor that carries one Ethernet frame per read()/writev(): a TAP
 * device, or one end of a SOCK_SEQPACKET pair whose other end is served by
 * a user-mode NAT thread (libslirp) or by a test. The device reads and writes
 * it from the VMM's event loop and never blocks on it. */
#ifndef TANDEM_NET_BACKEND_H
#define TANDEM_NET_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frames carry a 12-byte struct virtio_net_hdr (virtio 1.2 §5.1.6, with
 * num_buffers) in front when vnet_hdr is set. */
#define NET_VNET_HDR_LEN 12

/* Offloads the host side can take from / hand to the guest. */
#define NET_OFFLOAD_CSUM 1u /* partial checksums both ways */
#define NET_OFFLOAD_TSO  2u /* TCP segmentation (v4 and v6) both ways */

struct net_backend {
        int fd;           /* non-blocking, one frame per message */
        bool vnet_hdr;    /* frames are prefixed with the virtio-net header */
        unsigned offload; /* NET_OFFLOAD_* the backend supports */
        char desc[64];    /* "tap tandem0", "user", ... for logs and stats */
        /* Tells the host side which offloads the guest accepted for frames it
         * receives (TUNSETOFFLOAD for TAP). May be NULL. Returns 0 or -errno. */
        int (*set_rx_offload)(struct net_backend *be, unsigned offload);
        void (*destroy)(struct net_backend *be);
};

/* A TAP device IFNAME (created if absent, persistent ones are reused) with a
 * vnet header and the kernel's offloads. */
struct net_backend *net_tap_open(const char *ifname, char *err, size_t errlen);

/* User-mode NAT (libslirp) on 10.0.2.0/24: the guest is 10.0.2.15, the
 * gateway 10.0.2.2 reaches the host's own addresses (127.0.0.1 included),
 * DHCP and DNS are served. hostfwd holds n "tcp::HOSTPORT-:GUESTPORT" (or
 * udp::...) forwards. */
struct net_backend *net_slirp_open(const char *const *hostfwd, unsigned n, char *err,
                                   size_t errlen);

/* Wraps an existing SOCK_SEQPACKET/SOCK_DGRAM socket (taken over, closed on
 * destroy) that carries plain frames without a header. */
struct net_backend *net_socket_open(int fd, char *err, size_t errlen);

void net_backend_destroy(struct net_backend *be);

#endif
