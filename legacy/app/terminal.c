/* The branch betting terminal: operator login, ticket sale and cancel with
 * validation against the race card, a printed receipt per ticket, and the
 * end-of-day totals. Every sale is on disk (data, metadata, flush) before
 * its receipt is printed. */
#include "../../pvdrivers/legacy/printer.h"
#include "../../pvdrivers/legacy/soundfront.h"
#include "../../pvdrivers/legacy/usbfront.h"
#include "../kernel/fat16.h"
#include "../kernel/kernel.h"
#include "../kernel/lib.h"
#include "../kernel/vio.h"
#include "../net/net.h"
#include "records.h"

#define A_TEXT  VIO_ATTR(VIO_GREY, VIO_BLACK)
#define A_TITLE VIO_ATTR(VIO_WHITE, VIO_BLUE)
#define A_HELP  VIO_ATTR(VIO_BLACK, VIO_GREY)
#define A_FIELD VIO_ATTR(VIO_YELLOW, VIO_BLUE)
#define A_LABEL VIO_ATTR(VIO_WHITE, VIO_BLACK)
#define A_ERROR VIO_ATTR(VIO_WHITE, VIO_RED)
#define A_OK    VIO_ATTR(VIO_BLACK, VIO_GREEN)

enum screen { S_FATAL, S_LOGIN, S_MENU, S_SELL, S_CANCEL, S_TOTALS };

struct field {
        const char *label;
        uint32_t width;
        bool secret, decimal;
        char buf[12];
        uint32_t len;
};

static struct {
        enum screen screen;
        struct field fields[3];
        unsigned nfields, cur;
        const struct operator_rec *op;
        struct fat_file tickets;
        uint32_t nrecords; /* records in TICKETS.DAT */
        uint32_t next_number;
        char message[100];
        uint8_t message_attr;
        char fatal[100];
        bool wide;
} ui;

static struct runner runners[MAX_RUNNERS];
static unsigned nrunners;
static struct operator_rec operators[MAX_OPERATORS];
static unsigned noperators;
/* Per ticket number: stake and status, for cancel and totals. */
static uint32_t stake_of[MAX_TICKETS + 1];
static char status_of[MAX_TICKETS + 1];
static uint16_t op_of[MAX_TICKETS + 1];
static char filebuf[MAX_RUNNERS * RACECARD_LEN];

/* ---- data ---- */

static int load_lines(const char *path, unsigned reclen, unsigned max, char *buf, uint32_t *count)
{
        struct fat_file f;
        int r = fat_open(path, &f);
        if (r < 0)
                return r;
        if (f.size % reclen || f.size / reclen > max)
                return FAT_EINVAL;
        r = fat_read(&f, 0, buf, f.size);
        if (r < 0 || (uint32_t)r != f.size)
                return FAT_EIO;
        *count = f.size / reclen;
        return 0;
}

