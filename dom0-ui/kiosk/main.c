/* tandem-kiosk: one domain full screen, no admin actions. A hotkey (F12 by
 * default) switches to the next allowed domain; an OSD says what happens.
 *   tandem-kiosk [--socket TANDEMD] [--hotkey F12] [--theme FILE] DOMAIN...
 * Displays come from tandemd ("display" method); DOMAIN=SOCKET instead reads
 * a VMM control socket directly (a developer option). */
#include <SDL.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cp850.h"
#include "fit.h"
#include "keymap_us.h"
#include "screenshot.h"
#include "tandem_client.h"
#include "textrender.h"

#define MAX_DOMAINS 8

struct kiosk {
        SDL_Window *win;
        SDL_Renderer *ren;
        SDL_Texture *tex;
        int tex_w, tex_h;
        struct cellfont *font, *osd_font;
        char *names[MAX_DOMAINS], *sockets[MAX_DOMAINS];
        const char *tandemd; /* NULL: libtandem's default socket */
        int ndomains, current;
        struct vmmview *view;
        char osd[320];
        Uint32 osd_until;
        char failure[320];
};

static void osd(struct kiosk *k, const char *msg)
{
        snprintf(k->osd, sizeof(k->osd), "%s", msg);
        k->osd_until = SDL_GetTicks() + 3000;
}

static void show_domain(struct kiosk *k, int i)
{
        vmmview_close(k->view);
        k->view = NULL;
        k->current = i;
        char err[256], msg[300];
        snprintf(msg, sizeof(msg), "%s starting\u2026", k->names[i]);
        osd(k, msg);
        if (k->sockets[i]) {
                k->view = vmmview_open(k->sockets[i], err, sizeof(err));
        } else {
                struct tandem_error terr;
                struct tandem_client *cl = tandem_connect(k->tandemd, &terr);
                int fd = -1;
                if (cl && tandem_display_open(cl, k->names[i], &fd, &terr) == 0)
                        k->view = vmmview_open_fd(fd, err, sizeof(err));
                if (cl)
                        tandem_close(cl);
        }
        k->failure[0] = 0;
        if (!k->view)
                snprintf(k->failure, sizeof(k->failure), "%s is not available", k->names[i]);
        SDL_SetWindowTitle(k->win, k->names[i]);
}

/* Full re-upload of the guest screen; called only when frames arrive. */
static void upload(struct kiosk *k)
{
        struct vmmview_geom g;
        char err[256];
        if (!k->view)
                return;
        if (vmmview_geometry(k->view, &g, err, sizeof(err)) < 0) {
                snprintf(k->failure, sizeof(k->failure), "%s: %s", k->names[k->current], err);
                return;
        }
        if (g.state == TANDEM_DISPLAY_CRASHED || g.state == TANDEM_DISPLAY_STOPPED) {
                snprintf(k->failure, sizeof(k->failure), "%s is %s", k->names[k->current],
                         g.state == TANDEM_DISPLAY_CRASHED ? "out of service" : "stopped");
                return;
        }
        uint32_t w, h;
        uint32_t *pix = screen_render(&g, k->font, &w, &h, err, sizeof(err));
        if (!pix)
                return;
        if (!k->tex || k->tex_w != (int)w || k->tex_h != (int)h) {
                if (k->tex)
                        SDL_DestroyTexture(k->tex);
                k->tex = SDL_CreateTexture(k->ren, SDL_PIXELFORMAT_RGB888,
                                           SDL_TEXTUREACCESS_STREAMING, (int)w, (int)h);
                k->tex_w = (int)w, k->tex_h = (int)h;
        }
        SDL_UpdateTexture(k->tex, NULL, pix, (int)w * 4);
        free(pix);
}

