#include "textrender.h"

#include <string.h>

#include "palette.h"

static inline uint32_t blend(uint32_t fg, uint32_t bg, unsigned a)
{
        if (a == 0)
                return bg;
        if (a == 255)
                return fg;
        uint32_t out = 0;
        for (unsigned shift = 0; shift < 24; shift += 8) {
                unsigned f = (fg >> shift) & 0xFF, b = (bg >> shift) & 0xFF;
                unsigned c = (f * a + b * (255 - a) + 127) / 255;
                out |= c << shift;
        }
        return out;
}

static void draw_cell(const struct cellfont *f, uint8_t ch, uint8_t attr, bool cursor,
                      uint32_t *origin, size_t pixel_stride)
{
        uint32_t fg = text_palette[attr & 0x0F], bg = text_palette[attr >> 4];
        const uint8_t *mask = cellfont_mask(f, ch);
        unsigned cw = f->cell_w, chh = f->cell_h;
        /* underline cursor: the bottom eighth of the cell, at least 2 px */
        unsigned cursor_from = cursor ? chh - (chh / 8 > 2 ? chh / 8 : 2) : chh;
        for (unsigned py = 0; py < chh; py++) {
                uint32_t *row = origin + py * pixel_stride;
                const uint8_t *m = mask + py * cw;
                if (py >= cursor_from) {
                        for (unsigned px = 0; px < cw; px++)
                                row[px] = fg;
                        continue;
                }
                for (unsigned px = 0; px < cw; px++)
                        row[px] = blend(fg, bg, m[px]);
        }
}

void text_render_cells(const struct cellfont *f, const struct text_screen *s, uint32_t x,
                       uint32_t y, uint32_t w, uint32_t h, uint32_t *pixels, size_t pixel_stride)
{
        if (x >= s->cols || y >= s->rows)
                return;
        if (w > s->cols - x)
                w = s->cols - x;
        if (h > s->rows - y)
                h = s->rows - y;
        uint8_t row[2 * 1024];
        if ((size_t)w * 2 > sizeof(row))
                w = sizeof(row) / 2;
        for (uint32_t cy = y; cy < y + h; cy++) {
                /* one snapshot of the row: the guest may be writing it right now */
                memcpy(row, s->cells + (size_t)cy * s->stride + (size_t)x * 2, (size_t)w * 2);
                for (uint32_t i = 0; i < w; i++) {
                        uint32_t cx = x + i;
                        bool cursor = s->cursor_visible && cx == s->cursor_x && cy == s->cursor_y;
                        uint32_t *origin =
                            pixels + (size_t)cy * f->cell_h * pixel_stride + (size_t)cx * f->cell_w;
                        draw_cell(f, row[2 * i], row[2 * i + 1], cursor, origin, pixel_stride);
                }
        }
}
