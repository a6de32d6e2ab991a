/* tandem clone|export|import (docs/storage.md). File names are made absolute
 * here: tandemd does not share the caller's working folder. */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s(json_object *o, const char *k)
{
        json_object *v;
        return o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "";
}

/* Absolute name for a file that may not exist yet. */
static int absolute(const char *path, char *out, size_t len)
{
        if (path[0] == '/') {
                snprintf(out, len, "%s", path);
                return 0;
        }
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return -1;
        return snprintf(out, len, "%s/%s", cwd, path) < (int)len ? 0 : -1;
}

static int finish(struct cli *cli, int rc, json_object *r, const char *fmt, const char *a,
                  const char *b)
{
        if (rc == CLI_OK) {
                if (cli->json)
                        printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
                else
                        printf(fmt, a, b);
        }
        json_object_put(r);
        return rc;
}

static int cmd_clone(struct cli *cli, int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: tandem clone DOMAIN NEW\n");
                return CLI_USAGE;
        }
        json_object *p = json_object_new_object(), *r = NULL;
        json_object_object_add(p, "domain", json_object_new_string(argv[1]));
        json_object_object_add(p, "new", json_object_new_string(argv[2]));
        int rc = cli_call(cli, "clone", p, &r);
        json_object_put(p);
        return finish(cli, rc, r, "linked clone %s: start it with tandem create %s\n", s(r, "name"),
                      s(r, "config_path"));
}

static int cmd_export(struct cli *cli, int argc, char **argv)
{
        char path[PATH_MAX];
        if (argc != 3 || absolute(argv[2], path, sizeof(path)) < 0) {
                fprintf(stderr, "usage: tandem export DOMAIN FILE.tar\n");
                return CLI_USAGE;
        }
        json_object *p = json_object_new_object(), *r = NULL;
        json_object_object_add(p, "domain", json_object_new_string(argv[1]));
        json_object_object_add(p, "path", json_object_new_string(path));
        int rc = cli_call(cli, "export", p, &r);
        json_object_put(p);
        return finish(cli, rc, r, "exported %s%s\n", s(r, "path"), "");
}

static int cmd_import(struct cli *cli, int argc, char **argv)
{
        char path[PATH_MAX], dir[PATH_MAX];
        bool has_dir = argc == 4 && !strncmp(argv[2], "--dir=", 6);
        if ((argc != 2 && !has_dir) || absolute(argv[1], path, sizeof(path)) < 0 ||
            (has_dir && absolute(argv[2] + 6, dir, sizeof(dir)) < 0)) {
                fprintf(stderr, "usage: tandem import FILE.tar [--dir=DIR]\n");
                return CLI_USAGE;
        }
        json_object *p = json_object_new_object(), *r = NULL;
        json_object_object_add(p, "path", json_object_new_string(path));
        if (has_dir)
                json_object_object_add(p, "dir", json_object_new_string(dir));
        int rc = cli_call(cli, "import", p, &r);
        json_object_put(p);
        return finish(cli, rc, r, "imported %s: start it with tandem create %s\n", s(r, "name"),
                      s(r, "config_path"));
}

TANDEM_CLI_COMMAND(clone, "clone", "DOMAIN NEW", "linked clone on qcow2 overlays", cmd_clone)
TANDEM_CLI_COMMAND(export, "export", "DOMAIN FILE.tar", "config + disks + SHA-256 manifest",
                   cmd_export)
TANDEM_CLI_COMMAND(import, "import", "FILE.tar [--dir=DIR]", "verify and install an export",
                   cmd_import)