static bool load_data(void)
{
        uint32_t n;
        int r = load_lines(RACECARD_FILE, RACECARD_LEN, MAX_RUNNERS, filebuf, &n);
        if (r < 0) {
                fmt(ui.fatal, sizeof(ui.fatal), "NOT A TANDEM DATA DISK: %s %s", RACECARD_FILE,
                    r == FAT_ENOENT ? "missing" : "unreadable or malformed");
                return false;
        }
        for (uint32_t i = 0; i < n; i++) {
                if (!record_parse_runner(filebuf + i * RACECARD_LEN, &runners[nrunners])) {
                        fmt(ui.fatal, sizeof(ui.fatal), "DATA DISK CORRUPT: %s line %u malformed",
                            RACECARD_FILE, i + 1);
                        return false;
                }
                nrunners++;
        }
        r = load_lines(OPERATOR_FILE, OPERATOR_LEN, MAX_OPERATORS, filebuf, &n);
        if (r < 0) {
                fmt(ui.fatal, sizeof(ui.fatal), "NOT A TANDEM DATA DISK: %s %s", OPERATOR_FILE,
                    r == FAT_ENOENT ? "missing" : "unreadable or malformed");
                return false;
        }
        for (uint32_t i = 0; i < n; i++) {
                if (!record_parse_operator(filebuf + i * OPERATOR_LEN, &operators[noperators])) {
                        fmt(ui.fatal, sizeof(ui.fatal), "DATA DISK CORRUPT: %s line %u malformed",
                            OPERATOR_FILE, i + 1);
                        return false;
                }
                noperators++;
        }
        r = fat_open(TICKETS_FILE, &ui.tickets);
        if (r == FAT_ENOENT)
                r = fat_create(TICKETS_FILE, &ui.tickets);
        if (r < 0) {
                fmt(ui.fatal, sizeof(ui.fatal), "DATA DISK ERROR: cannot open %s", TICKETS_FILE);
                return false;
        }
        /* A torn tail (never written by this terminal) is ignored and overwritten. */
        ui.nrecords = ui.tickets.size / TICKET_LEN;
        if (ui.nrecords > MAX_TICKETS) {
                fmt(ui.fatal, sizeof(ui.fatal), "%s holds more than %u tickets", TICKETS_FILE,
                    MAX_TICKETS);
                return false;
        }
        ui.next_number = 1;
        const uint32_t chunk = sizeof(filebuf) / TICKET_LEN;
        for (uint32_t i = 0; i < ui.nrecords; i += chunk) {
                uint32_t cnt = ui.nrecords - i < chunk ? ui.nrecords - i : chunk;
                if (fat_read(&ui.tickets, i * TICKET_LEN, filebuf, cnt * TICKET_LEN) !=
                    (int)(cnt * TICKET_LEN)) {
                        fmt(ui.fatal, sizeof(ui.fatal), "DATA DISK ERROR: cannot read %s",
                            TICKETS_FILE);
                        return false;
                }
                for (uint32_t k = 0; k < cnt; k++) {
                        struct ticket t;
                        if (!record_parse_ticket(filebuf + k * TICKET_LEN, &t) ||
                            t.number > MAX_TICKETS) {
                                klog("legacy: %s record %u malformed, skipped\n", TICKETS_FILE,
                                     i + k + 1);
                                continue;
                        }
                        stake_of[t.number] = t.stake;
                        status_of[t.number] = t.status;
                        op_of[t.number] = t.operator_id;
                        if (t.number >= ui.next_number)
                                ui.next_number = t.number + 1;
                }
        }
        klog("legacy: %u runners, %u operators, %u tickets\n", nrunners, noperators, ui.nrecords);
        return true;
}

static const struct runner *find_runner(unsigned race, unsigned number)
{
        for (unsigned i = 0; i < nrunners; i++)
                if (runners[i].race == race && (!number || runners[i].number == number))
                        return &runners[i];
        return 0;
}

/* ---- drawing ---- */

static void draw_clock(void)
{
        struct local_time t;
        kernel_now(&t);
        char buf[24];
        fmt(buf, sizeof(buf), "%04u-%02u-%02u %02u:%02u", t.year, t.month, t.day, t.hour, t.min);
        vio_print(vio_cols() - 17, 0, A_TITLE, buf);
}

static void draw_frame(const char *title, const char *help)
{
        vio_clear(A_TEXT);
        vio_fill(0, 0, vio_cols(), ' ', A_TITLE);
        vio_print(1, 0, A_TITLE, "TANDEM TOTE - Branch betting terminal");
        draw_clock();
        vio_print(2, 2, A_LABEL, title);
        if (ui.op) {
                char buf[48];
                fmt(buf, sizeof(buf), "Operator %04u %s", ui.op->id, ui.op->name);
                vio_print(vio_cols() - 2 - (uint32_t)strlen(buf), 2, A_LABEL, buf);
        }
        vio_fill(0, vio_rows() - 1, vio_cols(), ' ', A_HELP);
        vio_print(1, vio_rows() - 1, A_HELP, help);
}

static void draw_message(void)
{
        uint32_t y = vio_rows() - 3;
        vio_fill(0, y, vio_cols(), ' ', A_TEXT);
        if (ui.message[0])
                vio_print(2, y, ui.message_attr, ui.message);
}

static void set_message(uint8_t attr, const char *text)
{
        ui.message_attr = attr;
        fmt(ui.message, sizeof(ui.message), "%s", text);
        draw_message();
        if (attr == A_ERROR)
                sound_tone(SOUND_TONE_ERROR_HZ, SOUND_TONE_ERROR_MS);
}

