/* VIO-like text display: cells of (CP850 char, attribute), 80x25 or 132x43,
 * a hardware-style cursor. Strings are CP850 bytes. */
#ifndef LEGACY_VIO_H
#define LEGACY_VIO_H

#include <stdint.h>

/* Attributes: low nibble foreground, high nibble background (PC colours). */
#define VIO_ATTR(fg, bg) ((uint8_t)((bg) << 4 | (fg)))
enum {
        VIO_BLACK,
        VIO_BLUE,
        VIO_GREEN,
        VIO_CYAN,
        VIO_RED,
        VIO_MAGENTA,
        VIO_BROWN,
        VIO_GREY,
        VIO_DARKGREY,
        VIO_LBLUE,
        VIO_LGREEN,
        VIO_LCYAN,
        VIO_LRED,
        VIO_LMAGENTA,
        VIO_YELLOW,
        VIO_WHITE
};

int vio_init(void);
int vio_set_mode(uint32_t cols, uint32_t rows);
uint32_t vio_cols(void);
uint32_t vio_rows(void);
void vio_clear(uint8_t attr);
/* Writes s at (x, y), clipped to the row. */
void vio_print(uint32_t x, uint32_t y, uint8_t attr, const char *s);
/* Fills w cells of row y from x with ch. */
void vio_fill(uint32_t x, uint32_t y, uint32_t w, char ch, uint8_t attr);
void vio_cursor(uint32_t x, uint32_t y, int visible);

#endif
