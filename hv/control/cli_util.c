/* Shared helpers for tandem subcommands (cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_init_env(struct cli *cli)
{
        memset(cli, 0, sizeof(*cli));
        const char *j = getenv("TANDEM_JSON");
        cli->json = j && !strcmp(j, "1");
}

int cli_exit_code(const char *code)
{
        static const struct {
                const char *code;
                int exit;
        } map[] = {
            {TANDEM_E_CONNECT, CLI_NO_DAEMON}, {TANDEM_E_NOT_FOUND, CLI_NOT_FOUND},
            {TANDEM_E_STATE, CLI_BAD_STATE},   {TANDEM_E_EXISTS, CLI_BAD_STATE},
            {TANDEM_E_CONFIG, CLI_BAD_CONFIG}, {TANDEM_E_DENIED, CLI_DENIED},
            {TANDEM_E_TIMEOUT, CLI_TIMEOUT},   {TANDEM_E_INVALID, CLI_USAGE},
        };
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
                if (!strcmp(code, map[i].code))
                        return map[i].exit;
        return CLI_ERR;
}

void cli_print_json(json_object *o)
{
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
}

void cli_error(struct cli *cli, const char *code, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (cli->json) {
                json_object *o = json_object_new_object();
                json_object *e = json_object_new_object();
                json_object_object_add(e, "code", json_object_new_string(code));
                json_object_object_add(e, "message", json_object_new_string(msg));
                json_object_object_add(o, "error", e);
                cli_print_json(o);
                json_object_put(o);
        }
        fprintf(stderr, "tandem: %s\n", msg);
}

struct tandem_client *cli_client(struct cli *cli)
{
        if (cli->client)
                return cli->client;
        struct tandem_error err;
        cli->client = tandem_connect(cli->socket, &err);
        if (!cli->client)
                cli_error(cli, err.code, "%s", err.message);
        return cli->client;
}

int cli_call(struct cli *cli, const char *method, json_object *params, json_object **result)
{
        *result = NULL;
        if (!cli_client(cli)) {
                json_object_put(params);
                return CLI_NO_DAEMON;
        }
        struct tandem_error err;
        if (tandem_call_timeout(cli->client, method, params, -1, result, &err) < 0) {
                cli_error(cli, err.code, "%s", err.message);
                return cli_exit_code(err.code);
        }
        return CLI_OK;
}

const char *cli_human(double bytes, char *buf, size_t len)
{
        static const char units[] = "BKMGT";
        int u = 0;
        while (bytes >= 1024 && u < 4) {
                bytes /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%.0f%c", bytes, units[u]);
        else
                snprintf(buf, len, "%.1f%c", bytes, units[u]);
        return buf;
}