static void draw_field(unsigned i)
{
        struct field *f = &ui.fields[i];
        uint32_t y = 5 + 2 * i;
        vio_print(4, y, A_LABEL, f->label);
        vio_fill(20, y, f->width, ' ', A_FIELD);
        char shown[12];
        for (uint32_t k = 0; k < f->len; k++)
                shown[k] = f->secret ? '*' : f->buf[k];
        shown[f->len] = 0;
        vio_print(20, y, A_FIELD, shown);
        if (i == ui.cur)
                vio_cursor(20 + f->len, y, 1);
}

static void set_fields(unsigned n, const struct field *defs)
{
        ui.nfields = n;
        ui.cur = 0;
        for (unsigned i = 0; i < n; i++) {
                ui.fields[i] = defs[i];
                ui.fields[i].len = 0;
                ui.fields[i].buf[0] = 0;
        }
        for (unsigned i = 0; i < n; i++)
                draw_field(i);
        draw_field(0);
}

static void clear_fields(void)
{
        for (unsigned i = 0; i < ui.nfields; i++) {
                ui.fields[i].len = 0;
                ui.fields[i].buf[0] = 0;
        }
        ui.cur = 0;
        for (unsigned i = 0; i < ui.nfields; i++)
                draw_field(i);
        draw_field(0);
}

static void focus(unsigned i)
{
        ui.cur = i;
        draw_field(i);
}

static void draw_racecard(uint32_t y)
{
        vio_print(4, y, A_LABEL, "RACE CARD");
        unsigned last = 0;
        uint32_t row = y + 1;
        for (unsigned i = 0; i < nrunners && row < vio_rows() - 4; i++) {
                const struct runner *r = &runners[i];
                if (r->race == last)
                        continue;
                last = r->race;
                char buf[80];
                fmt(buf, sizeof(buf), "Race %02u  %-12s %s", r->race, r->track, r->post);
                vio_print(4, row++, A_TEXT, buf);
        }
}

static void draw_runners(unsigned race)
{
        uint32_t x = 44, y = 5;
        for (uint32_t k = 0; k < 12; k++)
                vio_fill(x, y + k, vio_cols() - x, ' ', A_TEXT);
        if (!race)
                return;
        unsigned row = 0;
        for (unsigned i = 0; i < nrunners && row < 12; i++) {
                if (runners[i].race != race)
                        continue;
                char buf[40];
                fmt(buf, sizeof(buf), "%2u %s", runners[i].number, runners[i].name);
                vio_print(x, y + row++, A_TEXT, buf);
        }
}

/* ---- screens ---- */

static void show_login(void);
static void show_menu(void);

static void show_fatal(void)
{
        ui.screen = S_FATAL;
        draw_frame("DATA DISK REFUSED", "Switch off, replace the data disk, switch on");
        vio_print(4, 6, A_ERROR, ui.fatal);
        vio_print(4, 8, A_TEXT, "No tickets can be sold until a valid data disk is fitted.");
        vio_cursor(0, 0, 0);
}

static void show_login(void)
{
        static const struct field defs[] = {{.label = "Operator ID", .width = 4},
                                            {.label = "PIN", .width = 4, .secret = true}};
        ui.screen = S_LOGIN;
        ui.op = 0;
        draw_frame("OPERATOR LOGIN", "Enter=next/confirm  Esc=clear");
        set_fields(2, defs);
        draw_message();
}

static void show_menu(void)
{
        ui.screen = S_MENU;
        ui.nfields = 0;
        draw_frame("MAIN MENU", "1-5 choose");
        static const char *const items[] = {"1  Sell ticket", "2  Cancel ticket", "3  Day totals",
                                            "4  Log out", "5  Toggle 80x25 / 132x43 display"};
        for (unsigned i = 0; i < 5; i++)
                vio_print(6, 5 + 2 * i, A_LABEL, items[i]);
        vio_cursor(0, 0, 0);
        draw_message();
}

