/* TAP backend: a Linux tun/tap device in TAP mode with IFF_VNET_HDR, so the
 * virtio-net header (and with it checksum and segmentation offloads) passes
 * between the guest and the host stack unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_backend.h"

static int tap_set_rx_offload(struct net_backend *be, unsigned offload)
{
        unsigned long f = 0;
        if (offload & NET_OFFLOAD_CSUM)
                f |= TUN_F_CSUM;
        if ((offload & NET_OFFLOAD_TSO) && (offload & NET_OFFLOAD_CSUM))
                f |= TUN_F_TSO4 | TUN_F_TSO6;
        return ioctl(be->fd, TUNSETOFFLOAD, f) < 0 ? -errno : 0;
}

static void tap_destroy(struct net_backend *be)
{
        close(be->fd);
        free(be);
}

/* The device is useless while down; bringing it up is what `ip link set up`
 * would do, and tandemd (or the user) still decides where it is attached. */
static void tap_link_up(const char *ifname)
{
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
                ifr.ifr_flags |= IFF_UP;
                ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        close(s);
}

struct net_backend *net_tap_open(const char *ifname, char *err, size_t errlen)
{
        if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
                snprintf(err, errlen, "tap: interface name '%s' is empty or longer than %d",
                         ifname ? ifname : "", IFNAMSIZ - 1);
                return NULL;
        }
        struct net_backend *be = calloc(1, sizeof(*be));
        if (!be) {
                snprintf(err, errlen, "tap %s: out of memory", ifname);
                return NULL;
        }
        be->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (be->fd < 0) {
                snprintf(err, errlen, "tap %s: cannot open /dev/net/tun: %s", ifname,
                         strerror(errno));
                free(be);
                return NULL;
        }
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        int hdr = NET_VNET_HDR_LEN;
        if (ioctl(be->fd, TUNSETIFF, &ifr) < 0 || ioctl(be->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
                snprintf(err, errlen, "tap %s: %s", ifname,
                         errno == EPERM ? "not allowed (needs CAP_NET_ADMIN or a tap owned by "
                                          "this user)"
                                        : strerror(errno));
                close(be->fd);
                free(be);
                return NULL;
        }
        be->vnet_hdr = true;
        be->set_rx_offload = tap_set_rx_offload;
        be->destroy = tap_destroy;
        /* probe what the kernel accepts, then start with none until the guest
         * says what it can take */
        if (ioctl(be->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0)
                be->offload = NET_OFFLOAD_CSUM | NET_OFFLOAD_TSO;
        else if (ioctl(be->fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0)
                be->offload = NET_OFFLOAD_CSUM;
        ioctl(be->fd, TUNSETOFFLOAD, 0);
        snprintf(be->desc, sizeof(be->desc), "tap %s", ifr.ifr_name);
        tap_link_up(ifr.ifr_name);
        return be;
}

static void socket_destroy(struct net_backend *be)
{
        close(be->fd);
        free(be);
}

struct net_backend *net_socket_open(int fd, char *err, size_t errlen)
{
        struct net_backend *be = calloc(1, sizeof(*be));
        if (!be) {
                snprintf(err, errlen, "socket backend: out of memory");
                return NULL;
        }
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
                snprintf(err, errlen, "socket backend: fd %d: %s", fd, strerror(errno));
                free(be);
                return NULL;
        }
        be->fd = fd;
        be->destroy = socket_destroy;
        snprintf(be->desc, sizeof(be->desc), "socket");
        return be;
}

void net_backend_destroy(struct net_backend *be)
{
        if (be)
                be->destroy(be);
}
