/* tandem net list [DOMAIN]: the domains' network interfaces. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *str(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "-";
}

static int cmd_net(struct cli *cli, int argc, char **argv)
{
        if (argc < 2 || argc > 3 || strcmp(argv[1], "list"))
                return CLI_USAGE;
        json_object *p = NULL, *r, *vifs;
        if (argc == 3) {
                p = json_object_new_object();
                json_object_object_add(p, "domain", json_object_new_string(argv[2]));
        }
        int rc = cli_call(cli, "net-list", p, &r);
        if (rc != CLI_OK)
                return rc;
        if (cli->json) {
                cli_print_json(r);
        } else if (json_object_object_get_ex(r, "vifs", &vifs)) {
                printf("%-20s %3s %-6s %-17s %-12s %4s %-14s %s\n", "DOMAIN", "IDX", "TYPE", "MAC",
                       "BRIDGE", "VLAN", "TAP", "STATE");
                for (size_t i = 0; i < json_object_array_length(vifs); i++) {
                        json_object *v = json_object_array_get_idx(vifs, i), *pr;
                        bool present = json_object_object_get_ex(v, "tap_present", &pr) &&
                                       json_object_get_boolean(pr);
                        const char *vlan = str(v, "vlan");
                        printf("%-20s %3s %-6s %-17s %-12s %4s %-14s %s%s\n", str(v, "domain"),
                               str(v, "index"), str(v, "type"), str(v, "mac"), str(v, "bridge"),
                               strcmp(vlan, "0") ? vlan : "-", str(v, "tap"), str(v, "state"),
                               !strcmp(str(v, "type"), "bridge") && !present ? " (no tap)" : "");
                }
        }
        json_object_put(r);
        return CLI_OK;
}

TANDEM_CLI_COMMAND(net, "net", "list [DOMAIN]", "list the domains' network interfaces", cmd_net)
