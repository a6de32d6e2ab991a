/* Host bridges and TAPs for domains' vifs (tandemd, docs/net.md). */
#ifndef TANDEM_NET_BRIDGE_H
#define TANDEM_NET_BRIDGE_H

#include <stddef.h>

#include "domcfg.h"

/* Before the VMM starts: bridges exist and are up, each bridged vif has its
 * persistent TAP on its bridge (and VLAN). 0, or -1 with err (nothing left
 * behind). */
int net_domain_up(const struct domcfg *cfg, char *err, size_t errlen);
/* After the VMM has gone: the domain's TAPs are deleted. */
void net_domain_down(const struct domcfg *cfg);

#endif