static void draw_text(struct kiosk *k, const char *utf8, int x, int y, uint32_t fg, uint32_t bg)
{
        /* OSD text through the same cell font machinery (ASCII/CP850 subset) */
        size_t n = strlen(utf8);
        uint8_t cells[2 * 160];
        size_t cols = 0;
        for (size_t i = 0; i < n && cols < 160;) {
                uint32_t cp;
                size_t len = utf8_get(utf8 + i, n - i, &cp);
                if (!len)
                        break;
                i += len;
                int b = cp == 0x2026 ? '.' : cp850_from_unicode(cp);
                cells[2 * cols] = (uint8_t)(b < 0 ? '?' : b);
                cells[2 * cols + 1] = 0x0F;
                cols++;
        }
        if (!cols)
                return;
        struct text_screen s = {cells, (uint32_t)cols, 1, (uint32_t)cols * 2, false, 0, 0};
        int w = (int)(cols * k->osd_font->cell_w), h = (int)k->osd_font->cell_h;
        uint32_t *pix = malloc((size_t)w * h * 4);
        text_render_all(k->osd_font, &s, pix, (size_t)w);
        for (int i = 0; i < w * h; i++)
                pix[i] = pix[i] == 0 ? bg : fg; /* palette black bg, white fg */
        SDL_Texture *t =
            SDL_CreateTexture(k->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STATIC, w, h);
        SDL_UpdateTexture(t, NULL, pix, w * 4);
        SDL_Rect dst = {x, y, w, h};
        SDL_RenderCopy(k->ren, t, NULL, &dst);
        SDL_DestroyTexture(t);
        free(pix);
}

static void redraw(struct kiosk *k)
{
        int ow, oh;
        SDL_GetRendererOutputSize(k->ren, &ow, &oh);
        SDL_SetRenderDrawColor(k->ren, 0, 0, 0, 255);
        SDL_RenderClear(k->ren);
        if (k->failure[0]) {
                draw_text(k, k->failure, 40, oh / 2, 0xFF6B60, 0x000000);
        } else if (k->tex) {
                struct fit_rect f = fit_compute(k->tex_w, k->tex_h, ow, oh, 1, true);
                SDL_Rect dst = {(int)f.x, (int)f.y, (int)f.w, (int)f.h};
                SDL_RenderCopy(k->ren, k->tex, NULL, &dst);
        }
        if (k->osd[0] && SDL_GetTicks() < k->osd_until)
                draw_text(k, k->osd, 20, 20, 0xFFFFFF, 0x202830);
        SDL_RenderPresent(k->ren);
}

/* SDL scancodes are USB HID usages; the guest wants evdev codes. */
static uint16_t sdl_to_evdev(SDL_Scancode sc)
{
        static const char hid_chars[] =
            "abcdefghijklmnopqrstuvwxyz1234567890\n\x1b\b\t -=[]\\\0;'`,./";
        uint16_t code;
        bool shift;
        if (sc == SDL_SCANCODE_LSHIFT || sc == SDL_SCANCODE_RSHIFT)
                return 42; /* KEY_LEFTSHIFT */
        if (sc < SDL_SCANCODE_A || sc - SDL_SCANCODE_A >= (int)sizeof(hid_chars) - 1)
                return 0;
        char c = hid_chars[sc - SDL_SCANCODE_A];
        return c && keymap_us_lookup((unsigned char)c, &code, &shift) ? code : 0;
}

static void on_frame(void *opaque, const struct vmmview_rect *r)
{
        (void)r;
        *(bool *)opaque = true;
}

