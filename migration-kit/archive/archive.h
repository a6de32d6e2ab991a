/* tandem-archive operations (docs/migration.md). Each returns 0 on success;
 * on failure -1 with one line in err. */
#ifndef TANDEM_MIGRATION_ARCHIVE_H
#define TANDEM_MIGRATION_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

int archive_create(const char *name, const char *disk, const char *config, const char *out,
                   char *err, size_t errlen);
/* Checks the archive's SHA-256 (ARCHIVE.sha256), the zstd frame checksums,
 * the member list and every member against MANIFEST. */
int archive_verify(const char *archive, char *err, size_t errlen);
/* Verifies, then writes each file back (to its original path, or into
 * to_dir when given) and checks it byte for byte against the manifest.
 * An existing target is replaced only with force, and only when offline. */
int archive_restore(const char *archive, const char *to_dir, bool force, char *err, size_t errlen);
/* Verifies, then deletes the original disk and config, each only when it is
 * offline and still identical to its archived copy. Without yes, lists what
 * would go and fails. */
int archive_purge(const char *archive, bool yes, char *err, size_t errlen);

#endif
