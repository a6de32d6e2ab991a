/* tandem-kiosk: one domain full screen, no admin actions. When tandemd has a
 * phase plan applied, the kiosk shows what the current phase's "kiosk"
 * section names and the hotkey (F12 by default) switches only where the
 * plan's switches allow; it follows phase changes as they happen. Without a
 * plan it shows the DOMAINs given and the hotkey cycles through them.
 *   tandem-kiosk [--socket TANDEMD] [--hotkey F12] [--theme FILE] [DOMAIN...]
 * Displays come from tandemd ("display" method); DOMAIN=SOCKET instead reads
 * a VMM control socket directly (a developer option). */
#include <SDL.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit.h"
#include "keymap_us.h"
#include "kiosk_plan.h"
#include "kiosk_theme.h"
#include "kiosk_watch.h"
#include "message.h"
#include "screenshot.h"
#include "tandem_client.h"

#define MAX_DOMAINS 8
#define OSD_MS      3000
/* the VMM drops a viewer lease not renewed within lease_ms (docs/display.md) */
#define KEEPALIVE_MS 2000
/* while tandemd applies a phase, ask again this often: the last step's
 * state event can come before the phase is recorded */
#define APPLYING_RECHECK_MS 300

struct kiosk {
        SDL_Window *win;
        SDL_Renderer *ren;
        SDL_Texture *tex;
        int tex_w, tex_h;
        struct cellfont *font, *osd_font, *state_font;
        struct kiosk_theme theme;
        /* what is shown now: the plan's domains, or the command line's */
        char names[MAX_DOMAINS][KIOSK_PLAN_NAME];
        const char *sockets[MAX_DOMAINS];
        int ndomains, current;
        char *arg_names[MAX_DOMAINS];
        const char *arg_sockets[MAX_DOMAINS];
        int nargs;
        struct kiosk_plan plan;
        bool plan_mode;
        const char *tandemd; /* NULL: libtandem's default socket */
        struct tandem_client *calls, *events;
        Uint32 recheck_at; /* 0: none */
        struct vmmview *view;
        SDL_Texture *osd_tex, *failure_tex;
        int osd_w, osd_h, failure_w, failure_h;
        Uint32 osd_until;
};

static void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void klog(const char *fmt, ...)
{
        /* TANDEM_KIOSK_LOG=1: what the kiosk shows and says, on stderr */
        if (!getenv("TANDEM_KIOSK_LOG"))
                return;
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "tandem-kiosk: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static SDL_Texture *message_texture(struct kiosk *k, const struct cellfont *f, const char *text,
                                    uint8_t attr, int *w, int *h)
{
        uint32_t mw, mh;
        uint32_t *pix = message_render(f, text, attr, &mw, &mh);
        if (!pix)
                return NULL;
        SDL_Texture *t = SDL_CreateTexture(k->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STATIC,
                                           (int)mw, (int)mh);
        if (t)
                SDL_UpdateTexture(t, NULL, pix, (int)mw * 4);
        free(pix);
        *w = (int)mw, *h = (int)mh;
        return t;
}

