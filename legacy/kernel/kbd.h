/* Keyboard subsystem: PC set-1 scan codes from the PV keyboard ring become
 * key events with shift, ctrl, alt and caps lock applied (US layout). */
#ifndef LEGACY_KBD_H
#define LEGACY_KBD_H

#include <stdbool.h>
#include <stdint.h>

enum key_code {
        K_NONE = 0,
        K_CHAR, /* printable: ch holds the CP850 character */
        K_ENTER,
        K_BACKSPACE,
        K_TAB,
        K_ESC,
        K_UP,
        K_DOWN,
        K_LEFT,
        K_RIGHT,
        K_DELETE,
        K_HOME,
        K_END,
        K_F1 = 0x40, /* K_F1 + n - 1 for Fn, n = 1..12 */
};

#define KMOD_SHIFT 1
#define KMOD_CTRL  2
#define KMOD_ALT   4

struct key {
        enum key_code code;
        char ch;
        uint8_t mods;
        uint8_t scancode;
};

/* Feeds one ring entry; true when it produced a key press. */
bool kbd_translate(uint16_t entry, struct key *out);

#endif
