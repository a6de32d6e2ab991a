/* Decoders for the legacy terminal's fixed-width CP850 records
 * (docs/legacy-records.md). Text comes out as UTF-8 with trailing spaces
 * stripped. A record that breaks the layout is rejected with a reason; the
 * caller reports it with its file and byte offset. */
#ifndef TANDEM_MIGRATION_RECORDS_H
#define TANDEM_MIGRATION_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#define TICKET_LEN   64
#define RUNNER_LEN   47
#define OPERATOR_LEN 32
#define STATUS_COL   42 /* the only byte a cancel rewrites */

/* Worst case UTF-8: 3 bytes per CP850 byte (box drawing), plus NUL. */
struct ticket {
        uint32_t offset; /* byte offset in TICKETS.DAT (set by the caller) */
        unsigned number, operator_id, race, runner;
        uint32_t stake_ore;
        char sold_at[15]; /* YYYYMMDDHHMMSS */
        char status;      /* 'S' or 'C' */
        char name[18 * 3 + 1];
};

struct runner {
        uint32_t offset;
        unsigned race, number;
        char track[12 * 3 + 1], post[6], name[20 * 3 + 1];
};

/* The PIN column is deliberately not decoded: a credential does not leave
 * the legacy disk. */
struct operator
{
        uint32_t offset;
        unsigned id;
        char name[20 * 3 + 1];
};

int ticket_decode(const uint8_t rec[TICKET_LEN], struct ticket *t, const char **why);
int runner_decode(const uint8_t rec[RUNNER_LEN], struct runner *r, const char **why);
int operator_decode(const uint8_t rec[OPERATOR_LEN], struct operator* o, const char **why);

#endif
