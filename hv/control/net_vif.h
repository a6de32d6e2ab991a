/* Domain network interfaces (vif= in domain configs, docs/net.md): the
 * tandem-specific vif keys, TAP names, and the --net arguments tandemd
 * gives tandem-vmm. Host-side bridge and TAP management is net_bridge.c. */
#ifndef TANDEM_NET_VIF_H
#define TANDEM_NET_VIF_H

#include <json-c/json.h>

#include "domcfg.h"

#define NET_DEFAULT_BRIDGE "tandembr0"

/* Applies vif key type/vlan/hostfwd; returns NULL or a reason. */
const char *net_vif_option(struct dom_vif *vif, const char *key, const char *val);
/* The TAP for vif index of domain name: "tn" + 8 hex digits of the name's
 * hash + "." + index (fits IFNAMSIZ, stable across restarts). */
void net_vif_ifname(const char *name, unsigned index, char out[16]);
const char *net_vif_bridge(const struct dom_vif *vif);
/* The host bridge the vif's TAP joins: its bridge, or for vlan=N that
 * bridge's VLAN N bridge "<bridge>vN" (cut to fit IFNAMSIZ). */
void net_vif_bridge_for(const struct dom_vif *vif, char out[16]);
/* The vif's MAC: configured, or derived from the domain name. */
void net_vif_mac(const struct domcfg *cfg, unsigned index, char out[18]);
/* Appends "--net SPEC" for every vif. */
void net_vif_vmm_args(const struct domcfg *cfg, json_object *out);

#endif
