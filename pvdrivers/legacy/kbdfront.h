/* Guest PV keyboard frontend: drains set-1 scan codes from the shared ring. */
#ifndef TANDEM_PV_KBDFRONT_H
#define TANDEM_PV_KBDFRONT_H

#include <stdbool.h>
#include <stdint.h>

/* Next ring entry (TPV_KBD_* flags | set-1 code) or false when empty. */
bool pv_kbd_next(uint16_t *entry);

#endif
