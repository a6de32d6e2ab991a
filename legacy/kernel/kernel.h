/* Services the kernel offers the application, and the hooks it calls. */
#ifndef LEGACY_KERNEL_H
#define LEGACY_KERNEL_H

#include <stdint.h>

#include "kbd.h"

struct local_time {
        uint16_t year;
        uint8_t month, day, hour, min, sec;
};

/* Reads the wall clock (one hypercall) and updates FAT timestamps. */
void kernel_now(struct local_time *t);
/* Arms the one-shot timer ms milliseconds from now. */
void kernel_timer_ms(uint32_t ms);
/* Clean stop: the application has flushed everything. */
__attribute__((noreturn)) void kernel_poweroff(void);

/* Application hooks (legacy/app). */
void app_start(int disk_status, const char *disk_why);
void app_key(const struct key *k);
void app_timer(void);
/* dom0 asked for a shutdown: the application finishes and flushes. */
void app_shutdown(void);

#endif
