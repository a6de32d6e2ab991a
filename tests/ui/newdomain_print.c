/* Prints the xl.cfg text the New domain dialog would send for the fields
 * given as NAME TYPE KERNEL MEMORY VCPUS DISK NETWORK USB, or its
 * message (exit 1). newdomain_config.py feeds the text to tandem-cfgcheck. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "newdomain_config.h"

int main(int argc, char **argv)
{
        if (argc != 9) {
                fprintf(stderr, "usage: newdomain_print NAME TYPE KERNEL MEMORY VCPUS DISK "
                                "NETWORK USB\n");
                return 2;
        }
        struct newdomain_form f = {
            .name = argv[1],
            .type = argv[2],
            .kernel = argv[3],
            .memory = argv[4],
            .vcpus = atoi(argv[5]),
            .disk = argv[6],
            .network = argv[7],
            .usb = argv[8],
        };
        char err[600];
        char *cfg = newdomain_config(&f, err, sizeof(err));
        if (!cfg) {
                printf("%s\n", err);
                return 1;
        }
        fputs(cfg, stdout);
        g_free(cfg);
        return 0;
}
