/* The tandem CLI's command table and helpers (docs/cli.md).
 *
 * A subcommand is one function plus one TANDEM_CLI_COMMAND line in any file
 * linked into `tandem`. Subcommands built elsewhere in the tree (usb, image,
 * phase, screenshot...) can instead be separate programs named
 * tandem-<name>, linked with `tandem_cli_dep`: `tandem <name> ARGS` runs
 * them with the same ARGS and with TANDEM_SOCKET and TANDEM_JSON=1 (for
 * --json) in the environment, so they behave like built-in commands. */
#ifndef TANDEM_CLI_H
#define TANDEM_CLI_H

#include "tandem_client.h"

#include <stdbool.h>

/* Exit codes, stable for scripts. */
#define CLI_OK         0
#define CLI_ERR        1 /* the operation failed (VMM error, protocol...) */
#define CLI_USAGE      2
#define CLI_NO_DAEMON  3 /* cannot connect to tandemd */
#define CLI_NOT_FOUND  4
#define CLI_BAD_STATE  5
#define CLI_BAD_CONFIG 6
#define CLI_DENIED     7
#define CLI_TIMEOUT    8

struct cli {
        bool json;          /* --json: machine-readable output on stdout */
        const char *socket; /* --socket or NULL (default) */
        struct tandem_client *client;
};

typedef int (*cli_fn)(struct cli *cli, int argc, char **argv);

struct cli_command {
        const char *name;
        const char *args; /* usage after the name */
        const char *help; /* one line */
        cli_fn fn;        /* argv[0] is the command name */
        struct cli_command *next;
};

void cli_register(struct cli_command *cmd);

#define TANDEM_CLI_COMMAND(ident, name_, args_, help_, fn_)                                        \
        static struct cli_command cli_cmd_##ident = {name_, args_, help_, fn_, 0};                 \
        __attribute__((constructor)) static void cli_register_##ident(void)                        \
        {                                                                                          \
                cli_register(&cli_cmd_##ident);                                                    \
        }

/* Initialises cli from the environment (TANDEM_JSON, TANDEM_SOCKET). */
void cli_init_env(struct cli *cli);
/* Connects on first use; prints the error and returns NULL on failure. */
struct tandem_client *cli_client(struct cli *cli);
/* Calls method; on failure prints "tandem: <message>" (or the JSON error
 * with --json) and returns the exit code; on success returns CLI_OK with
 * *result set (a new reference). */
int cli_call(struct cli *cli, const char *method, json_object *params, json_object **result);
/* Exit code for an error code string. */
int cli_exit_code(const char *code);
void cli_print_json(json_object *o);
void cli_error(struct cli *cli, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats bytes as "12.3M" style into buf. */
const char *cli_human(double bytes, char *buf, size_t len);

#endif
