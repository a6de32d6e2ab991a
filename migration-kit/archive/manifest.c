#include "manifest.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int manifest_write(const char *path, const struct manifest *m)
{
        FILE *f = fopen(path, "w");
        if (!f)
                return -1;
        fprintf(f, "tandem-archive 1\nname %s\ncreated %s\n", m->name, m->created);
        for (unsigned i = 0; i < m->nfiles; i++) {
                const struct manifest_file *e = &m->files[i];
                fprintf(f, "file %s %s %" PRIu64 " %s %s\n", e->kind, e->sha256, e->size, e->member,
                        e->path);
        }
        return fclose(f);
}

/* A member is KIND/BASENAME with a plain base name: nothing that could
 * climb out of the directory it is extracted into. */
static int member_ok(const struct manifest_file *e)
{
        size_t k = strlen(e->kind);
        const char *base = e->member + k + 1;
        return strncmp(e->member, e->kind, k) == 0 && e->member[k] == '/' && *base &&
               !strchr(base, '/') && strcmp(base, ".") && strcmp(base, "..");
}

int manifest_read(const char *path, struct manifest *m, char *err, size_t errlen)
{
        memset(m, 0, sizeof(*m));
        FILE *f = fopen(path, "r");
        if (!f) {
                snprintf(err, errlen, "archive has no MANIFEST");
                return -1;
        }
        char line[8192];
        int n = 0, rc = 0;
        while (rc == 0 && fgets(line, sizeof(line), f)) {
                n++;
                line[strcspn(line, "\n")] = 0;
                struct manifest_file *e = &m->files[m->nfiles];
                int pos = 0;
                if (n == 1) {
                        if (strcmp(line, "tandem-archive 1"))
                                rc = -1;
                } else if (!strncmp(line, "name ", 5)) {
                        snprintf(m->name, sizeof(m->name), "%.64s", line + 5);
                } else if (!strncmp(line, "created ", 8)) {
                        snprintf(m->created, sizeof(m->created), "%.31s", line + 8);
                } else if (m->nfiles < MANIFEST_MAX_FILES &&
                           sscanf(line, "file %7s %64s %" SCNu64 " %299s %n", e->kind, e->sha256,
                                  &e->size, e->member, &pos) == 4 &&
                           pos > 0 && line[pos] && strlen(e->sha256) == 64 &&
                           (!strcmp(e->kind, "disk") || !strcmp(e->kind, "config")) &&
                           member_ok(e)) {
                        snprintf(e->path, sizeof(e->path), "%.4095s", line + pos);
                        m->nfiles++;
                } else {
                        rc = -1;
                }
        }
        fclose(f);
        if (rc < 0)
                snprintf(err, errlen, "MANIFEST line %d is malformed", n);
        else if (!m->nfiles || strcmp(m->files[0].kind, "disk"))
                snprintf(err, errlen, "MANIFEST names no disk"), rc = -1;
        return rc;
}
