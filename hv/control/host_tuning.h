/* Host settings tandemd applies at start (host_tuning.c). */
#ifndef TANDEM_HOST_TUNING_H
#define TANDEM_HOST_TUNING_H

#include <stddef.h>

/* Returns 1 with what was changed in what, 0 when nothing needed changing
 * (or not root), -1 with the failure in what. */
int host_tuning_apply(char *what, size_t len);

#endif