static void show_sell(void)
{
        static const struct field defs[] = {{.label = "Race", .width = 2},
                                            {.label = "Runner", .width = 2},
                                            {.label = "Stake SEK", .width = 8, .decimal = true}};
        ui.screen = S_SELL;
        draw_frame("SELL TICKET", "Enter=next/sell  Esc=menu");
        draw_racecard(12);
        set_fields(3, defs);
        draw_message();
}

static void show_cancel(void)
{
        static const struct field defs[] = {{.label = "Ticket no", .width = 6}};
        ui.screen = S_CANCEL;
        draw_frame("CANCEL TICKET", "Enter=cancel ticket  Esc=menu");
        set_fields(1, defs);
        draw_message();
}

struct totals {
        uint32_t sold, cancelled, stake;
        uint32_t op_sold, op_stake;
};

static void compute_totals(struct totals *t)
{
        *t = (struct totals){0};
        for (uint32_t n = 1; n < ui.next_number && n <= MAX_TICKETS; n++) {
                if (status_of[n] == 'S') {
                        t->sold++;
                        t->stake += stake_of[n];
                        if (ui.op && op_of[n] == ui.op->id) {
                                t->op_sold++;
                                t->op_stake += stake_of[n];
                        }
                } else if (status_of[n] == 'C') {
                        t->cancelled++;
                }
        }
}

static void show_totals(void)
{
        ui.screen = S_TOTALS;
        ui.nfields = 0;
        draw_frame("END OF DAY TOTALS", "P=print totals  Esc=menu");
        struct totals t;
        compute_totals(&t);
        char buf[80];
        fmt(buf, sizeof(buf), "Tickets sold       %6u", t.sold);
        vio_print(6, 5, A_LABEL, buf);
        fmt(buf, sizeof(buf), "Tickets cancelled  %6u", t.cancelled);
        vio_print(6, 6, A_LABEL, buf);
        fmt(buf, sizeof(buf), "Total stakes SEK   %6u.%02u", t.stake / 100, t.stake % 100);
        vio_print(6, 7, A_LABEL, buf);
        fmt(buf, sizeof(buf), "This operator      %6u tickets, SEK %u.%02u", t.op_sold,
            t.op_stake / 100, t.op_stake % 100);
        vio_print(6, 9, A_LABEL, buf);
        vio_cursor(0, 0, 0);
        draw_message();
}

/* ---- actions ---- */

static void do_login(void)
{
        long id = parse_digits(ui.fields[0].buf, ui.fields[0].len);
        long pin = parse_digits(ui.fields[1].buf, ui.fields[1].len);
        for (unsigned i = 0; i < noperators; i++) {
                if (ui.fields[0].len == 4 && ui.fields[1].len == 4 && operators[i].id == id &&
                    operators[i].pin == pin) {
                        ui.op = &operators[i];
                        ui.message[0] = 0;
                        klog("legacy: operator %04u logged in\n", (uint32_t)id);
                        show_menu();
                        return;
                }
        }
        clear_fields();
        set_message(A_ERROR, "INVALID OPERATOR OR PIN");
}

/* "20", "20.5", "20.50" -> öre; -1 when malformed or out of range. */
static long parse_stake(const char *s, uint32_t len)
{
        long whole = 0, frac = 0;
        uint32_t i = 0, digits = 0, fdigits = 0;
        for (; i < len && s[i] != '.'; i++, digits++) {
                if (s[i] < '0' || s[i] > '9' || digits >= 5)
                        return -1;
                whole = whole * 10 + (s[i] - '0');
        }
        if (digits == 0)
                return -1;
        if (i < len) {
                for (i++; i < len; i++, fdigits++) {
                        if (s[i] < '0' || s[i] > '9' || fdigits >= 2)
                                return -1;
                        frac = frac * 10 + (s[i] - '0');
                }
                if (fdigits == 1)
                        frac *= 10;
        }
        long ore = whole * 100 + frac;
        return ore < STAKE_MIN || ore > STAKE_MAX ? -1 : ore;
}

static bool check_race(void)
{
        long race = parse_digits(ui.fields[0].buf, ui.fields[0].len);
        if (ui.fields[0].len == 0 || race <= 0 || !find_runner((unsigned)race, 0)) {
                char buf[64];
                fmt(buf, sizeof(buf), "UNKNOWN RACE %s - see the race card", ui.fields[0].buf);
                set_message(A_ERROR, buf);
                draw_runners(0);
                return false;
        }
        draw_runners((unsigned)race);
        return true;
}

