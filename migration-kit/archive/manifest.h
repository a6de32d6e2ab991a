/* MANIFEST, the first member of a retirement archive (text, one item per
 * line, LF):
 *   tandem-archive 1
 *   name DOMAIN
 *   created YYYY-MM-DDTHH:MM:SSZ
 *   file KIND SHA256 SIZE MEMBER ORIGINAL-PATH
 * KIND is "disk" or "config"; MEMBER is "KIND/BASENAME" inside the tar;
 * ORIGINAL-PATH (the rest of the line) is where restore puts it back. */
#ifndef TANDEM_MIGRATION_MANIFEST_H
#define TANDEM_MIGRATION_MANIFEST_H

#include <stdint.h>
#include <stdio.h>

#include "sha256.h"

#define MANIFEST_MAX_FILES 2

struct manifest_file {
        char kind[8];
        char sha256[SHA256_HEX_LEN];
        uint64_t size;
        char member[300];
        char path[4096];
};

struct manifest {
        char name[65];
        char created[32];
        unsigned nfiles;
        struct manifest_file files[MANIFEST_MAX_FILES];
};

int manifest_write(const char *path, const struct manifest *m);
/* Returns 0, or -1 with the first problem in err. */
int manifest_read(const char *path, struct manifest *m, char *err, size_t errlen);

#endif
