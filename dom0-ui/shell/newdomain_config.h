/* The create-domain dialog's fields turned into the xl.cfg text tandemd's
 * create takes (docs/config.md), with the checks a user can act on. */
#ifndef TANDEM_NEWDOMAIN_CONFIG_H
#define TANDEM_NEWDOMAIN_CONFIG_H

#include <stddef.h>

struct newdomain_form {
        const char *name;
        const char *type;    /* "pvh" or "tandem-legacy" */
        const char *kernel;  /* file */
        const char *memory;  /* "512", "512M", "2G", ... */
        int vcpus;           /* 1..64 */
        const char *disk;    /* file or "" */
        const char *network; /* "none", "user" or "bridge" */
        const char *usb;     /* "VVVV:PPPP" or "BUS-ADDR" items, comma/space separated */
};

/* Returns the config text (g_free it), or NULL with a one-line message
 * naming the field and the problem in err. */
char *newdomain_config(const struct newdomain_form *f, char *err, size_t errlen);

#endif
