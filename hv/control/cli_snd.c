/* tandem snd list [DOMAIN] | mute DOMAIN | unmute DOMAIN (docs/cli.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *str(json_object *o, const char *k)
{
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "-";
}

static int snd_list(struct cli *cli, const char *only)
{
        json_object *p = NULL, *r, *doms;
        if (only) {
                p = json_object_new_object();
                json_object_object_add(p, "domain", json_object_new_string(only));
        }
        int rc = cli_call(cli, "snd-list", p, &r);
        if (rc != CLI_OK)
                return rc;
        if (cli->json) {
                cli_print_json(r);
        } else if (json_object_object_get_ex(r, "domains", &doms)) {
                printf("%-20s %-9s %-8s %-30s %-5s %-9s %s\n", "DOMAIN", "STATE", "DEVICE",
                       "BACKEND", "MUTED", "CONNECTED", "DROPPED");
                for (size_t i = 0; i < json_object_array_length(doms); i++) {
                        json_object *d = json_object_array_get_idx(doms, i);
                        char dropped[32] = "-";
                        json_object *v;
                        if (json_object_object_get_ex(d, "bytes_dropped", &v) && v)
                                cli_human((double)json_object_get_int64(v), dropped,
                                          sizeof(dropped));
                        printf("%-20s %-9s %-8s %-30s %-5s %-9s %s\n", str(d, "domain"),
                               str(d, "state"), str(d, "device"), str(d, "backend"),
                               str(d, "muted"), str(d, "connected"), dropped);
                }
        }
        json_object_put(r);
        return CLI_OK;
}

static int cmd_snd(struct cli *cli, int argc, char **argv)
{
        if (argc >= 2 && !strcmp(argv[1], "list") && argc <= 3)
                return snd_list(cli, argc == 3 ? argv[2] : NULL);
        if (argc != 3 || (strcmp(argv[1], "mute") && strcmp(argv[1], "unmute")))
                return CLI_USAGE;
        json_object *p = json_object_new_object(), *r;
        json_object_object_add(p, "domain", json_object_new_string(argv[2]));
        json_object_object_add(p, "muted", json_object_new_boolean(!strcmp(argv[1], "mute")));
        int rc = cli_call(cli, "snd-mute", p, &r);
        if (rc != CLI_OK)
                return rc;
        if (cli->json)
                cli_print_json(r);
        else
                printf("%s: sound %s\n", argv[2], strcmp(argv[1], "mute") ? "unmuted" : "muted");
        json_object_put(r);
        return CLI_OK;
}

TANDEM_CLI_COMMAND(snd, "snd", "list [DOMAIN] | mute DOMAIN | unmute DOMAIN",
                   "list the domains' sound, or mute/unmute one", cmd_snd)
