#include "records.h"

#include "../kernel/lib.h"

static bool is_space(const char *s, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                if (s[i] != ' ')
                        return false;
        return true;
}

static bool line_end(const char *s)
{
        return s[0] == '\r' && s[1] == '\n';
}

/* RR_TTTTTTTTTTTT_HH:MM_NN_NAME(20)CRLF */
bool record_parse_runner(const char *l, struct runner *r)
{
        long race = parse_digits(l, 2), num = parse_digits(l + 22, 2);
        long hh = parse_digits(l + 16, 2), mm = parse_digits(l + 19, 2);
        if (race <= 0 || num <= 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || l[18] != ':' ||
            !is_space(l + 2, 1) || !is_space(l + 15, 1) || !is_space(l + 21, 1) ||
            !is_space(l + 24, 1) || !line_end(l + 45))
                return false;
        r->race = (uint8_t)race;
        r->number = (uint8_t)num;
        field_copy(r->track, l + 3, TRACK_W);
        memcpy(r->post, l + 16, 5);
        r->post[5] = 0;
        field_copy(r->name, l + 25, RUNNER_W);
        return r->track[0] && r->name[0];
}

/* IIII_PPPP_NAME(20)__CRLF */
bool record_parse_operator(const char *l, struct operator_rec *o)
{
        long id = parse_digits(l, 4), pin = parse_digits(l + 5, 4);
        if (id <= 0 || pin < 0 || l[4] != ' ' || l[9] != ' ' || !line_end(l + 30))
                return false;
        o->id = (uint16_t)id;
        o->pin = (uint16_t)pin;
        field_copy(o->name, l + 10, OPNAME_W);
        return o->name[0] != 0;
}

/* NNNNNN_YYYYMMDDHHMMSS_OOOO_RR_NN_SSSSSSSS_X_NAME(18)CRLF */
bool record_parse_ticket(const char *l, struct ticket *t)
{
        long num = parse_digits(l, 6), op = parse_digits(l + 22, 4);
        long race = parse_digits(l + 27, 2), runner = parse_digits(l + 30, 2);
        long stake = parse_digits(l + 33, 8);
        if (num <= 0 || op < 0 || race <= 0 || runner <= 0 || stake < 0 ||
            parse_digits(l + 7, 14) < 0 || l[6] != ' ' || l[21] != ' ' || l[26] != ' ' ||
            l[29] != ' ' || l[32] != ' ' || l[41] != ' ' || l[43] != ' ' ||
            (l[42] != 'S' && l[42] != 'C') || !line_end(l + 62))
                return false;
        t->number = (uint32_t)num;
        memcpy(t->stamp, l + 7, 14);
        t->stamp[14] = 0;
        t->operator_id = (uint16_t)op;
        t->race = (uint8_t)race;
        t->runner = (uint8_t)runner;
        t->stake = (uint32_t)stake;
        t->status = l[42];
        field_copy(t->name, l + 44, TICKET_NAME_W);
        return true;
}

void record_format_ticket(const struct ticket *t, char out[TICKET_LEN])
{
        char buf[TICKET_LEN + 8];
        char name[TICKET_NAME_W + 1];
        unsigned n = (unsigned)strlen(t->name);
        if (n > TICKET_NAME_W)
                n = TICKET_NAME_W;
        memcpy(name, t->name, n);
        name[n] = 0;
        fmt(buf, sizeof(buf), "%06u %s %04u %02u %02u %08u %c %-18s\r\n", t->number, t->stamp,
            t->operator_id, t->race, t->runner, t->stake, t->status, name);
        memcpy(out, buf, TICKET_LEN);
}
