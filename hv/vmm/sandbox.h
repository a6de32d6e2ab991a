/* The VMM's seccomp allow-list, applied once setup is done (sandbox.c). */
#ifndef TANDEM_SANDBOX_H
#define TANDEM_SANDBOX_H

#include <stddef.h>

/* Sets no_new_privs and loads the filter on every thread. Returns 0, or -1
 * with a one-line reason in err. */
int sandbox_apply(char *err, size_t errlen);

#endif
