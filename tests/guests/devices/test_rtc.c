/* CMOS RTC: the time matches the host's UTC clock in BCD and binary, the
 * guest can set it, and the NVRAM holds the memory-size bytes. */
#include <string.h>
#include <time.h>

#include "devtest.h"
#include "platform.h"

static uint8_t cmos(struct vm *vm, uint8_t reg)
{
        pio_out8(vm, 0x70, reg);
        return pio_in8(vm, 0x71);
}

static void cmos_set(struct vm *vm, uint8_t reg, uint8_t v)
{
        pio_out8(vm, 0x70, reg);
        pio_out8(vm, 0x71, v);
}

static unsigned bcd(uint8_t v)
{
        return (v >> 4) * 10 + (v & 15);
}

static time_t guest_time(struct vm *vm, bool binary)
{
        while (cmos(vm, 0x0A) & 0x80)
                ; /* update in progress: at most 244 us */
        struct tm tm = {0};
        unsigned (*dec)(uint8_t) = binary ? NULL : bcd;
#define D(r) (dec ? dec(cmos(vm, r)) : cmos(vm, r))
        tm.tm_sec = (int)D(0x00);
        tm.tm_min = (int)D(0x02);
        tm.tm_hour = (int)D(0x04);
        tm.tm_mday = (int)D(0x07);
        tm.tm_mon = (int)D(0x08) - 1;
        tm.tm_year = (int)(D(0x32) * 100 + D(0x09)) - 1900;
#undef D
        return timegm(&tm);
}

int main(void)
{
        struct vm *vm = devtest_vm(64ull << 20);
        char err[160];
        struct cmos_rtc *rtc = cmos_rtc_create(vm, err, sizeof(err));
        CHECK(rtc, "create: %s", err);

        CHECK(cmos(vm, 0x0B) == 0x02, "register B: 24h BCD (0x%02x)", cmos(vm, 0x0B));
        CHECK((cmos(vm, 0x0A) & 0x7F) == 0x26, "register A divider/rate");
        CHECK(cmos(vm, 0x0D) == 0x80, "register D: valid RAM and time");
        time_t host = time(NULL);
        time_t g = guest_time(vm, false);
        CHECK(g - host >= -2 && g - host <= 2, "BCD time within 2 s of host (%lld)",
              (long long)(g - host));
        uint8_t sec = cmos(vm, 0x00);
        CHECK((sec & 0x0F) <= 9 && (sec >> 4) <= 5, "seconds are BCD (0x%02x)", sec);

        cmos_set(vm, 0x0B, 0x06); /* binary */
        g = guest_time(vm, true);
        CHECK(g - time(NULL) >= -2 && g - time(NULL) <= 2, "binary time within 2 s");

        /* 12-hour mode: hour 1..12 with bit 7 for PM */
        cmos_set(vm, 0x0B, 0x04);
        uint8_t h12 = cmos(vm, 0x04);
        CHECK((h12 & 0x7F) >= 1 && (h12 & 0x7F) <= 12, "12h hour in range (0x%02x)", h12);
        struct tm now;
        time_t t = time(NULL);
        gmtime_r(&t, &now);
        CHECK(((h12 & 0x80) != 0) == (now.tm_hour >= 12) || now.tm_min == 59,
              "PM bit matches host (hour %d, reg 0x%02x)", now.tm_hour, h12);

        /* Set 2001-02-03 04:05:06 in binary 24h mode, then let it run. */
        cmos_set(vm, 0x0B, 0x86);
        cmos_set(vm, 0x00, 6);
        cmos_set(vm, 0x02, 5);
        cmos_set(vm, 0x04, 4);
        cmos_set(vm, 0x07, 3);
        cmos_set(vm, 0x08, 2);
        cmos_set(vm, 0x09, 1);
        cmos_set(vm, 0x32, 20);
        CHECK(cmos(vm, 0x00) == 6, "frozen while SET");
        cmos_set(vm, 0x0B, 0x06);
        g = guest_time(vm, true);
        struct tm want = {
            .tm_sec = 6, .tm_min = 5, .tm_hour = 4, .tm_mday = 3, .tm_mon = 1, .tm_year = 101};
        CHECK(g - timegm(&want) >= 0 && g - timegm(&want) <= 2, "guest-set clock runs (%lld)",
              (long long)(g - timegm(&want)));

        cmos_set(vm, 0x0C, 0xFF);
        cmos(vm, 0x0C);
        CHECK(!(cmos(vm, 0x0C) & 0x80), "no IRQF without enables");

        /* NVRAM: 64 MiB => 63 MiB above 1 MiB, 48 MiB above 16 MiB in 64 KiB units */
        CHECK((cmos(vm, 0x30) | cmos(vm, 0x31) << 8) == 63 * 1024, "extended memory KiB");
        CHECK((cmos(vm, 0x34) | cmos(vm, 0x35) << 8) == 48 * 16, "memory above 16 MiB");
        CHECK(cmos(vm, 0x5B) == 0 && cmos(vm, 0x5C) == 0, "nothing above 4 GiB");
        cmos_set(vm, 0x40, 0xA5);
        CHECK(cmos(vm, 0x40) == 0xA5, "NVRAM byte keeps its value");
        pio_out8(vm, 0x70, 0x80 | 0x40); /* NMI mask bit does not change the index */
        CHECK(pio_in8(vm, 0x71) == 0xA5, "index with NMI-disable bit");
        CHECK(pio_in8(vm, 0x70) == 0xFF, "index port is write-only");

        cmos_rtc_destroy(rtc);
        devtest_vm_free(vm);
        return devtest_finish("cmos_rtc");
}
