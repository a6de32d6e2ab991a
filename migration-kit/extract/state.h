/* Incremental extraction state (--since STATE), a JSON file:
 *   TICKETS.DAT: "offset" (bytes already extracted, whole records), the
 *     SHA-256 of that prefix with every status byte (col 42) zeroed, and
 *     "statuses" (one S/C per extracted record). Tickets are append-only
 *     except for the status byte, so a prefix whose masked hash changed was
 *     rewritten (refused), while a changed status is a cancellation that the
 *     next run moves as a status event.
 *   RACECARD.DAT, OPERATOR.DAT: the whole file's SHA-256; a changed file is
 *     moved again in full (they are small reference tables). */
#ifndef TANDEM_MIGRATION_STATE_H
#define TANDEM_MIGRATION_STATE_H

#include "extract.h"

/* Applies the state in path to x (a missing file means a first, full run).
 * Returns 0, or -1 with err when the state is unreadable or the disk was
 * rewritten behind it. */
int state_apply(const char *path, struct extraction *x, char *err, size_t errlen);
/* Records what x has now been extracted up to; atomic (write, fsync, rename). */
int state_save(const char *path, const struct extraction *x, char *err, size_t errlen);

#endif
