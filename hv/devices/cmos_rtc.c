/* MC146818A real-time clock and CMOS RAM. The clock is the host's UTC clock
 * plus an offset the guest sets by writing the time with register B's SET
 * bit; nothing ticks in the VMM, every read computes the time. Flags in
 * register C are derived on read (update-ended once per second, alarm on a
 * match); the RTC raises no IRQ 8. */
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm.h"

enum {
        REG_SEC = 0x00,
        REG_SEC_ALARM = 0x01,
        REG_MIN = 0x02,
        REG_MIN_ALARM = 0x03,
        REG_HOUR = 0x04,
        REG_HOUR_ALARM = 0x05,
        REG_WDAY = 0x06,
        REG_MDAY = 0x07,
        REG_MONTH = 0x08,
        REG_YEAR = 0x09,
        REG_A = 0x0A,
        REG_B = 0x0B,
        REG_C = 0x0C,
        REG_D = 0x0D,
        REG_CENTURY = 0x32,
};

#define A_UIP           0x80
#define B_SET           0x80
#define B_DM            0x04 /* binary, not BCD */
#define B_24H           0x02
#define C_IRQF          0x80
#define C_AF            0x20
#define C_UF            0x10
#define D_VRT           0x80
#define ALARM_DONT_CARE 0xC0

/* The update cycle the UIP bit warns about: 244 us before each second. */
#define UIP_NS 244000

struct cmos_rtc {
        struct vm *vm;
        uint8_t index;
        bool nmi_masked; /* bit 7 of the index write; KVM owns real NMI masking */
        uint8_t ram[128];
        int64_t offset; /* guest time minus host time, seconds */
        int64_t last_c_read;
};

static uint8_t to_bcd(unsigned v)
{
        return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
        return (v >> 4) * 10 + (v & 0x0F);
}

static uint8_t encode(const struct cmos_rtc *rtc, unsigned v)
{
        return (rtc->ram[REG_B] & B_DM) ? (uint8_t)v : to_bcd(v);
}

static unsigned decode(const struct cmos_rtc *rtc, uint8_t v)
{
        return (rtc->ram[REG_B] & B_DM) ? v : from_bcd(v);
}

static uint8_t encode_hour(const struct cmos_rtc *rtc, unsigned hour)
{
        if (rtc->ram[REG_B] & B_24H)
                return encode(rtc, hour);
        unsigned h12 = hour % 12 ? hour % 12 : 12;
        return (uint8_t)(encode(rtc, h12) | (hour >= 12 ? 0x80 : 0));
}

static unsigned decode_hour(const struct cmos_rtc *rtc, uint8_t v)
{
        if (rtc->ram[REG_B] & B_24H)
                return decode(rtc, v);
        unsigned h12 = decode(rtc, v & 0x7F) % 12;
        return (v & 0x80) ? h12 + 12 : h12;
}

static struct timespec host_now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return ts;
}

/* Latches guest time into the time registers. */
static void latch_time(struct cmos_rtc *rtc, int64_t guest_secs)
{
        time_t t = (time_t)guest_secs;
        struct tm tm;
        gmtime_r(&t, &tm);
        unsigned year = (unsigned)tm.tm_year + 1900;
        rtc->ram[REG_SEC] = encode(rtc, (unsigned)tm.tm_sec);
        rtc->ram[REG_MIN] = encode(rtc, (unsigned)tm.tm_min);
        rtc->ram[REG_HOUR] = encode_hour(rtc, (unsigned)tm.tm_hour);
        rtc->ram[REG_WDAY] = encode(rtc, (unsigned)tm.tm_wday + 1);
        rtc->ram[REG_MDAY] = encode(rtc, (unsigned)tm.tm_mday);
        rtc->ram[REG_MONTH] = encode(rtc, (unsigned)tm.tm_mon + 1);
        rtc->ram[REG_YEAR] = encode(rtc, year % 100);
        rtc->ram[REG_CENTURY] = encode(rtc, year / 100);
}

/* After the guest set the clock: the offset that makes its values current. */
static void adopt_guest_time(struct cmos_rtc *rtc)
{
        struct tm tm = {0};
        tm.tm_sec = (int)decode(rtc, rtc->ram[REG_SEC]) % 60;
        tm.tm_min = (int)decode(rtc, rtc->ram[REG_MIN]) % 60;
        tm.tm_hour = (int)decode_hour(rtc, rtc->ram[REG_HOUR]) % 24;
        tm.tm_mday = (int)decode(rtc, rtc->ram[REG_MDAY]);
        tm.tm_mon = (int)decode(rtc, rtc->ram[REG_MONTH]) - 1;
        tm.tm_year =
            (int)(decode(rtc, rtc->ram[REG_CENTURY]) * 100 + decode(rtc, rtc->ram[REG_YEAR])) -
            1900;
        if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_mon < 0 || tm.tm_mon > 11)
                return; /* nonsense date: keep the old clock */
        time_t guest = timegm(&tm);
        if (guest == (time_t)-1)
                return;
        rtc->offset = (int64_t)guest - (int64_t)host_now().tv_sec;
}

static bool alarm_matches(const struct cmos_rtc *rtc)
{
        static const uint8_t pairs[][2] = {
            {REG_SEC_ALARM, REG_SEC}, {REG_MIN_ALARM, REG_MIN}, {REG_HOUR_ALARM, REG_HOUR}};
        for (unsigned i = 0; i < 3; i++) {
                uint8_t alarm = rtc->ram[pairs[i][0]];
                if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE && alarm != rtc->ram[pairs[i][1]])
                        return false;
        }
        return true;
}

