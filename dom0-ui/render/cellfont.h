/* A monospace font rasterized once per size into 256 CP850 glyph masks, so
 * drawing a text cell is a blend of a cached mask, never a FreeType call. */
#ifndef TANDEM_CELLFONT_H
#define TANDEM_CELLFONT_H

#include <stddef.h>
#include <stdint.h>

struct cellfont {
        unsigned cell_w, cell_h;
        uint8_t *masks; /* 256 glyphs of cell_w*cell_h coverage bytes */
};

/* px_height: cell height in device pixels (HiDPI: logical height * scale). */
struct cellfont *cellfont_open(const char *font_path, unsigned px_height, char *err, size_t errlen);
void cellfont_close(struct cellfont *f);

static inline const uint8_t *cellfont_mask(const struct cellfont *f, uint8_t ch)
{
        return f->masks + (size_t)ch * f->cell_w * f->cell_h;
}

/* First readable font of: $TANDEM_FONT, the installed theme font, the source
 * tree's copy, Debian's DejaVu Sans Mono. Returns NULL if none exists. */
const char *cellfont_default_path(void);

#endif
