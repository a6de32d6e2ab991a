/* The data disk's fixed-width CP850 record files (docs/legacy-records.md). */
#ifndef LEGACY_RECORDS_H
#define LEGACY_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#define RACECARD_FILE "RACECARD.DAT"
#define OPERATOR_FILE "OPERATOR.DAT"
#define TICKETS_FILE  "TICKETS.DAT"
#define REPORTS_DIR   "REPORTS"
#define TOTALS_FILE   "TOTALS.DAT"

#define RACECARD_LEN 47
#define OPERATOR_LEN 32
#define TICKET_LEN   64
#define TOTALS_LEN   46

#define TRACK_W       12
#define RUNNER_W      20
#define TICKET_NAME_W 18
#define OPNAME_W      20

#define MAX_RUNNERS   256
#define MAX_OPERATORS 64
#define MAX_TICKETS   16384
#define STAKE_MIN     100    /* in öre: 1.00 */
#define STAKE_MAX     500000 /* 5000.00 */

struct runner {
        uint8_t race, number;
        char track[TRACK_W + 1]; /* CP850 */
        char post[6];            /* HH:MM */
        char name[RUNNER_W + 1]; /* CP850 */
};

struct operator_rec {
        uint16_t id, pin;
        char name[OPNAME_W + 1];
};

struct ticket {
        uint32_t number;
        char stamp[15]; /* YYYYMMDDHHMMSS */
        uint16_t operator_id;
        uint8_t race, runner;
        uint32_t stake; /* öre */
        char status;    /* 'S' sold, 'C' cancelled */
        char name[TICKET_NAME_W + 1];
};

/* Parse one line; false when it does not match the format. */
bool record_parse_runner(const char *line, struct runner *r);
bool record_parse_operator(const char *line, struct operator_rec *o);
bool record_parse_ticket(const char *line, struct ticket *t);
/* Formats exactly TICKET_LEN bytes (CRLF-terminated) into out. */
void record_format_ticket(const struct ticket *t, char out[TICKET_LEN]);
/* Offset of the status byte within a ticket record. */
#define TICKET_STATUS_OFF 42

#endif
