/* A one-line state message ("fb1 has crashed") drawn as text cells with the
 * cell font, so panes, the kiosk OSD and the tests that look for them on the
 * screen all get the same pixels from the same code. */
#ifndef TANDEM_MESSAGE_H
#define TANDEM_MESSAGE_H

#include <stdint.h>

#include "cellfont.h"

/* Colours of state messages (text attributes: fg low nibble, bg high). */
#define MESSAGE_ATTR_FAILED 0x4F /* white on red: crashed, destroyed, rejected */
#define MESSAGE_ATTR_INFO   0x70 /* black on grey: powered off, no display */
/* What a pane shows around the message. */
#define MESSAGE_PANE_BG 0x26262Bu

/* Renders utf8 (CP850 subset, one cell of padding either side) into a new
 * XRGB buffer of *w x *h pixels (free() it). NULL when utf8 is empty. */
uint32_t *message_render(const struct cellfont *f, const char *utf8, uint8_t attr, uint32_t *w,
                         uint32_t *h);

#endif
