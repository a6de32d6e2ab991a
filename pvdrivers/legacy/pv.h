/* Guest PV core: the shared info page, event ports, time and console. */
#ifndef TANDEM_PV_CORE_H
#define TANDEM_PV_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include "hypercall.h"

/* Ports this guest binds (docs/pv-abi.md leaves the choice to the guest). */
#define PV_PORT_TIMER    0
#define PV_PORT_KEYBOARD 1
#define PV_PORT_CONTROL  2
#define PV_PORT_DEVICE0  8 /* PV bus device i uses port 8 + i */

extern struct tpv_shared_info pv_shared;

/* Checks the ABI version, registers the shared page, binds the fixed ports.
 * Returns 0 or a negative TPV_E* code. */
int pv_init(void);
/* Sleeps until one of the ports in mask is pending; returns those bits. */
uint32_t pv_block(uint32_t mask);
uint64_t pv_monotonic_ns(void);
void pv_wall_time(struct tpv_time *t);
void pv_set_timer_ns(uint64_t deadline);
void pv_console_write(const char *s, size_t len);
int pv_device_info(unsigned index, struct tpv_device_info *info);
__attribute__((noreturn)) void pv_shutdown(enum tpv_shutdown_reason reason);
__attribute__((noreturn)) void pv_panic(const char *msg);

#endif
