/* Linux input-event key codes (KEY_*) to PS/2 scan codes. */
#ifndef TANDEM_I8042_KEYMAP_H
#define TANDEM_I8042_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

#define SCANCODE_MAX 8

/* Writes the bytes a keyboard sends for evdev_code going down or up in scan
 * code set 1 or 2 into out; returns their count, 0 for unknown keys. */
unsigned i8042_scancode(uint32_t evdev_code, bool down, int set, uint8_t out[SCANCODE_MAX]);

#endif
