/* Parsing of --net specs and construction of the device they describe. */
#include "net_spec.h"

#include <stdio.h>
#include <string.h>

#include "../virtio/net.h"

int net_spec_parse(const char *arg, struct net_spec *s, char *err, size_t errlen)
{
        memset(s, 0, sizeof(*s));
        if (!arg || strlen(arg) >= sizeof(s->buf)) {
                snprintf(err, errlen, "--net: spec missing or too long");
                return -1;
        }
        strcpy(s->buf, arg);
        char *save = NULL;
        char *tok = strtok_r(s->buf, ",", &save);
        if (!tok) {
                snprintf(err, errlen, "--net '%s': expected tap=IFNAME or user", arg);
                return -1;
        }
        if (strncmp(tok, "tap=", 4) == 0) {
                s->kind = NET_SPEC_TAP;
                if (!tok[4] || strlen(tok + 4) >= sizeof(s->ifname) || strchr(tok + 4, '/')) {
                        snprintf(err, errlen,
                                 "--net '%s': interface name empty, longer than 15 "
                                 "or with '/'",
                                 arg);
                        return -1;
                }
                strcpy(s->ifname, tok + 4);
        } else if (strcmp(tok, "user") == 0) {
                s->kind = NET_SPEC_USER;
        } else {
                snprintf(err, errlen, "--net '%s': expected tap=IFNAME or user first", arg);
                return -1;
        }
        while ((tok = strtok_r(NULL, ",", &save))) {
                if (strncmp(tok, "mac=", 4) == 0) {
                        if (net_mac_parse(tok + 4, s->mac) < 0) {
                                snprintf(err, errlen,
                                         "--net '%s': mac '%s' is not a unicast "
                                         "xx:xx:xx:xx:xx:xx",
                                         arg, tok + 4);
                                return -1;
                        }
                        s->has_mac = true;
                } else if (strncmp(tok, "hostfwd=", 8) == 0 && s->kind == NET_SPEC_USER) {
                        if (s->nfwd == NET_SPEC_MAX_FWD) {
                                snprintf(err, errlen, "--net '%s': at most %d hostfwd", arg,
                                         NET_SPEC_MAX_FWD);
                                return -1;
                        }
                        s->fwd[s->nfwd++] = tok + 8;
                } else {
                        snprintf(err, errlen, "--net '%s': unknown option '%s' (mac=%s)", arg, tok,
                                 s->kind == NET_SPEC_USER ? ", hostfwd=" : "");
                        return -1;
                }
        }
        return 0;
}

struct virtio_device *net_spec_create_device(const char *arg, const struct guest_mem *mem,
                                             struct evloop *loop, const char *name, unsigned index,
                                             char *err, size_t errlen)
{
        struct net_spec s;
        if (net_spec_parse(arg, &s, err, errlen) < 0)
                return NULL;
        if (!s.has_mac)
                net_mac_for_name(name ? name : "tandem-vmm", index, s.mac);
        struct net_backend *be = s.kind == NET_SPEC_TAP
                                     ? net_tap_open(s.ifname, err, errlen)
                                     : net_slirp_open(s.fwd, s.nfwd, err, errlen);
        if (!be)
                return NULL;
        return virtio_net_create(mem, loop, be, s.mac, err, errlen);
}
