/* tandemd's side of domain networking: it creates and owns the host bridges
 * (tandembr0 unless a vif names another) and one persistent TAP per bridged
 * vif, created before the VMM starts and deleted when it has gone. A vif
 * with vlan=N is put on that VLAN's own bridge (net_vif_bridge_for), so
 * only domains of the same VLAN see each other on any kernel, with or
 * without bridge VLAN filtering. */
#include "net_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_vif.h"

static int ctl_socket(void)
{
        return socket(AF_LOCAL, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int link_up(int s, const char *ifname)
{
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static int bridge_ensure(int s, const char *br, char *err, size_t errlen)
{
        if (ioctl(s, SIOCBRADDBR, br) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create bridge %s: %s", br, strerror(errno));
                return -1;
        }
        int rc = link_up(s, br);
        if (rc < 0) {
                snprintf(err, errlen, "cannot bring bridge %s up: %s", br, strerror(-rc));
                return -1;
        }
        return 0;
}

/* open + TUNSETIFF on name: creates it, or attaches to a persistent one. */
static int tap_fd(const char *name)
{
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

static int vif_up(int s, const struct domcfg *cfg, unsigned i, char *err, size_t errlen)
{
        const struct dom_vif *v = &cfg->vifs[i];
        char br[16];
        net_vif_bridge_for(v, br);
        if (bridge_ensure(s, br, err, errlen) < 0)
                return -1;
        char tap[16];
        net_vif_ifname(cfg->name, i, tap);
        int fd = tap_fd(tap);
        if (fd < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
                snprintf(err, errlen, "cannot create TAP %s: %s", tap,
                         strerror(fd < 0 ? -fd : errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(fd);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", br);
        ifr.ifr_ifindex = (int)if_nametoindex(tap);
        if (ifr.ifr_ifindex == 0 || (ioctl(s, SIOCBRADDIF, &ifr) < 0 && errno != EBUSY)) {
                snprintf(err, errlen, "cannot add TAP %s to bridge %s: %s", tap, br,
                         strerror(errno));
                return -1;
        }
        int rc = link_up(s, tap);
        if (rc < 0) {
                snprintf(err, errlen, "cannot bring TAP %s up: %s", tap, strerror(-rc));
                return -1;
        }
        return 0;
}

int net_domain_up(const struct domcfg *cfg, char *err, size_t errlen)
{
        bool any = false;
        for (size_t i = 0; i < cfg->n_vifs; i++)
                any |= !cfg->vifs[i].user;
        if (!any)
                return 0;
        int s = ctl_socket();
        if (s < 0) {
                snprintf(err, errlen, "network setup: %s", strerror(errno));
                return -1;
        }
        for (size_t i = 0; i < cfg->n_vifs; i++)
                if (!cfg->vifs[i].user && vif_up(s, cfg, (unsigned)i, err, errlen) < 0) {
                        close(s);
                        net_domain_down(cfg);
                        return -1;
                }
        close(s);
        return 0;
}

void net_domain_down(const struct domcfg *cfg)
{
        for (size_t i = 0; i < cfg->n_vifs; i++) {
                if (cfg->vifs[i].user)
                        continue;
                char tap[16];
                net_vif_ifname(cfg->name, (unsigned)i, tap);
                if (!if_nametoindex(tap))
                        continue;
                int fd = tap_fd(tap);
                if (fd >= 0) {
                        ioctl(fd, TUNSETPERSIST, 0); /* gone once this fd closes */
                        close(fd);
                }
        }
}
