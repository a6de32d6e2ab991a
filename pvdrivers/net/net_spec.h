/* The --net option of tandem-vmm (and the vif entries tandemd turns into
 * it): "tap=IFNAME[,mac=MAC]" or "user[,hostfwd=tcp::HP-:GP]...[,mac=MAC]". */
#ifndef TANDEM_NET_SPEC_H
#define TANDEM_NET_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../hv/vmm/evloop.h"
#include "../../hv/vmm/guest_mem.h"

#define NET_SPEC_MAX_FWD 8

struct net_spec {
        enum { NET_SPEC_TAP, NET_SPEC_USER } kind;
        char ifname[16];
        bool has_mac;
        uint8_t mac[6];
        unsigned nfwd;
        const char *fwd[NET_SPEC_MAX_FWD]; /* point into buf */
        char buf[512];
};

/* 0, or -1 with a one-line reason in err. */
int net_spec_parse(const char *arg, struct net_spec *s, char *err, size_t errlen);

struct virtio_device;
/* Opens the backend and builds the virtio-net device for --net arg number
 * index of domain name (the MAC defaults to one derived from both). */
struct virtio_device *net_spec_create_device(const char *arg, const struct guest_mem *mem,
                                             struct evloop *loop, const char *name, unsigned index,
                                             char *err, size_t errlen);

#endif
