/* tandem-screenshot --control SOCK out.png: saves a domain's screen. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "screenshot.h"

static void usage(FILE *to)
{
        fprintf(to, "usage: tandem-screenshot --control VMM-CONTROL-SOCKET OUT.png\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"control", required_argument, NULL, 'c'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *control = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
                if (c == 'c') {
                        control = optarg;
                } else if (c == 'h') {
                        usage(stdout);
                        return 0;
                } else {
                        usage(stderr);
                        return 2;
                }
        }
        if (!control || optind != argc - 1) {
                fprintf(stderr, "tandem-screenshot: need --control SOCKET and one output file\n");
                usage(stderr);
                return 2;
        }
        char err[256];
        if (tandem_screenshot_png(control, argv[optind], err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-screenshot: %s\n", err);
                return 1;
        }
        return 0;
}
