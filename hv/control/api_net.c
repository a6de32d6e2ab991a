/* net-list: every vif of every domain with its backend, MAC, bridge, VLAN,
 * TAP and whether that TAP exists on the host now (docs/api.md). */
#include <net/if.h>
#include <string.h>

#include "daemon.h"
#include "net_vif.h"

static json_object *vif_json(const struct domain *d, unsigned i)
{
        const struct dom_vif *v = &d->cfg.vifs[i];
        json_object *o = json_object_new_object();
        char mac[18], tap[16];
        net_vif_mac(&d->cfg, i, mac);
        json_object_object_add(o, "domain", json_object_new_string(d->name));
        json_object_object_add(o, "index", json_object_new_int((int)i));
        json_object_object_add(o, "type", json_object_new_string(v->user ? "user" : "bridge"));
        json_object_object_add(o, "mac", json_object_new_string(mac));
        json_object_object_add(o, "state", json_object_new_string(dom_state_name(d->state)));
        if (v->user) {
                json_object_object_add(o, "hostfwd",
                                       json_object_new_string(v->hostfwd ? v->hostfwd : ""));
                return o;
        }
        char br[16];
        net_vif_ifname(d->name, i, tap);
        net_vif_bridge_for(v, br);
        json_object_object_add(o, "bridge", json_object_new_string(br));
        json_object_object_add(o, "vlan", json_object_new_int((int)v->vlan));
        json_object_object_add(o, "tap", json_object_new_string(tap));
        json_object_object_add(o, "tap_present", json_object_new_boolean(if_nametoindex(tap) != 0));
        return o;
}

static void m_net_list(struct client *c, json_object *id, json_object *params)
{
        json_object *want = NULL;
        if (params)
                json_object_object_get_ex(params, "domain", &want);
        const char *only = want ? json_object_get_string(want) : NULL;
        if (only && !domain_find(only)) {
                api_reply_error(c, id, "not_found", "no domain '%s'", only);
                return;
        }
        json_object *arr = json_object_new_array();
        for (struct domain *d = g_domains; d; d = d->next) {
                if (only && strcmp(only, d->name))
                        continue;
                for (size_t i = 0; i < d->cfg.n_vifs; i++)
                        json_object_array_add(arr, vif_json(d, (unsigned)i));
        }
        json_object *r = json_object_new_object();
        json_object_object_add(r, "vifs", arr);
        api_reply_ok(c, id, r);
}

TANDEM_API_METHOD(net_list, "net-list", m_net_list, false)
