/* tandem-extract: reads a legacy domain's FAT16 data disk offline and writes
 * its records as UTF-8 JSON Lines, CSV and SQLite, with a reconciliation
 * report (docs/migration.md).
 *
 *   tandem-extract [--since STATE] --out DIR IMAGE
 *
 * Exit status: 0 extracted and reconciled; 1 extracted, but some records
 * were undecodable or a check failed (see the report); 2 bad arguments or an
 * unreadable/busy disk; 3 the disk was rewritten behind STATE. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "extract.h"
#include "offline.h"
#include "report.h"
#include "sinks.h"
#include "state.h"

static void usage(FILE *f)
{
        fprintf(f, "usage: tandem-extract [--since STATE] [--timing] --out DIR IMAGE\n"
                   "Extracts the legacy terminal's records from a FAT16 data disk (offline).\n");
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        const char *out = NULL, *since = NULL;
        bool timing = false; /* where the time goes, on stderr (bench/migration) */
        static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                             {"since", required_argument, 0, 's'},
                                             {"timing", no_argument, 0, 't'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "o:s:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        out = optarg;
                        break;
                case 's':
                        since = optarg;
                        break;
                case 't':
                        timing = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (!out || optind != argc - 1) {
                usage(stderr);
                return 2;
        }
        const char *image = argv[optind];
        char err[512];
        if (mkdir(out, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "tandem-extract: %s: %s\n", out, strerror(errno));
                return 2;
        }
        int fd = offline_open(image, false, err, sizeof(err));
        if (fd < 0) {
                fprintf(stderr, "tandem-extract: %s\n", err);
                return 2;
        }
        struct extraction x;
        double t[5];
        t[0] = now();
        if (extract_scan(fd, &x, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-extract: %s: %s\n", image, err);
                extract_free(&x);
                close(fd);
                return 2;
        }
        int rc = 0;
        if (since && state_apply(since, &x, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-extract: %s\n", err);
                rc = 3;
        }
        struct db_check db = {-1, -1};
        bool reconciled = false;
        t[1] = t[2] = t[3] = t[4] = now();
        if (rc == 0 &&
            (sinks_write_text(out, &x, err, sizeof(err)) < 0 || !(t[2] = now()) ||
             sinks_write_sqlite(out, &x, &db.tickets, &db.sold_stakes, err, sizeof(err)) < 0 ||
             !(t[3] = now()) ||
             report_write(out, image, &x, &db, &reconciled, err, sizeof(err)) < 0 ||
             (since && state_save(since, &x, err, sizeof(err)) < 0) || !(t[4] = now()))) {
                fprintf(stderr, "tandem-extract: %s\n", err);
                rc = 2;
        }
        if (timing)
                fprintf(
                    stderr,
                    "tandem-extract: timing: read and decode %.3f s, JSON Lines and CSV %.3f s, "
                    "SQLite %.3f s, report and state %.3f s\n",
                    t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3]);
        if (rc == 0) {
                printf("%zu tickets, %zu runners, %zu operators, %zu undecodable: %s\n", x.ntickets,
                       x.nrunners, x.noperators, x.nbad,
                       reconciled ? "reconciled" : "NOT reconciled, see report.txt");
                rc = reconciled ? 0 : 1;
        }
        extract_free(&x);
        close(fd);
        return rc;
}
