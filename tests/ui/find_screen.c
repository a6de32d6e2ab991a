/* Grabs the X screen and looks for a domain's display in it, rendered from
 * the guest's own cells with the render library (no stored pictures).
 *   find_screen --control SOCK [--save grab.png] [--size]
 * Prints "FOUND x y w h" (exit 0) or "NOTFOUND" (exit 1); with --size only
 * "SIZE w h" of the rendered screen (to size an X screen for a kiosk). */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pngwrite.h"
#include "screenshot.h"

static uint32_t *grab_root(uint32_t *w, uint32_t *h)
{
        Display *dpy = XOpenDisplay(NULL);
        if (!dpy)
                return NULL;
        Window root = DefaultRootWindow(dpy);
        XWindowAttributes wa;
        XGetWindowAttributes(dpy, root, &wa);
        XImage *img =
            XGetImage(dpy, root, 0, 0, (unsigned)wa.width, (unsigned)wa.height, AllPlanes, ZPixmap);
        if (!img) {
                XCloseDisplay(dpy);
                return NULL;
        }
        *w = (uint32_t)wa.width;
        *h = (uint32_t)wa.height;
        uint32_t *pix = malloc((size_t)*w * *h * 4);
        for (uint32_t y = 0; y < *h; y++)
                for (uint32_t x = 0; x < *w; x++)
                        pix[y * *w + x] = (uint32_t)XGetPixel(img, (int)x, (int)y) & 0xFFFFFF;
        XDestroyImage(img);
        XCloseDisplay(dpy);
        return pix;
}

static bool match_at(const uint32_t *scr, uint32_t sw, const uint32_t *ref, uint32_t rw,
                     uint32_t rh, uint32_t x, uint32_t y)
{
        for (uint32_t r = 0; r < rh; r++)
                if (memcmp(scr + (size_t)(y + r) * sw + x, ref + (size_t)r * rw, rw * 4))
                        return false;
        return true;
}

int main(int argc, char **argv)
{
        const char *control = NULL, *save = NULL;
        bool size_only = false;
        static const struct option opts[] = {{"control", required_argument, NULL, 'c'},
                                             {"save", required_argument, NULL, 's'},
                                             {"size", no_argument, NULL, 'z'},
                                             {NULL, 0, NULL, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "c:s:z", opts, NULL)) != -1) {
                if (c == 'c')
                        control = optarg;
                else if (c == 's')
                        save = optarg;
                else if (c == 'z')
                        size_only = true;
                else
                        return 2;
        }
        if (!control) {
                fprintf(stderr, "usage: find_screen --control SOCK [--save grab.png]\n");
                return 2;
        }
        char err[256];
        struct vmmview *v = vmmview_open(control, err, sizeof(err));
        struct vmmview_geom g;
        if (!v || vmmview_geometry(v, &g, err, sizeof(err)) < 0) {
                fprintf(stderr, "find_screen: %s\n", err);
                return 2;
        }
        struct cellfont *font = cellfont_open(cellfont_default_path(), 16, err, sizeof(err));
        uint32_t rw, rh, sw, sh;
        uint32_t *ref = screen_render(&g, font, &rw, &rh, err, sizeof(err));
        if (ref && size_only) {
                printf("SIZE %u %u\n", rw, rh);
                return 0;
        }
        uint32_t *scr = grab_root(&sw, &sh);
        if (!ref || !scr) {
                fprintf(stderr, "find_screen: cannot render or grab the screen\n");
                return 2;
        }
        if (save)
                png_write_xrgb(save, scr, sw, sh, sw, err, sizeof(err));
        for (uint32_t y = 0; y + rh <= sh; y++)
                for (uint32_t x = 0; x + rw <= sw; x++)
                        if (scr[(size_t)y * sw + x] == ref[0] &&
                            match_at(scr, sw, ref, rw, rh, x, y)) {
                                printf("FOUND %u %u %u %u\n", x, y, rw, rh);
                                return 0;
                        }
        printf("NOTFOUND %ux%u in %ux%u\n", rw, rh, sw, sh);
        return 1;
}