static bool check_runner(void)
{
        long race = parse_digits(ui.fields[0].buf, ui.fields[0].len);
        long num = parse_digits(ui.fields[1].buf, ui.fields[1].len);
        if (ui.fields[1].len == 0 || num <= 0 || !find_runner((unsigned)race, (unsigned)num)) {
                char buf[64];
                fmt(buf, sizeof(buf), "UNKNOWN RUNNER %s IN RACE %02u", ui.fields[1].buf,
                    (uint32_t)race);
                set_message(A_ERROR, buf);
                return false;
        }
        return true;
}

/* A PV USB printer, when one is attached, gets the receipts; else the
 * domain's spool printer (PRINTER_WRITE). */
static int print_bytes(const char *buf, int n)
{
        int r = usb_printer_write(buf, (size_t)n);
        return r == TPV_ENODEV ? pv_printer_write(buf, (size_t)n) : r;
}

static void print_receipt(const struct ticket *t, const struct runner *r, bool cancel)
{
        char buf[512];
        int n = fmt(buf, sizeof(buf),
                    "================================\r\n"
                    " TANDEM TOTE %s\r\n"
                    " TICKET %06u\r\n"
                    " %c%c%c%c-%c%c-%c%c %c%c:%c%c:%c%c  OP %04u\r\n"
                    " RACE %02u %-12s %s\r\n"
                    " RUNNER %02u %s\r\n"
                    " STAKE SEK %u.%02u\r\n"
                    "================================\r\n"
                    "END TICKET %06u\r\n\f",
                    cancel ? "CANCELLATION" : "RECEIPT", t->number, t->stamp[0], t->stamp[1],
                    t->stamp[2], t->stamp[3], t->stamp[4], t->stamp[5], t->stamp[6], t->stamp[7],
                    t->stamp[8], t->stamp[9], t->stamp[10], t->stamp[11], t->stamp[12],
                    t->stamp[13], t->operator_id, t->race, r ? r->track : "?", r ? r->post : "",
                    t->runner, t->name, t->stake / 100, t->stake % 100, t->number);
        if (print_bytes(buf, n) < 0)
                set_message(A_ERROR, "TICKET SAVED BUT RECEIPT NOT PRINTED - CHECK PRINTER");
}

static void stamp_now(char out[15])
{
        struct local_time lt;
        kernel_now(&lt);
        fmt(out, 15, "%04u%02u%02u%02u%02u%02u", lt.year, lt.month, lt.day, lt.hour, lt.min,
            lt.sec);
}

static void do_sell(void)
{
        if (!check_race()) {
                focus(0);
                return;
        }
        if (!check_runner()) {
                focus(1);
                return;
        }
        long stake = parse_stake(ui.fields[2].buf, ui.fields[2].len);
        if (stake < 0) {
                char buf[64];
                fmt(buf, sizeof(buf), "INVALID STAKE %s - enter 1.00 to 5000.00 SEK",
                    ui.fields[2].buf);
                set_message(A_ERROR, buf);
                ui.fields[2].len = 0;
                ui.fields[2].buf[0] = 0;
                focus(2);
                return;
        }
        if (ui.next_number > MAX_TICKETS) {
                set_message(A_ERROR, "TICKET FILE FULL - CALL SUPPORT");
                return;
        }
        unsigned race = (unsigned)parse_digits(ui.fields[0].buf, ui.fields[0].len);
        unsigned num = (unsigned)parse_digits(ui.fields[1].buf, ui.fields[1].len);
        const struct runner *r = find_runner(race, num);
        struct ticket t = {.number = ui.next_number,
                           .operator_id = ui.op->id,
                           .race = (uint8_t)race,
                           .runner = (uint8_t)num,
                           .stake = (uint32_t)stake,
                           .status = 'S'};
        stamp_now(t.stamp);
        fmt(t.name, sizeof(t.name), "%s", r->name);
        char rec[TICKET_LEN];
        record_format_ticket(&t, rec);
        int w = fat_write(&ui.tickets, ui.nrecords * TICKET_LEN, rec, TICKET_LEN);
        if (w < 0) {
                set_message(A_ERROR, w == FAT_ENOSPC ? "DISK FULL - TICKET NOT SAVED. CALL SUPPORT"
                                                     : "DISK ERROR - TICKET NOT SAVED");
                klog("legacy: ticket %06u not saved: error %d\n", t.number, w);
                return;
        }
        ui.nrecords++;
        ui.next_number++;
        stake_of[t.number] = t.stake;
        status_of[t.number] = 'S';
        op_of[t.number] = t.operator_id;
        char buf[100];
        fmt(buf, sizeof(buf), "TICKET %06u SAVED: %s R%02u #%02u %s SEK %u.%02u", t.number,
            r->track, race, num, r->name, t.stake / 100, t.stake % 100);
        clear_fields();
        draw_runners(0);
        set_message(A_OK, buf);
        sound_tone(SOUND_TONE_SALE_HZ, SOUND_TONE_SALE_MS);
        net_ticket_summary(rec, TICKET_LEN);
        print_receipt(&t, r, false);
}

