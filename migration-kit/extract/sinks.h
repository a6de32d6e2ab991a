/* Output formats of tandem-extract, all UTF-8, written into one directory:
 * tickets/racecard/operators as .jsonl and .csv (this run's moved records
 * only), and legacy.sqlite (cumulative: recreated by a full run, upserted by
 * an incremental one; keyed by byte offset so no record can hide another). */
#ifndef TANDEM_MIGRATION_SINKS_H
#define TANDEM_MIGRATION_SINKS_H

#include "extract.h"

/* "new", "status" (cancelled since the last run) or NULL (not moved). */
const char *ticket_event(const struct extraction *x, size_t i);

int sinks_write_text(const char *dir, const struct extraction *x, char *err, size_t errlen);
/* Writes the database, then reads its ticket count and stake total back into
 * *count and *sold_stakes so the report can reconcile the database itself. */
int sinks_write_sqlite(const char *dir, const struct extraction *x, long long *count,
                       long long *sold_stakes, char *err, size_t errlen);

#endif
