/* tandem-screenshot --control SOCK [--scale N] out.png: saves a domain's
 * screen. The scale defaults to $GDK_SCALE (what the shell draws with). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screenshot.h"

static void usage(FILE *to)
{
        fprintf(to, "usage: tandem-screenshot --control VMM-CONTROL-SOCKET [--scale N] OUT.png\n");
}

static bool parse_scale(const char *s, unsigned *scale)
{
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (!*s || *end || v < 1 || v > SCREENSHOT_MAX_SCALE)
                return false;
        *scale = (unsigned)v;
        return true;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"control", required_argument, NULL, 'c'},
            {"scale", required_argument, NULL, 's'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *control = NULL;
        unsigned scale = 1;
        const char *env = getenv("GDK_SCALE");
        if (env && *env && !parse_scale(env, &scale)) {
                fprintf(stderr, "tandem-screenshot: GDK_SCALE=%s: expected 1 to %d\n", env,
                        SCREENSHOT_MAX_SCALE);
                return 2;
        }
        int c;
        while ((c = getopt_long(argc, argv, "c:s:h", opts, NULL)) != -1) {
                if (c == 'c') {
                        control = optarg;
                } else if (c == 's') {
                        if (!parse_scale(optarg, &scale)) {
                                fprintf(stderr, "tandem-screenshot: --scale %s: expected 1 to %d\n",
                                        optarg, SCREENSHOT_MAX_SCALE);
                                return 2;
                        }
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
        if (tandem_screenshot_png(control, argv[optind], scale, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-screenshot: %s\n", err);
                return 1;
        }
        return 0;
}
