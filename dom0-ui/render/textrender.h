/* Draws a CP850 cell screen (uint16_t cells: low byte character, high byte
 * attribute: low nibble foreground, high nibble background, no blink) into
 * an XRGB8888 pixel buffer of (cols*cell_w) x (rows*cell_h). */
#ifndef TANDEM_TEXTRENDER_H
#define TANDEM_TEXTRENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellfont.h"

struct text_screen {
        const uint8_t *cells; /* may be shared memory that changes under us */
        uint32_t cols, rows;
        uint32_t stride; /* bytes per row, >= cols*2 */
        bool cursor_visible;
        uint32_t cursor_x, cursor_y;
};

/* Redraws the cells [x, x+w) x [y, y+h) (clipped to the screen). */
void text_render_cells(const struct cellfont *f, const struct text_screen *s, uint32_t x,
                       uint32_t y, uint32_t w, uint32_t h, uint32_t *pixels, size_t pixel_stride);

static inline void text_render_all(const struct cellfont *f, const struct text_screen *s,
                                   uint32_t *pixels, size_t pixel_stride)
{
        text_render_cells(f, s, 0, 0, s->cols, s->rows, pixels, pixel_stride);
}

#endif
