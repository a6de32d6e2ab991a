/* Saves what a domain's display shows as a PNG (text screens are rendered
 * with the cell font, framebuffers are copied 1:1). Used by
 * tandem-screenshot and `tandem screenshot <domain>`. */
#ifndef TANDEM_SCREENSHOT_H
#define TANDEM_SCREENSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "cellfont.h"
#include "vmmview.h"

#define SCREENSHOT_MAX_SCALE 4

/* scale: device pixels per logical pixel (HiDPI, 1..SCREENSHOT_MAX_SCALE):
 * text is drawn with a scale-times larger font, framebuffer pixels become
 * scale x scale blocks. Returns 0, or -1 with a one-line reason in err. */
int tandem_screenshot_png(const char *control_sock, const char *png_path, unsigned scale, char *err,
                          size_t errlen);

/* Renders a validated geometry into a new XRGB buffer (free() it); text
 * screens need font. Sets *w, *h. NULL with err on failure. */
uint32_t *screen_render(const struct vmmview_geom *g, const struct cellfont *font, uint32_t *w,
                        uint32_t *h, char *err, size_t errlen);

#endif
