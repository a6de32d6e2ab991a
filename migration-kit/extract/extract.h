/* tandem-extract's in-memory result: every record of the legacy disk's
 * files, decoded or named as undecodable, plus what an incremental run
 * moves. Filled by scan.c, refined by state.c, written by sinks.c and
 * report.c. */
#ifndef TANDEM_MIGRATION_EXTRACT_H
#define TANDEM_MIGRATION_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"
#include "sha256.h"

enum source_kind { SRC_TICKETS, SRC_RACECARD, SRC_OPERATORS, SRC_COUNT };

struct source {
        const char *name; /* "TICKETS.DAT" */
        unsigned reclen;
        bool present;
        uint32_t size;
        char sha256[SHA256_HEX_LEN];
        uint8_t *data;
        bool moved; /* written out by this run (racecard/operators: whole file) */
};

struct bad_record {
        const char *file;
        uint32_t offset, len;
        char reason[96];
        char hex[2 * TICKET_LEN + 1]; /* the raw bytes, so nothing is lost */
};

struct extraction {
        char label[12];
        struct source src[SRC_COUNT];
        struct ticket *tickets;
        size_t ntickets;
        struct runner *runners;
        size_t nrunners;
        struct operator* operators;
        size_t noperators;
        struct bad_record *bad;
        size_t nbad;
        char (*unknown)[13]; /* root files that are not the terminal's */
        size_t nunknown;
        unsigned nsubdirs;
        uint32_t fat_mismatches;
        /* Incremental: tickets at or after this byte offset are new this run;
         * status_changed[i] marks older tickets cancelled since the last run. */
        uint32_t tickets_from;
        bool *status_changed;
        size_t nstatus_changed;
        bool incremental;
};

/* Reads and decodes the whole image on fd. Returns 0, or -1 with err when the
 * file system itself is unreadable. */
int extract_scan(int fd, struct extraction *x, char *err, size_t errlen);
void extract_free(struct extraction *x);

/* Day (YYYYMMDD) of a ticket. */
static inline void ticket_day(const struct ticket *t, char day[9])
{
        for (int i = 0; i < 8; i++)
                day[i] = t->sold_at[i];
        day[8] = 0;
}

#endif
