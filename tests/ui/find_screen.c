/* Grabs the X screen and looks for a domain's display in it, rendered from
 * the guest's own cells with the render library (no stored pictures).
 *   find_screen --control SOCK [--scale N] [--save grab.png] [--size]
 *   find_screen --message TEXT --attr A [--scale N] [--inside X,Y,W,H]
 *   find_screen --png FILE        (a screenshot, e.g. tandem-screenshot's)
 * Prints "FOUND x y w h" (exit 0) or "NOTFOUND" (exit 1); with --size only
 * "SIZE w h" of the rendered screen (to size an X screen for a kiosk).
 * --scale: the device pixels per logical pixel the viewer draws with (HiDPI).
 * --message: a state message as panes draw it (render/message.c); --inside
 * also requires every pixel of that rectangle to be the plain pane or the
 * message, i.e. nothing of an old guest picture is left there. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <png.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
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

static uint32_t *read_png(const char *path, uint32_t *w, uint32_t *h)
{
        png_image img = {.version = PNG_IMAGE_VERSION};
        if (!png_image_begin_read_from_file(&img, path))
                return NULL;
        img.format = PNG_FORMAT_BGRA; /* little-endian XRGB words */
        uint32_t *pix = malloc(PNG_IMAGE_SIZE(img));
        if (!pix || !png_image_finish_read(&img, NULL, pix, 0, NULL)) {
                free(pix);
                png_image_free(&img);
                return NULL;
        }
        *w = img.width, *h = img.height;
        for (size_t i = 0; i < (size_t)*w * *h; i++)
                pix[i] &= 0xFFFFFF;
        return pix;
}

/* Every pixel of the rectangle is the pane background or inside the box. */
static bool only_pane_and_box(const uint32_t *scr, uint32_t sw, uint32_t sh, const uint32_t in[4],
                              uint32_t bx, uint32_t by, uint32_t bw, uint32_t bh)
{
        for (uint32_t y = in[1]; y < in[1] + in[3] && y < sh; y++)
                for (uint32_t x = in[0]; x < in[0] + in[2] && x < sw; x++) {
                        bool in_box = x >= bx && x < bx + bw && y >= by && y < by + bh;
                        if (!in_box && scr[(size_t)y * sw + x] != MESSAGE_PANE_BG) {
                                printf("STALE pixel 0x%06x at %u,%u\n", scr[(size_t)y * sw + x], x,
                                       y);
                                return false;
                        }
                }
        return true;
}

int main(int argc, char **argv)
{
        const char *control = NULL, *save = NULL, *message = NULL, *inside = NULL, *png = NULL;
        unsigned scale = 1, attr = 0;
        bool size_only = false;
        static const struct option opts[] = {{"control", required_argument, NULL, 'c'},
                                             {"save", required_argument, NULL, 's'},
                                             {"size", no_argument, NULL, 'z'},
                                             {"scale", required_argument, NULL, 'k'},
                                             {"message", required_argument, NULL, 'm'},
                                             {"attr", required_argument, NULL, 'a'},
                                             {"inside", required_argument, NULL, 'i'},
                                             {"png", required_argument, NULL, 'p'},
                                             {NULL, 0, NULL, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "c:s:zk:m:a:i:p:", opts, NULL)) != -1) {
                if (c == 'c')
                        control = optarg;
                else if (c == 's')
                        save = optarg;
                else if (c == 'z')
                        size_only = true;
                else if (c == 'k')
                        scale = (unsigned)strtoul(optarg, NULL, 0);
                else if (c == 'm')
                        message = optarg;
                else if (c == 'a')
                        attr = (unsigned)strtoul(optarg, NULL, 0);
                else if (c == 'i')
                        inside = optarg;
                else if (c == 'p')
                        png = optarg;
                else
                        return 2;
        }
        uint32_t box[4];
        if ((!!control + !!message + !!png) != 1 || scale < 1 || scale > 4 || attr > 0xFF ||
            (inside && sscanf(inside, "%u,%u,%u,%u", &box[0], &box[1], &box[2], &box[3]) != 4)) {
                fprintf(stderr,
                        "usage: find_screen --control SOCK | --png FILE | --message TEXT --attr A "
                        "[--scale N] [--inside X,Y,W,H] [--save grab.png]\n");
                return 2;
        }
        char err[256];
        struct cellfont *font =
            cellfont_open(cellfont_default_path(), 16 * scale, err, sizeof(err));
        if (!font) {
                fprintf(stderr, "find_screen: %s\n", err);
                return 2;
        }
        uint32_t rw, rh, sw, sh;
        uint32_t *ref;
        if (message) {
                ref = message_render(font, message, (uint8_t)attr, &rw, &rh);
        } else if (png) {
                if (!(ref = read_png(png, &rw, &rh))) {
                        fprintf(stderr, "find_screen: cannot read %s\n", png);
                        return 2;
                }
        } else {
                struct vmmview *v = vmmview_open(control, err, sizeof(err));
                struct vmmview_geom g;
                if (!v || vmmview_geometry(v, &g, err, sizeof(err)) < 0) {
                        fprintf(stderr, "find_screen: %s\n", err);
                        return 2;
                }
                ref = screen_render(&g, font, &rw, &rh, err, sizeof(err));
        }
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
                                if (inside && !only_pane_and_box(scr, sw, sh, box, x, y, rw, rh))
                                        return 1;
                                printf("FOUND %u %u %u %u\n", x, y, rw, rh);
                                return 0;
                        }
        printf("NOTFOUND %ux%u in %ux%u\n", rw, rh, sw, sh);
        return 1;
}
