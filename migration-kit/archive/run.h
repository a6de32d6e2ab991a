/* Runs a helper program (tar, zstd) and waits for it. */
#ifndef TANDEM_MIGRATION_RUN_H
#define TANDEM_MIGRATION_RUN_H

#include <stddef.h>

/* Runs argv (PATH lookup) with stdout to out_path (NULL: inherit) and stderr
 * captured. Returns 0 on exit status 0; otherwise -1 with "argv[0]: first
 * line of its stderr" in err. */
int run_program(char *const argv[], const char *out_path, char *err, size_t errlen);

#endif
