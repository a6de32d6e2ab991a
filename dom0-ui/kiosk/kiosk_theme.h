/* The kiosk theme (themes/kiosk.theme): "key = value" lines, # comments. */
#ifndef TANDEM_KIOSK_THEME_H
#define TANDEM_KIOSK_THEME_H

#include <stddef.h>
#include <stdint.h>

struct kiosk_theme {
        uint32_t background;    /* RRGGBB around the guest and behind state text */
        uint8_t osd_attr;       /* text attribute of OSD messages (render/message.c) */
        uint8_t alert_attr;     /* ... of refusals and failures */
        unsigned osd_font_px;   /* cell height of OSD text */
        unsigned state_font_px; /* cell height of the "not running" message */
};

/* path NULL: kiosk.theme from $TANDEM_THEMES_DIR, the installed themes, the
 * source tree, else built-in defaults. Returns 0, or -1 with err naming the
 * file, line and problem. */
int kiosk_theme_load(const char *path, struct kiosk_theme *t, char *err, size_t errlen);

#endif
