#include "vio.h"

#include "../../pvdrivers/legacy/display.h"
#include "lib.h"

static struct pv_display disp;
/* Without a display device the screen still exists (for the console log). */
static uint16_t fallback[80 * 25];

int vio_init(void)
{
        int r = pv_display_init(&disp);
        if (r < 0) {
                disp.cells = fallback;
                disp.cols = disp.max_cols = disp.stride_cells = 80;
                disp.rows = disp.max_rows = 25;
        }
        return r;
}

int vio_set_mode(uint32_t cols, uint32_t rows)
{
        if (disp.cells == fallback)
                return -22;
        return pv_display_set_mode(&disp, cols, rows);
}

uint32_t vio_cols(void)
{
        return disp.cols;
}

uint32_t vio_rows(void)
{
        return disp.rows;
}

void vio_fill(uint32_t x, uint32_t y, uint32_t w, char ch, uint8_t attr)
{
        if (y >= disp.rows || x >= disp.cols)
                return;
        if (w > disp.cols - x)
                w = disp.cols - x;
        volatile uint16_t *row = disp.cells + y * disp.stride_cells;
        uint16_t cell = (uint16_t)((uint8_t)ch | attr << 8);
        for (uint32_t i = 0; i < w; i++)
                row[x + i] = cell;
        pv_display_damage(x, y, x + w, y + 1);
}

void vio_clear(uint8_t attr)
{
        for (uint32_t y = 0; y < disp.rows; y++)
                vio_fill(0, y, disp.cols, ' ', attr);
}

void vio_print(uint32_t x, uint32_t y, uint8_t attr, const char *s)
{
        if (y >= disp.rows || x >= disp.cols)
                return;
        volatile uint16_t *row = disp.cells + y * disp.stride_cells;
        uint32_t i = x;
        for (; *s && i < disp.cols; s++, i++)
                row[i] = (uint16_t)((uint8_t)*s | attr << 8);
        pv_display_damage(x, y, i, y + 1);
}

void vio_cursor(uint32_t x, uint32_t y, int visible)
{
        pv_display_cursor(x, y, visible);
}
