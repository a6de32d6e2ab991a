/* tandem: the command-line client of tandemd (docs/cli.md). Global options,
 * then a subcommand from the table (cli.h) or an external tandem-<name>. */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct cli_command *commands;

void cli_register(struct cli_command *cmd)
{
        /* Sorted insert, so help lists commands alphabetically. */
        struct cli_command **pp = &commands;
        while (*pp && strcmp((*pp)->name, cmd->name) < 0)
                pp = &(*pp)->next;
        cmd->next = *pp;
        *pp = cmd;
}

static void usage(FILE *out)
{
        fprintf(out, "usage: tandem [--json] [--socket PATH] COMMAND [ARGS]\n\ncommands:\n");
        for (struct cli_command *c = commands; c; c = c->next)
                fprintf(out, "  %-10s %-28s %s\n", c->name, c->args, c->help);
        fprintf(out,
                "\nOther commands run tandem-COMMAND if installed. Exit codes: docs/cli.md.\n");
}

/* tandem-<name> next to this binary, then in PATH. */
static int run_external(char **argv)
{
        char self[PATH_MAX], path[PATH_MAX + 64];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                snprintf(path, sizeof(path), "%s/tandem-%s", dirname(self), argv[0]);
                if (access(path, X_OK) == 0) {
                        execv(path, argv);
                        return -1;
                }
        }
        snprintf(path, sizeof(path), "tandem-%s", argv[0]);
        execvp(path, argv);
        return -1;
}

int main(int argc, char **argv)
{
        struct cli cli;
        cli_init_env(&cli);
        /* Global options may appear anywhere; they are removed from argv. */
        int out = 1;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--json")) {
                        cli.json = true;
                } else if (!strcmp(argv[i], "--socket") || !strncmp(argv[i], "--socket=", 9)) {
                        if (argv[i][8] == '=') {
                                cli.socket = argv[i] + 9;
                        } else if (i + 1 < argc) {
                                cli.socket = argv[++i];
                        } else {
                                fprintf(stderr, "tandem: --socket needs a path\n");
                                return CLI_USAGE;
                        }
                } else {
                        argv[out++] = argv[i];
                }
        }
        argc = out;
        argv[argc] = NULL;
        if (argc < 2) {
                usage(stderr);
                return CLI_USAGE;
        }
        if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
                usage(stdout);
                return CLI_OK;
        }
        for (struct cli_command *c = commands; c; c = c->next) {
                if (strcmp(c->name, argv[1]))
                        continue;
                int rc = c->fn(&cli, argc - 1, argv + 1);
                if (rc == CLI_USAGE && !cli.json)
                        fprintf(stderr, "usage: tandem %s %s\n", c->name, c->args);
                if (cli.client)
                        tandem_close(cli.client);
                return rc;
        }
        if (cli.socket)
                setenv("TANDEM_SOCKET", cli.socket, 1);
        if (cli.json)
                setenv("TANDEM_JSON", "1", 1);
        run_external(argv + 1);
        fprintf(stderr, "tandem: unknown command '%s' (try 'tandem help')\n", argv[1]);
        return CLI_USAGE;
}
