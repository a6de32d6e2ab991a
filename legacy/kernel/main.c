/* Kernel main: bring up the PV devices, mount the data disk, then run the
 * event loop. The loop is the only place the guest sleeps: TPV_HC_BLOCK
 * returns the ports that fired and the loop dispatches them. */
#include "../../pvdrivers/legacy/blkfront.h"
#include "../../pvdrivers/legacy/kbdfront.h"
#include "../../pvdrivers/legacy/pv.h"
#include "../../pvdrivers/legacy/soundfront.h"
#include "../net/net.h"
#include "fat16.h"
#include "kernel.h"
#include "lib.h"
#include "vio.h"

void kmain(uint32_t start_info);

static uint64_t mono_now_ns(void)
{
        return pv_monotonic_ns();
}

void kernel_timer_ms(uint32_t ms)
{
        pv_set_timer_ns(mono_now_ns() + (uint64_t)ms * 1000000ull);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int32_t z, uint16_t *y, uint8_t *m, uint8_t *d)
{
        z += 719468;
        int32_t era = (z >= 0 ? z : z - 146096) / 146097;
        uint32_t doe = (uint32_t)(z - era * 146097);
        uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int32_t yy = (int32_t)yoe + era * 400;
        uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint32_t mp = (5 * doy + 2) / 153;
        *d = (uint8_t)(doy - (153 * mp + 2) / 5 + 1);
        *m = (uint8_t)(mp < 10 ? mp + 3 : mp - 9);
        *y = (uint16_t)(yy + (*m <= 2));
}

void kernel_now(struct local_time *t)
{
        struct tpv_time tv;
        pv_wall_time(&tv);
        int64_t secs = (int64_t)tv.wall_sec + tv.utc_offset;
        /* 32-bit guest: avoid 64-bit division helpers (libgcc is not linked). */
        uint32_t days = 0;
        uint32_t rem;
        uint64_t s = secs > 0 ? (uint64_t)secs : 0;
        while (s >= 86400ull * 16384) {
                s -= 86400ull * 16384;
                days += 16384;
        }
        rem = (uint32_t)s;
        days += rem / 86400;
        rem %= 86400;
        civil_from_days((int32_t)days, &t->year, &t->month, &t->day);
        t->hour = (uint8_t)(rem / 3600);
        t->min = (uint8_t)(rem / 60 % 60);
        t->sec = (uint8_t)(rem % 60);
        fat_set_time((uint16_t)((t->year - 1980) << 9 | t->month << 5 | t->day),
                     (uint16_t)(t->hour << 11 | t->min << 5 | t->sec / 2));
}

void kernel_poweroff(void)
{
        klog("legacy: power off\n");
        pv_shutdown(TPV_SHUTDOWN_POWEROFF);
}

void kmain(uint32_t start_info)
{
        (void)start_info;
        int r = pv_init();
        if (r < 0)
                pv_panic("PV ABI version mismatch");
        vio_init();
        const char *why = "";
        int disk = blk_init();
        if (disk < 0)
                why = "no data disk attached";
        else if ((disk = fat_mount(&why)) < 0)
                klog("legacy: data disk refused: %s\n", why);
        if (sound_init() < 0)
                klog("legacy: no sound\n");
        net_start(disk >= 0);
        app_start(disk, why);
        const uint32_t mask = 1u << PV_PORT_TIMER | 1u << PV_PORT_KEYBOARD | 1u << PV_PORT_CONTROL |
                              sound_port_mask() | net_port_mask();
        for (;;) {
                uint32_t ev = pv_block(mask);
                if (ev & 1u << PV_PORT_KEYBOARD) {
                        uint16_t e;
                        struct key k;
                        while (pv_kbd_next(&e))
                                if (kbd_translate(e, &k))
                                        app_key(&k);
                }
                if (ev & 1u << PV_PORT_TIMER)
                        app_timer();
                if (ev & sound_port_mask())
                        sound_event();
                if (ev & net_port_mask())
                        net_event();
                if ((ev & 1u << PV_PORT_CONTROL) &&
                    pv_shared.control_request == TPV_CONTROL_SHUTDOWN) {
                        app_shutdown();
                        blk_flush();
                        kernel_poweroff();
                }
        }
}
