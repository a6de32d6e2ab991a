#include "records.h"

#include <stdbool.h>
#include <string.h>

#include "cp850.h"

static bool digits(const uint8_t *p, size_t n, unsigned *val)
{
        unsigned v = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return false;
                v = v * 10 + (unsigned)(p[i] - '0');
        }
        *val = v;
        return true;
}

/* CP850 text field to UTF-8 (out holds 3*n+1), trailing spaces stripped.
 * Control bytes never occur in names, so they mark a damaged record. */
static bool text(const uint8_t *p, size_t n, char *out)
{
        while (n && p[n - 1] == ' ')
                n--;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < 0x20 || p[i] == 0x7F)
                        return false;
                k += utf8_put(out + k, cp850_to_unicode(p[i]));
        }
        out[k] = 0;
        return true;
}

static bool spaces_at(const uint8_t *rec, const unsigned *cols, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (rec[cols[i]] != ' ')
                        return false;
        return true;
}

static bool valid_stamp(const uint8_t *p)
{
        unsigned y, mo, d, h, mi, s;
        return digits(p, 4, &y) && digits(p + 4, 2, &mo) && digits(p + 6, 2, &d) &&
               digits(p + 8, 2, &h) && digits(p + 10, 2, &mi) && digits(p + 12, 2, &s) &&
               y >= 1980 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60;
}

#define REJECT(msg)                                                                                \
        do {                                                                                       \
                *why = msg;                                                                        \
                return -1;                                                                         \
        } while (0)

int ticket_decode(const uint8_t rec[TICKET_LEN], struct ticket *t, const char **why)
{
        static const unsigned seps[] = {6, 21, 26, 29, 32, 41, 43};
        unsigned stake;
        if (rec[62] != '\r' || rec[63] != '\n')
                REJECT("no CR LF at columns 62-63");
        if (!spaces_at(rec, seps, sizeof(seps) / sizeof(seps[0])))
                REJECT("field separator is not a space");
        if (!digits(rec, 6, &t->number) || t->number == 0)
                REJECT("ticket number is not 6 digits from 000001");
        if (!valid_stamp(rec + 7))
                REJECT("sale time is not a valid YYYYMMDDHHMMSS");
        if (!digits(rec + 22, 4, &t->operator_id))
                REJECT("operator id is not 4 digits");
        if (!digits(rec + 27, 2, &t->race) || t->race == 0)
                REJECT("race number is not 01..99");
        if (!digits(rec + 30, 2, &t->runner) || t->runner == 0)
                REJECT("runner number is not 01..99");
        if (!digits(rec + 33, 8, &stake))
                REJECT("stake is not 8 digits");
        if (rec[STATUS_COL] != 'S' && rec[STATUS_COL] != 'C')
                REJECT("status is neither S nor C");
        if (!text(rec + 44, 18, t->name))
                REJECT("runner name holds control bytes");
        t->stake_ore = stake;
        memcpy(t->sold_at, rec + 7, 14);
        t->sold_at[14] = 0;
        t->status = (char)rec[STATUS_COL];
        return 0;
}

int runner_decode(const uint8_t rec[RUNNER_LEN], struct runner *r, const char **why)
{
        static const unsigned seps[] = {2, 15, 21, 24};
        unsigned hh, mm;
        if (rec[45] != '\r' || rec[46] != '\n')
                REJECT("no CR LF at columns 45-46");
        if (!spaces_at(rec, seps, sizeof(seps) / sizeof(seps[0])))
                REJECT("field separator is not a space");
        if (!digits(rec, 2, &r->race) || r->race == 0)
                REJECT("race number is not 01..99");
        if (!text(rec + 3, 12, r->track) || !r->track[0])
                REJECT("track name is empty or holds control bytes");
        if (!digits(rec + 16, 2, &hh) || rec[18] != ':' || !digits(rec + 19, 2, &mm) || hh > 23 ||
            mm > 59)
                REJECT("post time is not HH:MM");
        if (!digits(rec + 22, 2, &r->number) || r->number == 0)
                REJECT("runner number is not 01..99");
        if (!text(rec + 25, 20, r->name) || !r->name[0])
                REJECT("runner name is empty or holds control bytes");
        memcpy(r->post, rec + 16, 5);
        r->post[5] = 0;
        return 0;
}

int operator_decode(const uint8_t rec[OPERATOR_LEN], struct operator* o, const char **why)
{
        static const unsigned seps[] = {4, 9};
        unsigned pin;
        if (rec[30] != '\r' || rec[31] != '\n')
                REJECT("no CR LF at columns 30-31");
        if (!spaces_at(rec, seps, sizeof(seps) / sizeof(seps[0])))
                REJECT("field separator is not a space");
        if (!digits(rec, 4, &o->id))
                REJECT("operator id is not 4 digits");
        if (!digits(rec + 5, 4, &pin))
                REJECT("PIN is not 4 digits");
        if (!text(rec + 10, 20, o->name) || !o->name[0])
                REJECT("operator name is empty or holds control bytes");
        return 0;
}
