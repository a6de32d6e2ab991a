/* CMOS RTC: the time agrees with the host's (passed as hosttime=<unix
 * seconds> on the command line) in BCD and in binary mode, registers A-D and
 * the NVRAM memory size are sane. */
#include "guest.h"

const char test_name[] = "rtc";

static uint8_t cmos(uint8_t reg)
{
        outb(0x70, reg);
        return inb(0x71);
}

static void cmos_set(uint8_t reg, uint8_t v)
{
        outb(0x70, reg);
        outb(0x71, v);
}

static unsigned bcd(uint8_t v)
{
        return (v >> 4) * 10 + (v & 15);
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil algorithm, integer-only). */
static uint32_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
        y -= m <= 2;
        unsigned era = y / 400;
        unsigned yoe = y - era * 400;
        unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static uint32_t read_time(bool binary)
{
        for (int i = 0; i < 1000 && (cmos(0x0A) & 0x80); i++)
                ; /* update in progress lasts 244 us */
        unsigned v[7];
        static const uint8_t regs[7] = {0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32};
        for (int i = 0; i < 7; i++) {
                uint8_t r = cmos(regs[i]);
                if (!binary)
                        EXPECT((r & 0x0F) <= 9 && (r >> 4) <= 9, "reg 0x%02x = 0x%02x is not BCD",
                               regs[i], r);
                v[i] = binary ? r : bcd(r);
        }
        EXPECT(v[0] < 60 && v[1] < 60 && v[2] < 24, "time %u:%u:%u out of range", v[2], v[1], v[0]);
        EXPECT(v[3] >= 1 && v[3] <= 31 && v[4] >= 1 && v[4] <= 12, "date %u-%u out of range", v[4],
               v[3]);
        unsigned year = v[6] * 100 + v[5];
        printf("rtc: %s %u-%02u-%02u %02u:%02u:%02u UTC\n", binary ? "binary" : "BCD", year, v[4],
               v[3], v[2], v[1], v[0]);
        return days_from_civil(year, v[4], v[3]) * 86400u + v[2] * 3600u + v[1] * 60u + v[0];
}

static uint32_t diff(uint32_t a, uint32_t b)
{
        return a > b ? a - b : b - a;
}

void test_main(const struct hvm_start_info *si)
{
        uint32_t host;
        EXPECT(cmdline_u32(si, "hosttime", &host), "no hosttime= on the command line");
        EXPECT(cmos(0x0D) & 0x80, "register D: RTC power lost");
        uint8_t b = cmos(0x0B);
        EXPECT(b & 0x02, "register B 0x%02x: not in 24-hour mode", b);
        EXPECT(!(b & 0x04), "register B 0x%02x: not BCD by default", b);
        uint32_t t_bcd = read_time(false);
        EXPECT(diff(t_bcd, host) <= 60, "BCD time %u is %u s away from the host's %u", t_bcd,
               diff(t_bcd, host), host);
        cmos_set(0x0B, b | 0x04);
        uint32_t t_bin = read_time(true);
        EXPECT(diff(t_bin, t_bcd) <= 2, "binary time %u disagrees with BCD %u", t_bin, t_bcd);
        cmos_set(0x0B, b);
        uint32_t ext = cmos(0x30) | (uint32_t)cmos(0x31) << 8;
        EXPECT(ext == 15 * 1024, "CMOS says %u KiB above 1 MiB, want 15360 (16M guest)", ext);
        cmos_set(0x50, 0x5A);
        EXPECT(cmos(0x50) == 0x5A, "NVRAM byte 0x50 does not keep its value");
}
