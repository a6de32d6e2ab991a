#include "display.h"

#include "pv.h"

int pv_display_init(struct pv_display *d)
{
        struct tpv_device_info info;
        for (unsigned i = 0; pv_device_info(i, &info) == 0; i++) {
                if (info.type != TPV_DEV_DISPLAY)
                        continue;
                d->cells = (volatile uint16_t *)(uintptr_t)info.gpa;
                d->cols = info.cols;
                d->rows = info.rows;
                d->max_cols = info.max_cols;
                d->max_rows = info.max_rows;
                d->stride_cells = info.stride / 2;
                return 0;
        }
        return TPV_ENODEV;
}

int pv_display_set_mode(struct pv_display *d, uint32_t cols, uint32_t rows)
{
        int r = tpv_hypercall2(TPV_HC_DISPLAY_MODE, cols, rows);
        if (r == 0) {
                d->cols = cols;
                d->rows = rows;
                d->stride_cells = cols;
        }
        return r;
}

void pv_display_damage(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
        struct tpv_shared_info *s = &pv_shared;
        if (!s->disp_dirty) {
                s->disp_x0 = x0;
                s->disp_y0 = y0;
                s->disp_x1 = x1;
                s->disp_y1 = y1;
                s->disp_dirty = 1;
                return;
        }
        if (x0 < s->disp_x0)
                s->disp_x0 = x0;
        if (y0 < s->disp_y0)
                s->disp_y0 = y0;
        if (x1 > s->disp_x1)
                s->disp_x1 = x1;
        if (y1 > s->disp_y1)
                s->disp_y1 = y1;
}

void pv_display_cursor(uint32_t x, uint32_t y, int visible)
{
        pv_shared.cursor_x = x;
        pv_shared.cursor_y = y;
        pv_shared.cursor_visible = visible ? 1 : 0;
        if (!pv_shared.disp_dirty) {
                /* An empty damage rectangle still publishes the cursor. */
                pv_shared.disp_x0 = pv_shared.disp_x1 = 0;
                pv_shared.disp_y0 = pv_shared.disp_y1 = 0;
                pv_shared.disp_dirty = 1;
        }
}