static void osd(struct kiosk *k, uint8_t attr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void osd(struct kiosk *k, uint8_t attr, const char *fmt, ...)
{
        char msg[320];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        klog("osd: %s", msg);
        if (k->osd_tex)
                SDL_DestroyTexture(k->osd_tex);
        k->osd_tex = message_texture(k, k->osd_font, msg, attr, &k->osd_w, &k->osd_h);
        k->osd_until = SDL_GetTicks() + OSD_MS;
}

static void set_failure(struct kiosk *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_failure(struct kiosk *k, const char *fmt, ...)
{
        if (k->failure_tex)
                SDL_DestroyTexture(k->failure_tex);
        k->failure_tex = NULL;
        if (!fmt)
                return;
        char msg[320];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        klog("state: %s", msg);
        k->failure_tex = message_texture(k, k->state_font, msg, k->theme.alert_attr, &k->failure_w,
                                         &k->failure_h);
}

/* Full re-upload of the guest screen; called only when frames arrive. */
static void upload(struct kiosk *k)
{
        struct vmmview_geom g;
        char err[256];
        if (!k->view)
                return;
        const char *name = k->names[k->current];
        if (vmmview_geometry(k->view, &g, err, sizeof(err)) < 0) {
                set_failure(k, "%s: %s", name, err);
                return;
        }
        if (g.state == TANDEM_DISPLAY_CRASHED || g.state == TANDEM_DISPLAY_STOPPED) {
                set_failure(k, "%s is %s", name,
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

static void open_view(struct kiosk *k)
{
        vmmview_close(k->view);
        k->view = NULL;
        if (k->tex)
                SDL_DestroyTexture(k->tex);
        k->tex = NULL;
        const char *name = k->names[k->current];
        char err[256] = "";
        if (k->sockets[k->current]) {
                k->view = vmmview_open(k->sockets[k->current], err, sizeof(err));
        } else {
                struct tandem_error terr;
                struct tandem_client *cl = k->calls ? k->calls : tandem_connect(k->tandemd, &terr);
                int fd = -1;
                if (cl && tandem_display_open(cl, name, &fd, &terr) == 0)
                        k->view = vmmview_open_fd(fd, err, sizeof(err));
                if (cl && cl != k->calls)
                        tandem_close(cl);
        }
        if (k->view) {
                set_failure(k, NULL);
                upload(k);
        } else {
                set_failure(k, "%s is not available", name);
        }
}

static void show_domain(struct kiosk *k, int i)
{
        k->current = i;
        klog("showing %s", k->names[i]);
        osd(k, k->theme.osd_attr, "%s starting\u2026", k->names[i]);
        open_view(k);
        SDL_SetWindowTitle(k->win, k->names[i]);
}

static void use_arguments(struct kiosk *k)
{
        k->ndomains = k->nargs;
        for (int i = 0; i < k->nargs; i++) {
                snprintf(k->names[i], sizeof(k->names[i]), "%s", k->arg_names[i]);
                k->sockets[i] = k->arg_sockets[i];
        }
}

/* Takes the phase tandemd reports: shows the first domain of its kiosk
 * section unless the one on screen is still among them. */
static void follow_plan(struct kiosk *k, const struct kiosk_plan *p)
{
        bool was = k->plan_mode, same = was && kiosk_plan_equal(&k->plan, p);
        k->recheck_at = p->applying ? SDL_GetTicks() + APPLYING_RECHECK_MS : 0;
        if (kiosk_plan_active(p)) {
                if (same)
                        return;
                int keep = was ? kiosk_plan_index(p, k->names[k->current]) : -1;
                k->plan = *p;
                k->plan_mode = true;
                k->ndomains = (int)p->n_shows;
                for (size_t i = 0; i < p->n_shows; i++) {
                        snprintf(k->names[i], sizeof(k->names[i]), "%s", p->shows[i]);
                        k->sockets[i] = NULL;
                }
                klog("phase %d: shows %zu domain(s), %zu switch(es)", p->phase, p->n_shows,
                     p->n_switches);
                if (keep >= 0) {
                        k->current = keep;
                        osd(k, k->theme.osd_attr, "Phase %d: %s", p->phase, p->title);
                } else {
                        show_domain(k, 0);
                }
                return;
        }
        k->plan = *p;
        if (!was && k->ndomains)
                return;
        k->plan_mode = false;
        klog("no phase plan applied");
        use_arguments(k);
        if (k->ndomains) {
                show_domain(k, 0);
        } else {
                vmmview_close(k->view);
                k->view = NULL;
                set_failure(k, "No phase plan is applied");
        }
}

static void refresh_plan(struct kiosk *k)
{
        if (!k->calls)
                return;
        struct kiosk_plan p;
        char err[256];
        if (kiosk_plan_read(k->calls, &p, err, sizeof(err)) < 0) {
                klog("%s", err);
                return;
        }
        follow_plan(k, &p);
}

static void hotkey(struct kiosk *k)
{
        if (!k->ndomains)
                return;
        if (!k->plan_mode) {
                show_domain(k, (k->current + 1) % k->ndomains);
                return;
        }
        int next = kiosk_plan_next(&k->plan, k->current);
        if (next < 0) {
                osd(k, k->theme.alert_attr, "No switch from %s in phase %d", k->names[k->current],
                    k->plan.phase);
                return;
        }
        show_domain(k, next);
}

/* tandemd's state and event-log stream: phase steps start and stop domains,
 * so each such event is a moment to ask what the phase is now. Returns
 * whether the screen needs a redraw. */
static bool drain_daemon_events(struct kiosk *k)
{
        if (!k->events)
                return false;
        json_object *ev, *v;
        struct tandem_error err;
        bool ask = false, dirty = false;
        int rc;
        while ((rc = tandem_next_event(k->events, 0, &ev, &err)) == 1) {
                ask = true;
                const char *dom =
                    json_object_object_get_ex(ev, "domain", &v) ? json_object_get_string(v) : NULL;
                const char *state =
                    json_object_object_get_ex(ev, "state", &v) ? json_object_get_string(v) : NULL;
                /* the domain on screen came (back) up: take its display */
                if (dom && state && !strcmp(state, "running") && k->ndomains && !k->view &&
                    !strcmp(dom, k->names[k->current])) {
                        open_view(k);
                        dirty = true;
                }
                json_object_put(ev);
        }
        if (rc < 0) {
                klog("tandemd event stream ended: %s", err.message);
                tandem_close(k->events);
                k->events = NULL;
        }
        if (ask) {
                refresh_plan(k);
                dirty = true;
        }
        return dirty;
}

static void connect_daemon(struct kiosk *k)
{
        struct tandem_error err;
        k->calls = tandem_connect(k->tandemd, &err);
        if (!k->calls) {
                klog("tandemd: %s", err.message);
                return;
        }
        static const char *const topics[] = {"state", "event", NULL};
        k->events = tandem_connect(k->tandemd, &err);
        if (k->events && tandem_subscribe(k->events, topics, NULL, &err) < 0) {
                tandem_close(k->events);
                k->events = NULL;
        }
        if (!k->events)
                klog("tandemd events: %s", err.message);
}

static void redraw(struct kiosk *k)
{
        int ow, oh;
        SDL_GetRendererOutputSize(k->ren, &ow, &oh);
        uint32_t bg = k->theme.background;
        SDL_SetRenderDrawColor(k->ren, (Uint8)(bg >> 16), (Uint8)(bg >> 8), (Uint8)bg, 255);
        SDL_RenderClear(k->ren);
        if (k->failure_tex) {
                SDL_Rect dst = {(ow - k->failure_w) / 2, (oh - k->failure_h) / 2, k->failure_w,
                                k->failure_h};
                SDL_RenderCopy(k->ren, k->failure_tex, NULL, &dst);
        } else if (k->tex) {
                struct fit_rect f = fit_compute(k->tex_w, k->tex_h, ow, oh, 1, true);
                SDL_Rect dst = {(int)f.x, (int)f.y, (int)f.w, (int)f.h};
                SDL_RenderCopy(k->ren, k->tex, NULL, &dst);
        }
        if (k->osd_tex && SDL_GetTicks() < k->osd_until) {
                SDL_Rect dst = {20, 20, k->osd_w, k->osd_h};
                SDL_RenderCopy(k->ren, k->osd_tex, NULL, &dst);
        }
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

/* Milliseconds until the loop has something to do with no input (-1:
 * nothing, sleep until an event). */
static int next_deadline(const struct kiosk *k, Uint32 last_keepalive)
{
        Uint32 now = SDL_GetTicks(), due = 0;
        bool any = false;
        Uint32 at[3] = {k->view ? last_keepalive + KEEPALIVE_MS : 0, k->osd_tex ? k->osd_until : 0,
                        k->recheck_at};
        for (int i = 0; i < 3; i++) {
                if (!at[i])
                        continue;
                if (!any || (Sint32)(at[i] - due) < 0)
                        due = at[i];
                any = true;
        }
        if (!any)
                return -1;
        return (Sint32)(due - now) > 0 ? (int)(due - now) : 0;
}

static int parse_args(struct kiosk *k, int argc, char **argv, const char **hotkey,
                      const char **theme)
{
        static const struct option opts[] = {{"hotkey", required_argument, NULL, 'k'},
                                             {"theme", required_argument, NULL, 't'},
                                             {"socket", required_argument, NULL, 's'},
                                             {NULL, 0, NULL, 0}};
        int c;
        while ((c = getopt_long(argc, argv, "k:t:s:", opts, NULL)) != -1) {
                if (c == 'k')
                        *hotkey = optarg;
                else if (c == 's')
                        k->tandemd = optarg;
                else if (c == 't')
                        *theme = optarg;
                else
                        return -1;
        }
        for (int i = optind; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (eq)
                        *eq = 0;
                if (!argv[i][0] || strlen(argv[i]) >= KIOSK_PLAN_NAME) {
                        fprintf(stderr, "tandem-kiosk: %s: expected DOMAIN or DOMAIN=SOCKET\n",
                                argv[i][0] ? argv[i]
                                : eq       ? eq + 1
                                           : "");
                        return -1;
                }
                if (k->nargs == MAX_DOMAINS) {
                        fprintf(stderr, "tandem-kiosk: at most %d domains\n", MAX_DOMAINS);
                        return -1;
                }
                k->arg_names[k->nargs] = argv[i];
                k->arg_sockets[k->nargs++] = eq ? eq + 1 : NULL;
        }
        return 0;
}

static int open_fonts(struct kiosk *k)
{
        char err[256];
        const char *path = cellfont_default_path();
        k->font = cellfont_open(path, 16, err, sizeof(err));
        if (k->font)
                k->osd_font = cellfont_open(path, k->theme.osd_font_px, err, sizeof(err));
        if (k->osd_font)
                k->state_font = cellfont_open(path, k->theme.state_font_px, err, sizeof(err));
        if (!k->state_font) {
                fprintf(stderr, "tandem-kiosk: %s\n", err);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct kiosk k = {0};
        const char *hotkey_name = "F12", *theme = NULL;
        if (parse_args(&k, argc, argv, &hotkey_name, &theme) < 0) {
                fprintf(stderr, "usage: tandem-kiosk [--socket TANDEMD] [--hotkey KEY] "
                                "[--theme FILE] [DOMAIN[=SOCKET]...]\n");
                return 2;
        }
        SDL_Keycode hot = SDL_GetKeyFromName(hotkey_name);
        if (hot == SDLK_UNKNOWN) {
                fprintf(stderr, "tandem-kiosk: unknown hotkey %s\n", hotkey_name);
                return 2;
        }
        char err[256];
        if (kiosk_theme_load(theme, &k.theme, err, sizeof(err)) < 0) {
                fprintf(stderr, "tandem-kiosk: %s\n", err);
                return 2;
        }
        if (open_fonts(&k) < 0)
                return 1;
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
        /* developer sockets bypass tandemd, and with it the plan */
        bool direct = k.nargs && k.arg_sockets[0];
        if (!direct)
                connect_daemon(&k);
        use_arguments(&k);
        if (k.calls)
                refresh_plan(&k);
        if (!k.plan_mode) {
                if (k.ndomains)
                        show_domain(&k, 0);
                else
                        set_failure(&k, "No phase plan is applied");
        }
        redraw(&k);
        /* The loop sleeps in SDL_WaitEvent: input, the watch thread (a frame
         * or tandemd event is readable), or the next deadline of its own
         * (lease renewal, OSD expiry, a recheck while a phase applies). */
        Uint32 watch_event = SDL_RegisterEvents(1);
        struct kiosk_watch *watch =
            watch_event != (Uint32)-1 ? kiosk_watch_start(watch_event) : NULL;
        if (!watch) {
                fprintf(stderr, "tandem-kiosk: cannot start the watch thread: %s\n",
                        SDL_GetError());
                return 1;
        }
        Uint32 last_keepalive = SDL_GetTicks();
        for (bool quit = false; !quit;) {
                SDL_Event ev;
                bool dirty = false;
                kiosk_watch_arm(watch, k.view ? vmmview_fd(k.view) : -1,
                                k.events ? tandem_client_fd(k.events) : -1);
                int timeout = next_deadline(&k, last_keepalive);
                if (timeout < 0 ? SDL_WaitEvent(&ev) : SDL_WaitEventTimeout(&ev, timeout)) {
                        do {
                                if (ev.type == SDL_QUIT) {
                                        quit = true;
                                } else if (ev.type == SDL_KEYDOWN && ev.key.keysym.sym == hot) {
                                        if (!ev.key.repeat)
                                                hotkey(&k);
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
                if (drain_daemon_events(&k))
                        dirty = true;
                if (k.recheck_at && SDL_GetTicks() >= k.recheck_at) {
                        refresh_plan(&k);
                        dirty = true;
                }
                if (k.view) {
                        bool frames = false;
                        if (vmmview_drain(k.view, on_frame, &frames) < 0) {
                                vmmview_close(k.view);
                                k.view = NULL;
                                set_failure(&k, "%s is not running", k.names[k.current]);
                                dirty = true;
                        } else if (frames) {
                                upload(&k);
                                dirty = true;
                        }
                        if (k.view && SDL_GetTicks() - last_keepalive >= KEEPALIVE_MS) {
                                vmmview_keepalive(k.view);
                                last_keepalive = SDL_GetTicks();
                        }
                }
                if (k.osd_tex && SDL_GetTicks() >= k.osd_until) {
                        SDL_DestroyTexture(k.osd_tex);
                        k.osd_tex = NULL;
                        dirty = true;
                }
                if (dirty)
                        redraw(&k);
        }
        kiosk_watch_stop(watch);
        vmmview_close(k.view);
        if (k.calls)
                tandem_close(k.calls);
        if (k.events)
                tandem_close(k.events);
        SDL_Quit();
        return 0;
}