static uint8_t read_reg(struct cmos_rtc *rtc, uint8_t reg)
{
        struct timespec now = host_now();
        int64_t guest = (int64_t)now.tv_sec + rtc->offset;
        bool frozen = rtc->ram[REG_B] & B_SET;
        if (reg <= REG_YEAR || reg == REG_CENTURY) {
                if (!frozen && reg != REG_SEC_ALARM && reg != REG_MIN_ALARM &&
                    reg != REG_HOUR_ALARM)
                        latch_time(rtc, guest);
                return rtc->ram[reg];
        }
        switch (reg) {
        case REG_A: {
                bool uip = !frozen && now.tv_nsec >= 1000000000L - UIP_NS;
                return (uint8_t)((rtc->ram[REG_A] & 0x7F) | (uip ? A_UIP : 0));
        }
        case REG_C: {
                uint8_t c = 0;
                if (!frozen && guest != rtc->last_c_read)
                        c |= C_UF;
                latch_time(rtc, guest);
                if (alarm_matches(rtc))
                        c |= C_AF;
                if (c & rtc->ram[REG_B] & (C_UF | C_AF))
                        c |= C_IRQF;
                rtc->last_c_read = guest;
                return c;
        }
        case REG_D:
                return D_VRT; /* the battery is always good */
        default:
                return rtc->ram[reg];
        }
}

static void write_reg(struct cmos_rtc *rtc, uint8_t reg, uint8_t val)
{
        switch (reg) {
        case REG_A:
                rtc->ram[REG_A] = val & 0x7F; /* UIP is read-only */
                break;
        case REG_B: {
                bool was_set = rtc->ram[REG_B] & B_SET;
                rtc->ram[REG_B] = val;
                /* Freezing latches the time in the new data mode, so a guest
                 * that rewrites only some fields keeps consistent others. */
                if ((val & B_SET) && !was_set)
                        latch_time(rtc, (int64_t)host_now().tv_sec + rtc->offset);
                if (!(val & B_SET) && was_set)
                        adopt_guest_time(rtc);
                break;
        }
        case REG_C:
        case REG_D:
                break; /* read-only */
        default:
                rtc->ram[reg] = val;
                break;
        }
}

static void rtc_io(void *opaque, uint64_t offset, void *data, unsigned len, bool is_write)
{
        struct cmos_rtc *rtc = opaque;
        uint8_t *val = data;
        if (len != 1) {
                if (!is_write)
                        memset(data, 0xff, len);
                return;
        }
        if (offset == 0) {
                if (is_write) {
                        rtc->index = *val & 0x7F;
                        rtc->nmi_masked = *val & 0x80;
                } else {
                        *val = 0xff; /* the index port is write-only */
                }
                return;
        }
        if (is_write)
                write_reg(rtc, rtc->index, *val);
        else
                *val = read_reg(rtc, rtc->index);
}

/* The memory-size bytes PC firmware leaves for boot loaders and old OSes. */
static void fill_nvram(struct cmos_rtc *rtc, uint64_t ram_size)
{
        uint8_t *r = rtc->ram;
        uint64_t above_1m_kb = ram_size > 0x100000 ? (ram_size - 0x100000) >> 10 : 0;
        if (above_1m_kb > 0xFFFF)
                above_1m_kb = 0xFFFF;
        uint64_t low = ram_size < GUEST_MEM_LOW_LIMIT ? ram_size : GUEST_MEM_LOW_LIMIT;
        uint64_t above_16m = low > 0x1000000 ? (low - 0x1000000) >> 16 : 0;
        if (above_16m > 0xFFFF)
                above_16m = 0xFFFF;
        uint64_t above_4g = ram_size > low ? (ram_size - low) >> 16 : 0;

        r[0x10] = 0x00; /* no floppy drives */
        r[0x14] = 0x06; /* equipment: math coprocessor, 80x25 colour display */
        r[0x15] = 0x80; /* 640 KiB base memory */
        r[0x16] = 0x02;
        r[0x17] = r[0x30] = (uint8_t)above_1m_kb;
        r[0x18] = r[0x31] = (uint8_t)(above_1m_kb >> 8);
        unsigned sum = 0;
        for (unsigned i = 0x10; i <= 0x2D; i++)
                sum += r[i];
        r[0x2E] = (uint8_t)(sum >> 8);
        r[0x2F] = (uint8_t)sum;
        r[0x34] = (uint8_t)above_16m;
        r[0x35] = (uint8_t)(above_16m >> 8);
        r[0x5B] = (uint8_t)above_4g;
        r[0x5C] = (uint8_t)(above_4g >> 8);
        r[0x5D] = (uint8_t)(above_4g >> 16);
}

struct cmos_rtc *cmos_rtc_create(struct vm *vm, char *err, size_t errlen)
{
        struct cmos_rtc *rtc = calloc(1, sizeof(*rtc));
        if (!rtc) {
                snprintf(err, errlen, "cmos_rtc: out of memory");
                return NULL;
        }
        rtc->vm = vm;
        rtc->ram[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
        rtc->ram[REG_B] = B_24H;
        rtc->ram[REG_SEC_ALARM] = rtc->ram[REG_MIN_ALARM] = rtc->ram[REG_HOUR_ALARM] = 0;
        fill_nvram(rtc, vm->mem.ram_size);
        int r = io_bus_register(&vm->pio, PLATFORM_RTC_INDEX, 2, rtc_io, rtc, "cmos_rtc");
        if (r < 0) {
                snprintf(err, errlen, "cmos_rtc: cannot claim ports 0x70/0x71: %s", strerror(-r));
                free(rtc);
                return NULL;
        }
        return rtc;
}

void cmos_rtc_destroy(struct cmos_rtc *rtc)
{
        if (!rtc)
                return;
        io_bus_unregister(&rtc->vm->pio, PLATFORM_RTC_INDEX, rtc);
        free(rtc);
}