static void do_cancel(void)
{
        long n = parse_digits(ui.fields[0].buf, ui.fields[0].len);
        char buf[80];
        if (ui.fields[0].len == 0 || n <= 0 || n >= (long)ui.next_number || !status_of[n]) {
                fmt(buf, sizeof(buf), "NO SUCH TICKET %s", ui.fields[0].buf);
                set_message(A_ERROR, buf);
                clear_fields();
                return;
        }
        if (status_of[n] == 'C') {
                fmt(buf, sizeof(buf), "TICKET %06u IS ALREADY CANCELLED", (uint32_t)n);
                set_message(A_ERROR, buf);
                clear_fields();
                return;
        }
        /* Find the record (tickets are appended in order; scan to be safe). */
        struct ticket t;
        char rec[TICKET_LEN];
        uint32_t idx = (uint32_t)n - 1;
        bool found = false;
        for (uint32_t k = 0; k < ui.nrecords && !found; k++) {
                uint32_t i = (idx + k) % ui.nrecords;
                if (fat_read(&ui.tickets, i * TICKET_LEN, rec, TICKET_LEN) == TICKET_LEN &&
                    record_parse_ticket(rec, &t) && t.number == (uint32_t)n) {
                        idx = i;
                        found = true;
                }
        }
        if (!found) {
                set_message(A_ERROR, "DISK ERROR - TICKET RECORD NOT FOUND");
                return;
        }
        char c = 'C';
        if (fat_write(&ui.tickets, idx * TICKET_LEN + TICKET_STATUS_OFF, &c, 1) < 0) {
                set_message(A_ERROR, "DISK ERROR - TICKET NOT CANCELLED");
                return;
        }
        status_of[n] = 'C';
        fmt(buf, sizeof(buf), "TICKET %06u CANCELLED, REFUND SEK %u.%02u", (uint32_t)n,
            t.stake / 100, t.stake % 100);
        clear_fields();
        set_message(A_OK, buf);
        print_receipt(&t, find_runner(t.race, t.runner), true);
}

/* Appends the totals to REPORTS/TOTALS.DAT (the directory is created on
 * first use) so the day's figures survive the ticket file's rollover. */
static int archive_totals(const struct totals *t, const char *stamp)
{
        struct fat_file f;
        int r = fat_open(REPORTS_DIR "/" TOTALS_FILE, &f);
        if (r == FAT_ENOENT) {
                r = fat_mkdir(REPORTS_DIR);
                if (r < 0 && r != FAT_EEXIST)
                        return r;
                r = fat_create(REPORTS_DIR "/" TOTALS_FILE, &f);
        }
        if (r < 0)
                return r;
        char rec[TOTALS_LEN + 1];
        fmt(rec, sizeof(rec), "%s %04u %06u %06u %010u\r\n", stamp, ui.op->id, t->sold,
            t->cancelled, t->stake);
        return fat_write(&f, f.size - f.size % TOTALS_LEN, rec, TOTALS_LEN);
}

