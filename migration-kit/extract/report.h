/* The reconciliation report: what was on the disk, what came out, and
 * whether it adds up (counts, stake totals per race and per day, cancelled
 * tickets, every byte of every record file accounted for, the database read
 * back). Written as report.json and report.txt. */
#ifndef TANDEM_MIGRATION_REPORT_H
#define TANDEM_MIGRATION_REPORT_H

#include <stdbool.h>

#include "extract.h"

struct db_check {
        long long tickets, sold_stakes;
};

/* Returns 0 when written; *reconciled tells whether every check passed. */
int report_write(const char *dir, const char *image, const struct extraction *x,
                 const struct db_check *db, bool *reconciled, char *err, size_t errlen);

#endif
