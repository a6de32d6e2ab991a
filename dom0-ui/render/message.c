#include "message.h"

#include <stdlib.h>
#include <string.h>

#include "cp850.h"
#include "textrender.h"

#define MESSAGE_MAX_COLS 160

uint32_t *message_render(const struct cellfont *f, const char *utf8, uint8_t attr, uint32_t *w,
                         uint32_t *h)
{
        uint8_t cells[2 * (MESSAGE_MAX_COLS + 2)];
        size_t n = strlen(utf8), cols = 0;
        cells[2 * cols] = ' ';
        cells[2 * cols++ + 1] = attr;
        for (size_t i = 0; i < n && cols <= MESSAGE_MAX_COLS;) {
                uint32_t cp;
                size_t len = utf8_get(utf8 + i, n - i, &cp);
                if (!len)
                        break;
                i += len;
                /* the ellipsis is not in CP850 */
                int b = cp == 0x2026 ? '.' : cp850_from_unicode(cp);
                cells[2 * cols] = (uint8_t)(b < 0 ? '?' : b);
                cells[2 * cols++ + 1] = attr;
        }
        if (cols == 1)
                return NULL;
        cells[2 * cols] = ' ';
        cells[2 * cols++ + 1] = attr;
        struct text_screen s = {cells, (uint32_t)cols, 1, (uint32_t)cols * 2, false, 0, 0};
        *w = (uint32_t)cols * f->cell_w;
        *h = f->cell_h;
        uint32_t *pix = malloc((size_t)*w * *h * 4);
        if (pix)
                text_render_all(f, &s, pix, *w);
        return pix;
}
