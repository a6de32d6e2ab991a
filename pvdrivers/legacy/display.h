/* Guest PV display frontend: the cell buffer the VMM maps into the guest,
 * and damage/cursor publication through the shared info page. */
#ifndef TANDEM_PV_DISPLAY_H
#define TANDEM_PV_DISPLAY_H

#include <stdint.h>

struct pv_display {
        volatile uint16_t *cells; /* row r starts at cells + r * stride_cells */
        uint32_t cols, rows, max_cols, max_rows, stride_cells;
};

/* 0 or TPV_ENODEV when the VMM offers no display. */
int pv_display_init(struct pv_display *d);
/* Asks for a new mode (80x25, 132x43, ...). 0 or TPV_EINVAL. */
int pv_display_set_mode(struct pv_display *d, uint32_t cols, uint32_t rows);
/* Adds [x0,x1)x[y0,y1) to the damage the VMM reads at the next block. */
void pv_display_damage(uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1);
void pv_display_cursor(uint32_t x, uint32_t y, int visible);

#endif
