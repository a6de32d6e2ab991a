/* Where a guest screen goes inside a viewer area: scaled to fit with its
 * aspect ratio kept, centred; integer scale when that wastes little. */
#ifndef TANDEM_FIT_H
#define TANDEM_FIT_H

#include <stdbool.h>

struct fit_rect {
        double x, y, w, h; /* in the viewer's (logical) coordinates */
        double scale;      /* viewer units per guest pixel */
};

/* src: guest size in pixels; area: viewer size in logical units; device_scale:
 * device pixels per logical unit (HiDPI); scale_to_fit false = 1:1 device
 * pixels, centred (and cropped if too big). */
struct fit_rect fit_compute(double src_w, double src_h, double area_w, double area_h,
                            double device_scale, bool scale_to_fit);

#endif
