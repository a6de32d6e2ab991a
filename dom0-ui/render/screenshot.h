/* Saves what a domain's display shows as a PNG (text screens are rendered
 * with the cell font, framebuffers are copied 1:1). Used by
 * tandem-screenshot and `tandem screenshot <domain>`. */
#ifndef TANDEM_SCREENSHOT_H
#define TANDEM_SCREENSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "cellfont.h"
#include "vmmview.h"

/* Returns 0, or -1 with a one-line reason in err. */
int tandem_screenshot_png(const char *control_sock, const char *png_path, char *err, size_t errlen);

/* Renders a validated geometry into a new XRGB buffer (free() it); text
 * screens need font. Sets *w, *h. NULL with err on failure. */
uint32_t *screen_render(const struct vmmview_geom *g, const struct cellfont *font, uint32_t *w,
                        uint32_t *h, char *err, size_t errlen);

#endif