static void print_totals(void)
{
        struct totals t;
        compute_totals(&t);
        char stamp[15], buf[400];
        stamp_now(stamp);
        int a = archive_totals(&t, stamp);
        if (a < 0) {
                set_message(A_ERROR, a == FAT_ENOSPC ? "DISK FULL - TOTALS NOT ARCHIVED"
                                                     : "DISK ERROR - TOTALS NOT ARCHIVED");
                return;
        }
        int n = fmt(buf, sizeof(buf),
                    "================================\r\n"
                    " TANDEM TOTE END OF DAY %s\r\n"
                    " SOLD %u  CANCELLED %u\r\n"
                    " TOTAL STAKES SEK %u.%02u\r\n"
                    "================================\r\n\f",
                    stamp, t.sold, t.cancelled, t.stake / 100, t.stake % 100);
        set_message(print_bytes(buf, n) < 0 ? A_ERROR : A_OK,
                    usb_printer_present() || pv_printer_present() ? "TOTALS PRINTED"
                                                                  : "NO PRINTER");
}

/* ---- input ---- */

static void field_key(const struct key *k)
{
        struct field *f = &ui.fields[ui.cur];
        if (k->code == K_CHAR) {
                bool ok = (k->ch >= '0' && k->ch <= '9') || (f->decimal && k->ch == '.');
                if (ok && f->len < f->width) {
                        f->buf[f->len++] = k->ch;
                        f->buf[f->len] = 0;
                        draw_field(ui.cur);
                }
        } else if (k->code == K_BACKSPACE && f->len) {
                f->buf[--f->len] = 0;
                draw_field(ui.cur);
        }
}

static void form_enter(void)
{
        switch (ui.screen) {
        case S_LOGIN:
                if (ui.cur == 0)
                        focus(1);
                else
                        do_login();
                break;
        case S_SELL:
                if (ui.cur == 0) {
                        if (check_race()) {
                                set_message(A_TEXT, "");
                                focus(1);
                        }
                } else if (ui.cur == 1) {
                        if (check_runner()) {
                                set_message(A_TEXT, "");
                                focus(2);
                        }
                } else {
                        do_sell();
                }
                break;
        case S_CANCEL:
                do_cancel();
                break;
        default:
                break;
        }
}

void app_key(const struct key *k)
{
        switch (ui.screen) {
        case S_FATAL:
                return;
        case S_MENU:
                ui.message[0] = 0;
                if (k->code != K_CHAR)
                        return;
                if (k->ch == '1')
                        show_sell();
                else if (k->ch == '2')
                        show_cancel();
                else if (k->ch == '3')
                        show_totals();
                else if (k->ch == '4') {
                        klog("legacy: operator %04u logged out\n", ui.op->id);
                        show_login();
                } else if (k->ch == '5') {
                        ui.wide = !ui.wide;
                        vio_set_mode(ui.wide ? 132 : 80, ui.wide ? 43 : 25);
                        show_menu();
                }
                return;
        case S_TOTALS:
                if (k->code == K_ESC)
                        show_menu();
                else if (k->code == K_CHAR && (k->ch == 'p' || k->ch == 'P'))
                        print_totals();
                return;
        default:
                break;
        }
        if (k->code == K_ESC) {
                ui.message[0] = 0;
                if (ui.screen == S_LOGIN)
                        clear_fields();
                else
                        show_menu();
        } else if (k->code == K_ENTER || k->code == K_TAB) {
                form_enter();
        } else {
                field_key(k);
        }
}

void app_timer(void)
{
        draw_clock();
        kernel_timer_ms(60000);
}

void app_shutdown(void)
{
        /* Every sale is already durable; nothing is buffered. */
        vio_clear(A_TEXT);
        vio_print(2, 2, A_LABEL, "TERMINAL SHUT DOWN");
        klog("legacy: shutdown requested, %u tickets on disk\n", ui.nrecords);
}

void app_start(int disk_status, const char *disk_why)
{
        if (disk_status < 0) {
                fmt(ui.fatal, sizeof(ui.fatal), "DATA DISK REFUSED: %s", disk_why);
                klog("legacy: %s\n", ui.fatal);
                show_fatal();
                return;
        }
        if (!load_data()) {
                klog("legacy: %s\n", ui.fatal);
                show_fatal();
                return;
        }
        show_login();
        kernel_timer_ms(60000);
        klog("legacy: ready\n");
}
