/* US keyboard layout: which evdev key (and whether Shift) types a character. */
#ifndef TANDEM_KEYMAP_US_H
#define TANDEM_KEYMAP_US_H

#include <stdbool.h>
#include <stdint.h>

/* For ASCII c (printable, '\n', '\t', '\b', ESC) stores the evdev KEY_* code
 * and whether Shift must be held; returns false for anything else. */
bool keymap_us_lookup(uint32_t c, uint16_t *code, bool *shift);

#endif
