#include "fit.h"

#include <math.h>

struct fit_rect fit_compute(double src_w, double src_h, double area_w, double area_h,
                            double device_scale, bool scale_to_fit)
{
        struct fit_rect r = {0, 0, 0, 0, 1};
        if (src_w <= 0 || src_h <= 0 || area_w <= 0 || area_h <= 0)
                return r;
        if (device_scale <= 0)
                device_scale = 1;
        double s;
        if (scale_to_fit) {
                s = fmin(area_w / src_w, area_h / src_h);
                /* snap to a whole number of device pixels per guest pixel when
                 * that keeps >= 90% of the size: crisp text, no blur */
                double dev = s * device_scale;
                if (dev >= 1 && floor(dev) / dev >= 0.9)
                        s = floor(dev) / device_scale;
        } else {
                s = 1 / device_scale;
        }
        r.scale = s;
        r.w = src_w * s;
        r.h = src_h * s;
        r.x = floor((area_w - r.w) / 2);
        r.y = floor((area_h - r.h) / 2);
        return r;
}
