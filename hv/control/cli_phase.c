/* tandem phase status|plan|apply|rollback|history (docs/cli.md,
 * docs/phase-plan.md). The daemon parses and runs plans; the CLI reads the
 * file and prints what comes back. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s(json_object *o, const char *k)
{
        json_object *v;
        return o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "";
}

static char *slurp(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        size_t cap = 4096, n = 0, got;
        char *b = malloc(cap);
        while (b && (got = fread(b + n, 1, cap - n - 1, f)) > 0)
                if ((n += got) + 1 == cap) {
                        char *nb = cap < (1u << 22) ? realloc(b, cap *= 2) : NULL;
                        if (!nb)
                                free(b);
                        b = nb;
                }
        fclose(f);
        if (b)
                b[n] = '\0';
        return b;
}

static void print_phase(json_object *ph, const char *label)
{
        if (!ph)
                return;
        printf("%s phase %s: %s\n", label, s(ph, "phase"), s(ph, "title"));
        json_object *v, *k;
        if (json_object_object_get_ex(ph, "run", &v))
                printf("  runs:     %s\n",
                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(ph, "retire", &v) && json_object_array_length(v))
                printf("  retires:  %s\n",
                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(ph, "devices", &v))
                printf("  devices:  %s\n",
                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(ph, "routes", &v))
                printf("  routes:   %s\n",
                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(ph, "kiosk", &k))
                printf("  kiosk:    %s\n",
                       json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
        if (json_object_object_get_ex(ph, "sync", &v) && json_object_array_length(v))
                printf("  sync:     %s\n",
                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* plan and apply: FILE [--phase N] */
static int plan_params(struct cli *cli, int argc, char **argv, json_object **out)
{
        const char *file = NULL;
        long phase = -1;
        for (int i = 2; i < argc; i++) {
                if (!strcmp(argv[i], "--phase") && i + 1 < argc) {
                        char *end;
                        phase = strtol(argv[++i], &end, 10);
                        if (*end || phase < 0 || phase > 1000) {
                                cli_error(cli, "invalid", "--phase: '%s' is not a phase number",
                                          argv[i]);
                                return CLI_USAGE;
                        }
                } else if (!file && argv[i][0] != '-') {
                        file = argv[i];
                } else {
                        return CLI_USAGE;
                }
        }
        if (!file)
                return CLI_USAGE;
        char *text = slurp(file), abs[PATH_MAX];
        if (!text) {
                cli_error(cli, "config", "%s: %s", file, strerror(errno));
                return CLI_BAD_CONFIG;
        }
        if (!realpath(file, abs))
                snprintf(abs, sizeof(abs), "%s", file);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "plan", json_object_new_string(text));
        json_object_object_add(p, "path", json_object_new_string(abs));
        if (phase >= 0)
                json_object_object_add(p, "phase", json_object_new_int((int)phase));
        free(text);
        *out = p;
        return CLI_OK;
}

static int cmd_phase(struct cli *cli, int argc, char **argv)
{
        if (argc < 2)
                return CLI_USAGE;
        const char *sub = argv[1];
        json_object *p = NULL, *r;
        int rc;
        if (!strcmp(sub, "plan") || !strcmp(sub, "apply")) {
                if ((rc = plan_params(cli, argc, argv, &p)) != CLI_OK)
                        return rc;
        } else if (argc != 2 ||
                   (strcmp(sub, "status") && strcmp(sub, "rollback") && strcmp(sub, "history"))) {
                return CLI_USAGE;
        }
        char method[32];
        snprintf(method, sizeof(method), "phase-%s", sub);
        if ((rc = cli_call(cli, method, p, &r)) != CLI_OK)
                return rc;
        if (cli->json) {
                cli_print_json(r);
        } else if (!strcmp(sub, "status")) {
                printf("phase %s of %s (%s)\n", s(r, "phase"),
                       s(r, "phases")[0] ? s(r, "phases") : "?",
                       s(r, "plan_path")[0] ? s(r, "plan_path") : "no plan applied");
                if (s(r, "applying")[0])
                        printf("applying: %s\n", s(r, "applying"));
                if (s(r, "last_error")[0])
                        printf("last failure: %s\n", s(r, "last_error"));
                json_object *v;
                if (json_object_object_get_ex(r, "domains", &v))
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                json_object *d = json_object_array_get_idx(v, i);
                                printf("  domain %-16s %s\n", s(d, "name"), s(d, "state"));
                        }
                print_phase(json_object_object_get(r, "current"), "current");
                print_phase(json_object_object_get(r, "next"), "next");
        } else if (!strcmp(sub, "plan")) {
                printf("phase %s -> %s: %s\n", s(r, "from"), s(r, "phase"), s(r, "title"));
                json_object *v;
                if (json_object_object_get_ex(r, "steps", &v)) {
                        if (!json_object_array_length(v))
                                printf("  (no domain or device steps)\n");
                        for (size_t i = 0; i < json_object_array_length(v); i++)
                                printf("  %zu. %s\n", i + 1,
                                       json_object_get_string(json_object_array_get_idx(v, i)));
                }
                if (json_object_object_get_ex(r, "changes", &v))
                        for (size_t i = 0; i < json_object_array_length(v); i++)
                                printf("  ~ %s\n",
                                       json_object_get_string(json_object_array_get_idx(v, i)));
        } else if (!strcmp(sub, "history")) {
                json_object *v;
                if (json_object_object_get_ex(r, "history", &v))
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                json_object *e = json_object_array_get_idx(v, i);
                                time_t t = (time_t)json_object_get_double(
                                    json_object_object_get(e, "time"));
                                char when[32];
                                strftime(when, sizeof(when), "%F %T", localtime(&t));
                                printf("%s %-8s %s -> %s %s%s%s\n", when, s(e, "action"),
                                       s(e, "from"), s(e, "to"),
                                       json_object_get_boolean(json_object_object_get(e, "ok"))
                                           ? "ok"
                                           : "FAILED",
                                       s(e, "detail")[0] ? ": " : "", s(e, "detail"));
                        }
        } else {
                printf("phase %s (was %s)\n", s(r, "phase"), s(r, "from"));
        }
        json_object_put(r);
        return CLI_OK;
}

TANDEM_CLI_COMMAND(phase, "phase",
                   "status|plan FILE [--phase N]|apply FILE [--phase N]|rollback|history",
                   "show, check, apply or roll back a phase plan", cmd_phase)
