/* vif= keys and the tandem-vmm --net arguments they become. */
#include "net_vif.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../pvdrivers/net/net_mac.h"

const char *net_vif_option(struct dom_vif *vif, const char *key, const char *val)
{
        if (!strcmp(key, "type")) {
                /* xl's "vif"/"ioemu" both mean a bridged NIC here */
                if (!strcmp(val, "user"))
                        vif->user = true;
                else if (!strcmp(val, "bridge") || !strcmp(val, "vif") || !strcmp(val, "ioemu"))
                        vif->user = false;
                else
                        return "type must be bridge or user";
                return NULL;
        }
        if (!strcmp(key, "vlan")) {
                char *end;
                long v = strtol(val, &end, 10);
                if (!*val || *end || v < 1 || v > 4094)
                        return "vlan must be 1 to 4094";
                vif->vlan = (unsigned)v;
                return NULL;
        }
        /* hostfwd */
        if (!*val || strchr(val, ' ') || strlen(val) > 64)
                return "hostfwd must be like tcp::8080-:80";
        size_t old = vif->hostfwd ? strlen(vif->hostfwd) : 0;
        char *n = realloc(vif->hostfwd, old + strlen(val) + 10);
        if (!n)
                return "out of memory";
        sprintf(n + old, "%shostfwd=%s", old ? "," : "", val);
        vif->hostfwd = n;
        return NULL;
}

void net_vif_ifname(const char *name, unsigned index, char out[16])
{
        uint32_t h = 2166136261u;
        for (const char *p = name; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
        snprintf(out, 16, "tn%08x.%u", h, index % 100);
}

const char *net_vif_bridge(const struct dom_vif *vif)
{
        return vif->bridge && *vif->bridge ? vif->bridge : NET_DEFAULT_BRIDGE;
}

void net_vif_bridge_for(const struct dom_vif *vif, char out[16])
{
        const char *br = net_vif_bridge(vif);
        if (!vif->vlan) {
                snprintf(out, 16, "%s", br);
                return;
        }
        char suffix[8];
        int n = snprintf(suffix, sizeof(suffix), "v%u", vif->vlan);
        snprintf(out, 16, "%.*s%s", 15 - n, br, suffix);
}

void net_vif_mac(const struct domcfg *cfg, unsigned index, char out[18])
{
        uint8_t mac[6];
        if (cfg->vifs[index].mac[0]) { /* as configured; tandem-vmm refuses a multicast one */
                snprintf(out, 18, "%s", cfg->vifs[index].mac);
                return;
        }
        net_mac_for_name(cfg->name, index, mac);
        net_mac_format(mac, out);
}

void net_vif_vmm_args(const struct domcfg *cfg, json_object *out)
{
        for (size_t i = 0; i < cfg->n_vifs; i++) {
                const struct dom_vif *v = &cfg->vifs[i];
                char mac[18], ifname[16], spec[512];
                net_vif_mac(cfg, (unsigned)i, mac);
                if (v->user) {
                        snprintf(spec, sizeof(spec), "user%s%s,mac=%s", v->hostfwd ? "," : "",
                                 v->hostfwd ? v->hostfwd : "", mac);
                } else {
                        net_vif_ifname(cfg->name, (unsigned)i, ifname);
                        snprintf(spec, sizeof(spec), "tap=%s,mac=%s", ifname, mac);
                }
                json_object_array_add(out, json_object_new_string("--net"));
                json_object_array_add(out, json_object_new_string(spec));
        }
}
