/* tandem-archive: the retirement archive of a legacy domain (its disk and
 * config in a zstd-compressed tar with a SHA-256 manifest).
 *
 *   tandem-archive create --name NAME --disk IMG [--config CFG] OUT.tar.zst
 *   tandem-archive verify ARCHIVE
 *   tandem-archive restore [--to DIR] [--force] ARCHIVE
 *   tandem-archive purge --yes ARCHIVE
 *
 * Exit status: 0 done; 1 the operation failed (a damaged archive, a busy or
 * changed disk, purge without --yes); 2 bad arguments. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "archive.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: tandem-archive create --name NAME --disk IMG [--config CFG] OUT\n"
                   "       tandem-archive verify ARCHIVE\n"
                   "       tandem-archive restore [--to DIR] [--force] ARCHIVE\n"
                   "       tandem-archive purge --yes ARCHIVE\n");
}

static bool valid_name(const char *s)
{
        size_t n = strlen(s);
        if (n < 1 || n > 64 || s[0] == '-' || s[0] == '.')
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        const char *cmd = argv[1];
        if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
                usage(stdout);
                return 0;
        }
        const char *name = NULL, *disk = NULL, *config = NULL, *to = NULL;
        bool yes = false, force = false;
        static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                             {"disk", required_argument, 0, 'd'},
                                             {"config", required_argument, 0, 'c'},
                                             {"to", required_argument, 0, 't'},
                                             {"yes", no_argument, 0, 'y'},
                                             {"force", no_argument, 0, 'f'},
                                             {0, 0, 0, 0}};
        int c;
        optind = 2;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case 'd':
                        disk = optarg;
                        break;
                case 'c':
                        config = optarg;
                        break;
                case 't':
                        to = optarg;
                        break;
                case 'y':
                        yes = true;
                        break;
                case 'f':
                        force = true;
                        break;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc - 1) {
                usage(stderr);
                return 2;
        }
        const char *target = argv[optind];
        char err[1024] = "";
        int rc;
        if (!strcmp(cmd, "create")) {
                if (!name || !disk) {
                        fprintf(stderr, "tandem-archive: create needs --name and --disk\n");
                        return 2;
                }
                if (!valid_name(name)) {
                        fprintf(stderr,
                                "tandem-archive: --name '%s' is not 1-64 of A-Z a-z "
                                "0-9 - _ .\n",
                                name);
                        return 2;
                }
                rc = archive_create(name, disk, config, target, err, sizeof(err));
                if (rc == 0)
                        printf("archived %s to %s\n", name, target);
        } else if (!strcmp(cmd, "verify")) {
                rc = archive_verify(target, err, sizeof(err));
                if (rc == 0)
                        printf("OK: %s verified\n", target);
        } else if (!strcmp(cmd, "restore")) {
                rc = archive_restore(target, to, force, err, sizeof(err));
        } else if (!strcmp(cmd, "purge")) {
                rc = archive_purge(target, yes, err, sizeof(err));
        } else {
                fprintf(stderr, "tandem-archive: unknown command '%s'\n", cmd);
                usage(stderr);
                return 2;
        }
        if (rc < 0) {
                fprintf(stderr, "tandem-archive: %s: %s\n", cmd, err);
                return 1;
        }
        return 0;
}