int main(int argc, char **argv)
{
        struct kiosk k = {0};
        const char *hotkey = "F12";
        static const struct option opts[] = {{"hotkey", required_argument, NULL, 'k'},
                                             {"theme", required_argument, NULL, 't'},
                                             {"socket", required_argument, NULL, 's'},
                                             {NULL, 0, NULL, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "k:t:s:", opts, NULL)) != -1) {
                if (c == 'k')
                        hotkey = optarg;
                else if (c == 's')
                        k.tandemd = optarg;
                else if (c != 't')
                        return 2;
        }
        for (int i = optind; i < argc && k.ndomains < MAX_DOMAINS; i++) {
                char *eq = strchr(argv[i], '=');
                if (eq)
                        *eq = 0;
                if (!argv[i][0]) {
                        fprintf(stderr, "tandem-kiosk: %s: expected DOMAIN or DOMAIN=SOCKET\n",
                                eq ? eq + 1 : "");
                        return 2;
                }
                k.names[k.ndomains] = argv[i];
                k.sockets[k.ndomains++] = eq ? eq + 1 : NULL;
        }
        if (!k.ndomains) {
                fprintf(
                    stderr,
                    "usage: tandem-kiosk [--socket TANDEMD] [--hotkey KEY] DOMAIN[=SOCKET]...\n");
                return 2;
        }
        SDL_Keycode hot = SDL_GetKeyFromName(hotkey);
        if (hot == SDLK_UNKNOWN) {
                fprintf(stderr, "tandem-kiosk: unknown hotkey %s\n", hotkey);
                return 2;
        }
        char err[256];
        k.font = cellfont_open(cellfont_default_path(), 16, err, sizeof(err));
        k.osd_font = cellfont_open(cellfont_default_path(), 28, err, sizeof(err));
        if (!k.font || !k.osd_font) {
                fprintf(stderr, "tandem-kiosk: %s\n", err);
                return 1;
        }
        if (SDL_Init(SDL_INIT_VIDEO) < 0) {
                fprintf(stderr, "tandem-kiosk: %s\n", SDL_GetError());
                return 1;
        }
        /* sized to the desktop as well: without a window manager the
         * fullscreen flag alone leaves the window at its requested size */
        SDL_DisplayMode dm = {.w = 800, .h = 600};
        SDL_GetDesktopDisplayMode(0, &dm);
        k.win = SDL_CreateWindow("tandem-kiosk", 0, 0, dm.w, dm.h,
                                 SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS);
        k.ren = SDL_CreateRenderer(k.win, -1, 0);
        if (!k.win || !k.ren) {
                fprintf(stderr, "tandem-kiosk: %s\n", SDL_GetError());
                return 1;
        }
        show_domain(&k, 0);
        upload(&k);
        redraw(&k);
        Uint32 last_keepalive = SDL_GetTicks();
        for (bool quit = false; !quit;) {
                SDL_Event ev;
                bool dirty = false;
                /* sleep in SDL until input or the next view check (no busy loop) */
                if (SDL_WaitEventTimeout(&ev, 50)) {
                        do {
                                if (ev.type == SDL_QUIT)
                                        quit = true;
                                else if (ev.type == SDL_KEYDOWN && ev.key.keysym.sym == hot) {
                                        show_domain(&k, (k.current + 1) % k.ndomains);
                                        upload(&k);
                                        dirty = true;
                                } else if ((ev.type == SDL_KEYDOWN || ev.type == SDL_KEYUP) &&
                                           k.view) {
                                        uint16_t code = sdl_to_evdev(ev.key.keysym.scancode);
                                        if (code)
                                                vmmview_send_key(k.view, code,
                                                                 ev.type == SDL_KEYDOWN);
                                } else if (ev.type == SDL_WINDOWEVENT) {
                                        dirty = true;
                                }
                        } while (SDL_PollEvent(&ev));
                }
                if (k.view) {
                        bool frames = false;
                        if (vmmview_drain(k.view, on_frame, &frames) < 0) {
                                vmmview_close(k.view);
                                k.view = NULL;
                                snprintf(k.failure, sizeof(k.failure), "%s is not running",
                                         k.names[k.current]);
                                dirty = true;
                        } else if (frames) {
                                upload(&k);
                                dirty = true;
                        }
                        if (k.view && SDL_GetTicks() - last_keepalive > 2000) {
                                vmmview_keepalive(k.view);
                                last_keepalive = SDL_GetTicks();
                        }
                }
                if (k.osd[0] && SDL_GetTicks() >= k.osd_until) {
                        k.osd[0] = 0;
                        dirty = true;
                }
                if (dirty)
                        redraw(&k);
        }
        vmmview_close(k.view);
        SDL_Quit();
        return 0;
}
