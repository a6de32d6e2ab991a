/* tandem usb list | attach DEVICE [DOMAIN] | detach DEVICE | policy [FILE|-]:
 * USB devices and their owners through tandemd (docs/usb.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *str(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "-";
}

static int print_result(struct cli *cli, json_object *r)
{
        if (cli->json)
                cli_print_json(r);
        else if (json_object_object_get_ex(r, "device", NULL))
                printf("%s: %s (port %s)\n", str(r, "device"), str(r, "owner"), str(r, "port"));
        json_object_put(r);
        return CLI_OK;
}

static int cmd_usb(struct cli *cli, int argc, char **argv)
{
        json_object *p = json_object_new_object(), *r, *devs;
        const char *method;
        if (argc == 2 && !strcmp(argv[1], "list")) {
                method = "usb-list";
        } else if ((argc == 3 || argc == 4) && !strcmp(argv[1], "attach")) {
                method = "usb-attach";
                json_object_object_add(p, "device", json_object_new_string(argv[2]));
                if (argc == 4)
                        json_object_object_add(p, "domain", json_object_new_string(argv[3]));
        } else if (argc == 3 && !strcmp(argv[1], "detach")) {
                method = "usb-detach";
                json_object_object_add(p, "device", json_object_new_string(argv[2]));
        } else if ((argc == 2 || argc == 3) && !strcmp(argv[1], "policy")) {
                method = "usb-policy";
                if (argc == 3) { /* a JSON file (or - for stdin) with rules/focused */
                        json_object_put(p);
                        p = !strcmp(argv[2], "-") ? json_object_from_fd(0)
                                                  : json_object_from_file(argv[2]);
                        if (!p || !json_object_is_type(p, json_type_object)) {
                                fprintf(stderr, "tandem usb policy: %s is not a JSON object\n",
                                        argv[2]);
                                json_object_put(p);
                                return CLI_USAGE;
                        }
                }
        } else {
                json_object_put(p);
                return CLI_USAGE;
        }
        int rc = cli_call(cli, method, p, &r);
        if (rc != CLI_OK)
                return rc;
        if (strcmp(method, "usb-list"))
                return !strcmp(method, "usb-policy")
                           ? (cli_print_json(r), json_object_put(r), CLI_OK)
                           : print_result(cli, r);
        if (cli->json) {
                cli_print_json(r);
        } else if (json_object_object_get_ex(r, "devices", &devs)) {
                printf("%-40s %-9s %5s %-20s %s\n", "DEVICE", "ID", "CLASS", "OWNER", "PORT");
                for (size_t i = 0; i < json_object_array_length(devs); i++) {
                        json_object *d = json_object_array_get_idx(devs, i);
                        printf("%-40s %-9s %5s %-20s %s\n", str(d, "device"), str(d, "id"),
                               str(d, "class"), str(d, "owner"), str(d, "port"));
                }
        }
        json_object_put(r);
        return CLI_OK;
}

TANDEM_CLI_COMMAND(usb, "usb", "list | attach DEVICE [DOMAIN] | detach DEVICE | policy [FILE|-]",
                   "USB devices, their owners and the rules", cmd_usb)
