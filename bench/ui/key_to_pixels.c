/* Key-to-pixels latency on an X server: presses a key with XTest and waits,
 * through XDamage on the root window, for the first frame that changes the
 * pixels of a rectangle (the guest's pane). Alternates KEY and BackSpace so
 * every press changes the screen.
 *   key_to_pixels X Y W H COUNT [KEY]     prints one latency (ms) per line */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/XTest.h>
#include <X11/keysym.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *grab(Display *dpy, int x, int y, int w, int h, size_t *len)
{
        XImage *img = XGetImage(dpy, DefaultRootWindow(dpy), x, y, (unsigned)w, (unsigned)h,
                                AllPlanes, ZPixmap);
        *len = (size_t)img->bytes_per_line * (size_t)h;
        char *copy = malloc(*len);
        memcpy(copy, img->data, *len);
        XDestroyImage(img);
        return copy;
}

int main(int argc, char **argv)
{
        if (argc < 6) {
                fprintf(stderr, "usage: key_to_pixels X Y W H COUNT [KEY]\n");
                return 2;
        }
        int x = atoi(argv[1]), y = atoi(argv[2]), w = atoi(argv[3]), h = atoi(argv[4]);
        int count = atoi(argv[5]);
        Display *dpy = XOpenDisplay(NULL);
        int dmg_ev, dmg_err;
        if (!dpy || !XDamageQueryExtension(dpy, &dmg_ev, &dmg_err)) {
                fprintf(stderr, "key_to_pixels: no X display with DAMAGE\n");
                return 1;
        }
        Window root = DefaultRootWindow(dpy);
        Damage dmg = XDamageCreate(dpy, root, XDamageReportNonEmpty);
        KeyCode keys[2] = {XKeysymToKeycode(dpy, XStringToKeysym(argc > 6 ? argv[6] : "1")),
                           XKeysymToKeycode(dpy, XK_BackSpace)};
        for (int i = 0; i < count; i++) {
                XDamageSubtract(dpy, dmg, None, None);
                XSync(dpy, True);
                size_t len, len2;
                char *before = grab(dpy, x, y, w, h, &len);
                double t0 = now_ms();
                XTestFakeKeyEvent(dpy, keys[i % 2], True, 0);
                XTestFakeKeyEvent(dpy, keys[i % 2], False, 0);
                XFlush(dpy);
                double t1 = -1;
                while (t1 < 0 && now_ms() - t0 < 5000) {
                        if (!XPending(dpy)) {
                                struct pollfd p = {ConnectionNumber(dpy), POLLIN, 0};
                                poll(&p, 1, 100);
                                continue;
                        }
                        XEvent ev;
                        XNextEvent(dpy, &ev);
                        if (ev.type != dmg_ev + XDamageNotify)
                                continue;
                        XDamageSubtract(dpy, dmg, None, None);
                        char *after = grab(dpy, x, y, w, h, &len2);
                        if (len2 != len || memcmp(before, after, len))
                                t1 = now_ms();
                        free(after);
                }
                free(before);
                if (t1 < 0) {
                        fprintf(stderr, "key_to_pixels: press %d changed nothing in 5 s\n", i);
                        return 1;
                }
                printf("%.2f\n", t1 - t0);
                fflush(stdout);
        }
        XCloseDisplay(dpy);
        return 0;
}
