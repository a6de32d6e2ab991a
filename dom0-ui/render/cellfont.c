#include "cellfont.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp850.h"

#ifndef TANDEM_FONT_INSTALLED
#define TANDEM_FONT_INSTALLED "/usr/local/share/tandem/fonts/DejaVuSansMono.ttf"
#endif
#ifndef TANDEM_FONT_SOURCE
#define TANDEM_FONT_SOURCE ""
#endif

const char *cellfont_default_path(void)
{
        const char *env = getenv("TANDEM_FONT");
        const char *candidates[] = {env, TANDEM_FONT_INSTALLED, TANDEM_FONT_SOURCE,
                                    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"};
        for (unsigned i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
                if (candidates[i] && candidates[i][0] && access(candidates[i], R_OK) == 0)
                        return candidates[i];
        return NULL;
}

static void blit_glyph(struct cellfont *f, uint8_t *mask, FT_GlyphSlot g, int baseline)
{
        const FT_Bitmap *bm = &g->bitmap;
        int x0 = g->bitmap_left, y0 = baseline - g->bitmap_top;
        for (unsigned r = 0; r < bm->rows; r++) {
                int y = y0 + (int)r;
                if (y < 0 || y >= (int)f->cell_h)
                        continue;
                const uint8_t *src = bm->buffer + (ptrdiff_t)r * bm->pitch;
                for (unsigned c = 0; c < bm->width; c++) {
                        int x = x0 + (int)c;
                        if (x < 0 || x >= (int)f->cell_w)
                                continue;
                        uint8_t *dst = &mask[y * f->cell_w + x];
                        if (src[c] > *dst)
                                *dst = src[c];
                }
        }
}

struct cellfont *cellfont_open(const char *font_path, unsigned px_height, char *err, size_t errlen)
{
        if (!font_path) {
                snprintf(err, errlen, "no monospace font found (set TANDEM_FONT)");
                return NULL;
        }
        if (px_height < 6 || px_height > 256) {
                snprintf(err, errlen, "font size %u px outside 6..256", px_height);
                return NULL;
        }
        FT_Library lib;
        FT_Face face;
        if (FT_Init_FreeType(&lib)) {
                snprintf(err, errlen, "cannot initialise FreeType");
                return NULL;
        }
        if (FT_New_Face(lib, font_path, 0, &face)) {
                snprintf(err, errlen, "%s: not a font FreeType can read", font_path);
                FT_Done_FreeType(lib);
                return NULL;
        }
        struct cellfont *f = calloc(1, sizeof(*f));
        /* size the em so that ascender+descender fills the cell height */
        FT_Set_Pixel_Sizes(face, 0, px_height);
        int asc = (int)(face->size->metrics.ascender >> 6);
        int desc = (int)(-face->size->metrics.descender >> 6);
        if (asc + desc > (int)px_height) {
                unsigned em = px_height * px_height / (unsigned)(asc + desc);
                FT_Set_Pixel_Sizes(face, 0, em ? em : 1);
                asc = (int)(face->size->metrics.ascender >> 6);
        }
        unsigned adv = 0;
        if (FT_Load_Char(face, 'M', FT_LOAD_DEFAULT) == 0)
                adv = (unsigned)((face->glyph->advance.x + 32) >> 6);
        if (!f || adv == 0) {
                snprintf(err, errlen, "%s: font has no usable 'M' glyph", font_path);
                free(f);
                FT_Done_Face(face);
                FT_Done_FreeType(lib);
                return NULL;
        }
        f->cell_w = adv;
        f->cell_h = px_height;
        f->masks = calloc(256, (size_t)f->cell_w * f->cell_h);
        if (!f->masks) {
                snprintf(err, errlen, "out of memory for glyph masks");
                free(f);
                FT_Done_Face(face);
                FT_Done_FreeType(lib);
                return NULL;
        }
        int baseline = asc + ((int)px_height - asc - desc) / 2;
        for (unsigned b = 0; b < 256; b++) {
                uint32_t cp = cp850_glyph((uint8_t)b);
                if (cp == ' ' || cp == 0xA0)
                        continue;
                if (FT_Get_Char_Index(face, cp) == 0)
                        continue; /* the font lacks it: draw nothing rather than a box */
                if (FT_Load_Char(face, cp, FT_LOAD_RENDER | FT_LOAD_TARGET_NORMAL))
                        continue;
                blit_glyph(f, f->masks + (size_t)b * f->cell_w * f->cell_h, face->glyph, baseline);
        }
        FT_Done_Face(face);
        FT_Done_FreeType(lib);
        return f;
}

void cellfont_close(struct cellfont *f)
{
        if (!f)
                return;
        free(f->masks);
        free(f);
}
