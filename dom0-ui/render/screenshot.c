#include "screenshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pngwrite.h"
#include "textrender.h"

#define SCREENSHOT_CELL_PX 16

uint32_t *screen_render(const struct vmmview_geom *g, const struct cellfont *font, uint32_t *w,
                        uint32_t *h, char *err, size_t errlen)
{
        uint32_t *pix;
        if (g->kind == TANDEM_DISPLAY_TEXT) {
                *w = g->width * font->cell_w;
                *h = g->height * font->cell_h;
                pix = malloc((size_t)*w * *h * 4);
                if (!pix)
                        goto oom;
                struct text_screen s = {g->data,           g->width,    g->height,  g->stride,
                                        g->cursor_visible, g->cursor_x, g->cursor_y};
                text_render_all(font, &s, pix, *w);
                return pix;
        }
        *w = g->width;
        *h = g->height;
        pix = malloc((size_t)*w * *h * 4);
        if (!pix)
                goto oom;
        for (uint32_t y = 0; y < g->height; y++)
                memcpy(pix + (size_t)y * g->width, g->data + (size_t)y * g->stride,
                       (size_t)g->width * 4);
        return pix;
oom:
        snprintf(err, errlen, "out of memory for a %ux%u picture", g->width, g->height);
        return NULL;
}

/* Each pixel becomes a scale x scale block (HiDPI framebuffers). */
static uint32_t *replicate(uint32_t *pix, uint32_t *w, uint32_t *h, unsigned scale)
{
        uint32_t ow = *w * scale, oh = *h * scale;
        uint32_t *out = malloc((size_t)ow * oh * 4);
        if (out)
                for (uint32_t y = 0; y < oh; y++)
                        for (uint32_t x = 0; x < ow; x++)
                                out[(size_t)y * ow + x] = pix[(size_t)(y / scale) * *w + x / scale];
        free(pix);
        *w = ow, *h = oh;
        return out;
}

int tandem_screenshot_png(const char *control_sock, const char *png_path, unsigned scale, char *err,
                          size_t errlen)
{
        if (scale < 1 || scale > SCREENSHOT_MAX_SCALE) {
                snprintf(err, errlen, "scale %u: expected 1 to %d", scale, SCREENSHOT_MAX_SCALE);
                return -1;
        }
        struct vmmview *v = vmmview_open(control_sock, err, errlen);
        if (!v)
                return -1;
        struct cellfont *font = NULL;
        uint32_t *pix = NULL;
        int rc = -1;
        struct vmmview_geom g;
        if (vmmview_geometry(v, &g, err, errlen) < 0)
                goto out;
        /* text is rasterized at the device size, never blown up */
        if (g.kind == TANDEM_DISPLAY_TEXT &&
            !(font =
                  cellfont_open(cellfont_default_path(), SCREENSHOT_CELL_PX * scale, err, errlen)))
                goto out;
        uint32_t w, h;
        if (!(pix = screen_render(&g, font, &w, &h, err, errlen)))
                goto out;
        if (g.kind != TANDEM_DISPLAY_TEXT && scale > 1 && !(pix = replicate(pix, &w, &h, scale))) {
                snprintf(err, errlen, "out of memory for a %ux%u picture", w, h);
                goto out;
        }
        rc = png_write_xrgb(png_path, pix, w, h, w, err, errlen);
out:
        free(pix);
        cellfont_close(font);
        vmmview_close(v);
        return rc;
}
