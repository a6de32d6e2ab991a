#include "console.h"

#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellfont.h"
#include "fit.h"
#include "message.h"
#include "tandem_client.h"
#include "textrender.h"
#include "vmmview.h"

#define CELL_PX      16
#define KEEPALIVE_MS 2000

struct console {
        char *domain;
        char *control_path;   /* developer option: a VMM control socket */
        char *tandemd_socket; /* else the display comes from tandemd */
        bool via_tandemd;
        GtkWidget *box, *title, *banner, *area;
        struct vmmview *view;
        guint io_watch, keepalive;
        struct cellfont *font;
        int font_scale;
        cairo_surface_t *surface; /* the guest screen at device resolution */
        struct vmmview_geom geom; /* geometry the surface was built for */
        char message[256];        /* shown instead of the screen when set */
        uint8_t message_attr;
        cairo_surface_t *message_surface; /* message rendered at message_scale */
        char message_rendered[256];
        int message_scale;
        bool scale_to_fit;
        bool grabbed;
        bool ctrl_down, alt_down;
};

static void detach(struct console *c)
{
        if (c->io_watch)
                g_source_remove(c->io_watch);
        if (c->keepalive)
                g_source_remove(c->keepalive);
        c->io_watch = c->keepalive = 0;
        vmmview_close(c->view);
        c->view = NULL;
        if (c->surface)
                cairo_surface_destroy(c->surface);
        c->surface = NULL;
}

static void show_message(struct console *c, const char *msg, uint8_t attr)
{
        if (msg != c->message)
                g_strlcpy(c->message, msg, sizeof(c->message));
        c->message_attr = attr;
        detach(c);
        gtk_widget_queue_draw(c->area);
}

/* Where the surface lands in the widget (logical units). */
static struct fit_rect placement(struct console *c)
{
        int scale = gtk_widget_get_scale_factor(c->area);
        double sw = cairo_image_surface_get_width(c->surface);
        double sh = cairo_image_surface_get_height(c->surface);
        /* the result's scale: logical units per surface (device) pixel */
        return fit_compute(sw, sh, gtk_widget_get_allocated_width(c->area),
                           gtk_widget_get_allocated_height(c->area), scale, c->scale_to_fit);
}

static bool ensure_font(struct console *c)
{
        int scale = gtk_widget_get_scale_factor(c->area);
        if (c->font && c->font_scale == scale)
                return true;
        cellfont_close(c->font);
        char err[256];
        c->font =
            cellfont_open(cellfont_default_path(), (unsigned)(CELL_PX * scale), err, sizeof(err));
        c->font_scale = scale;
        if (!c->font)
                g_strlcpy(c->message, err, sizeof(c->message));
        return c->font != NULL;
}

/* Copies/renders the guest rectangle into the surface; returns the device-
 * pixel rectangle it touched. */
static void update_surface(struct console *c, const struct vmmview_geom *g, uint32_t x, uint32_t y,
                           uint32_t w, uint32_t h, GdkRectangle *px)
{
        cairo_surface_flush(c->surface);
        uint32_t *pix = (uint32_t *)cairo_image_surface_get_data(c->surface);
        size_t stride_px = (size_t)cairo_image_surface_get_stride(c->surface) / 4;
        if (x >= g->width || y >= g->height) {
                *px = (GdkRectangle){0, 0, 0, 0};
                return;
        }
        if (w > g->width - x)
                w = g->width - x;
        if (h > g->height - y)
                h = g->height - y;
        if (g->kind == TANDEM_DISPLAY_TEXT) {
                struct text_screen s = {g->data,           g->width,    g->height,  g->stride,
                                        g->cursor_visible, g->cursor_x, g->cursor_y};
                text_render_cells(c->font, &s, x, y, w, h, pix, stride_px);
                *px = (GdkRectangle){(int)(x * c->font->cell_w), (int)(y * c->font->cell_h),
                                     (int)(w * c->font->cell_w), (int)(h * c->font->cell_h)};
        } else {
                for (uint32_t r = y; r < y + h; r++)
                        memcpy(pix + r * stride_px + x, g->data + (size_t)r * g->stride + x * 4,
                               (size_t)w * 4);
                *px = (GdkRectangle){(int)x, (int)y, (int)w, (int)h};
        }
        cairo_surface_mark_dirty_rectangle(c->surface, px->x, px->y, px->width, px->height);
}

static bool same_geometry(const struct vmmview_geom *a, const struct vmmview_geom *b)
{
        return a->kind == b->kind && a->width == b->width && a->height == b->height;
}

/* TANDEM_SHELL_DEBUG_DAMAGE=1: each guest change and the area it queues go
 * to stderr (tests check that a change redraws only its own rectangle). */
static bool debug_damage(void)
{
        static int on = -1;
        if (on < 0)
                on = g_getenv("TANDEM_SHELL_DEBUG_DAMAGE") != NULL;
        return on;
}

static void queue_device_rect(struct console *c, const struct vmmview_rect *r,
                              const GdkRectangle *px)
{
        struct fit_rect f = placement(c);
        double k = f.scale; /* logical units per surface pixel */
        int x0 = (int)(f.x + px->x * k) - 1, y0 = (int)(f.y + px->y * k) - 1;
        int x1 = (int)(f.x + (px->x + px->width) * k) + 2;
        int y1 = (int)(f.y + (px->y + px->height) * k) + 2;
        if (debug_damage())
                fprintf(stderr, "damage %s %s %u %u %u %u queue_draw_area %d %d %d %d\n", c->domain,
                        c->geom.kind == TANDEM_DISPLAY_TEXT ? "cells" : "pixels", r->x, r->y, r->w,
                        r->h, x0, y0, x1 - x0, y1 - y0);
        gtk_widget_queue_draw_area(c->area, x0, y0, x1 - x0, y1 - y0);
}

static const char *state_text(uint32_t state)
{
        switch (state) {
        case TANDEM_DISPLAY_STOPPED:
                return "is powered off";
        case TANDEM_DISPLAY_CRASHED:
                return "has crashed";
        }
        return NULL;
}

/* Builds the surface for the current geometry and draws everything. */
static bool rebuild(struct console *c, const struct vmmview_geom *g)
{
        if (c->surface)
                cairo_surface_destroy(c->surface);
        c->surface = NULL;
        int w, h;
        if (g->kind == TANDEM_DISPLAY_TEXT) {
                if (!ensure_font(c))
                        return false;
                w = (int)(g->width * c->font->cell_w);
                h = (int)(g->height * c->font->cell_h);
        } else {
                w = (int)g->width;
                h = (int)g->height;
        }
        c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
        if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
                snprintf(c->message, sizeof(c->message), "%s: screen %dx%d too large", c->domain, w,
                         h);
                cairo_surface_destroy(c->surface);
                c->surface = NULL;
                return false;
        }
        c->geom = *g;
        GdkRectangle px;
        update_surface(c, g, 0, 0, g->width, g->height, &px);
        gtk_widget_queue_draw(c->area);
        return true;
}

struct frame_ctx {
        struct console *c;
        struct vmmview_geom g;
};

static void on_frame(void *opaque, const struct vmmview_rect *r)
{
        struct frame_ctx *fc = opaque;
        GdkRectangle px;
        if (!fc->c->surface)
                return;
        update_surface(fc->c, &fc->g, r->x, r->y, r->w, r->h, &px);
        if (px.width > 0)
                queue_device_rect(fc->c, r, &px);
}

static gboolean on_vmm_input(GIOChannel *ch, GIOCondition cond, gpointer data)
{
        (void)ch, (void)cond;
        struct console *c = data;
        char err[256];
        struct frame_ctx fc = {c};
        if (vmmview_geometry(c->view, &fc.g, err, sizeof(err)) < 0) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s: display rejected (%s)", c->domain, err);
                c->io_watch = 0;
                show_message(c, msg, MESSAGE_ATTR_FAILED);
                return G_SOURCE_REMOVE;
        }
        const char *st = state_text(fc.g.state);
        if (st) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s %s", c->domain, st);
                c->io_watch = 0;
                show_message(c, msg,
                             fc.g.state == TANDEM_DISPLAY_CRASHED ? MESSAGE_ATTR_FAILED
                                                                  : MESSAGE_ATTR_INFO);
                return G_SOURCE_REMOVE;
        }
        bool rebuilt = false;
        if (!same_geometry(&fc.g, &c->geom)) {
                rebuilt = true;
                if (!rebuild(c, &fc.g)) {
                        c->io_watch = 0;
                        show_message(c, c->message, MESSAGE_ATTR_FAILED);
                        return G_SOURCE_REMOVE;
                }
        }
        bool paused_changed = fc.g.state != c->geom.state;
        c->geom.state = fc.g.state;
        int rc = vmmview_drain(c->view, rebuilt ? NULL : on_frame, &fc);
        if (paused_changed)
                gtk_widget_queue_draw(c->area);
        if (rc < 0) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s is not running (its VMM went away)", c->domain);
                c->io_watch = 0;
                show_message(c, msg, MESSAGE_ATTR_FAILED);
                return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;
}

static gboolean on_keepalive(gpointer data)
{
        struct console *c = data;
        if (c->view)
                vmmview_keepalive(c->view);
        return G_SOURCE_CONTINUE;
}

void console_attach(struct console *c, const char *control_path)
{
        detach(c);
        if (control_path && control_path != c->control_path) {
                g_free(c->control_path);
                c->control_path = g_strdup(control_path);
        }
        char err[256];
        if (c->control_path) {
                c->view = vmmview_open(c->control_path, err, sizeof(err));
        } else if (c->via_tandemd) {
                struct tandem_error terr;
                struct tandem_client *cl = tandem_connect(c->tandemd_socket, &terr);
                int fd = -1;
                if (cl && tandem_display_open(cl, c->domain, &fd, &terr) == 0)
                        c->view = vmmview_open_fd(fd, err, sizeof(err));
                else
                        g_strlcpy(err, terr.message, sizeof(err));
                if (cl)
                        tandem_close(cl);
        } else {
                snprintf(c->message, sizeof(c->message), "%s: no display", c->domain);
                c->message_attr = MESSAGE_ATTR_INFO;
                gtk_widget_queue_draw(c->area);
                return;
        }
        if (!c->view) {
                char msg[300];
                snprintf(msg, sizeof(msg), "%s: %s", c->domain, err);
                show_message(c, msg, MESSAGE_ATTR_FAILED);
                return;
        }
        c->message[0] = 0;
        memset(&c->geom, 0, sizeof(c->geom));
        GIOChannel *ch = g_io_channel_unix_new(vmmview_fd(c->view));
        c->io_watch = g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_vmm_input, c);
        g_io_channel_unref(ch);
        c->keepalive = g_timeout_add(KEEPALIVE_MS, on_keepalive, c);
        on_vmm_input(NULL, G_IO_IN, c);
}

void console_set_domain_state(struct console *c, const char *state, const char *reason)
{
        char msg[300];
        bool crash = reason && strstr(reason, "crash");
        if (!strcmp(state, "crashed")) {
                snprintf(msg, sizeof(msg), "%s has crashed", c->domain);
                show_message(c, msg, MESSAGE_ATTR_FAILED);
        } else if (!strcmp(state, "destroyed")) {
                snprintf(msg, sizeof(msg), "%s %s", c->domain,
                         crash ? "crashed and was destroyed" : "was destroyed");
                show_message(c, msg, MESSAGE_ATTR_FAILED);
        } else if (!strcmp(state, "stopped")) {
                snprintf(msg, sizeof(msg), "%s is powered off", c->domain);
                show_message(c, msg, MESSAGE_ATTR_INFO);
        } else if (!strcmp(state, "running") && !c->view && (c->control_path || c->via_tandemd)) {
                console_attach(c, NULL);
        }
}

void console_set_scale_to_fit(struct console *c, bool fit)
{
        c->scale_to_fit = fit;
        gtk_widget_queue_draw(c->area);
}

/* The message is drawn with the cell font at device resolution, centred on
 * whole device pixels, over a plain pane: nothing of the old screen stays. */
static void draw_message(cairo_t *cr, struct console *c, const char *msg)
{
        int scale = gtk_widget_get_scale_factor(c->area);
        cairo_set_source_rgb(cr, (MESSAGE_PANE_BG >> 16) / 255.0,
                             ((MESSAGE_PANE_BG >> 8) & 0xFF) / 255.0,
                             (MESSAGE_PANE_BG & 0xFF) / 255.0);
        cairo_paint(cr);
        if ((!c->message_surface || c->message_scale != scale ||
             strcmp(c->message_rendered, msg)) &&
            ensure_font(c)) {
                if (c->message_surface)
                        cairo_surface_destroy(c->message_surface);
                c->message_surface = NULL;
                uint32_t w, h;
                uint32_t *pix = message_render(c->font, msg, c->message_attr, &w, &h);
                if (pix) {
                        c->message_surface =
                            cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
                        cairo_surface_flush(c->message_surface);
                        uint8_t *dst = cairo_image_surface_get_data(c->message_surface);
                        int stride = cairo_image_surface_get_stride(c->message_surface);
                        for (uint32_t y = 0; y < h; y++)
                                memcpy(dst + (size_t)y * stride, pix + (size_t)y * w,
                                       (size_t)w * 4);
                        cairo_surface_mark_dirty(c->message_surface);
                        free(pix);
                }
                g_strlcpy(c->message_rendered, msg, sizeof(c->message_rendered));
                c->message_scale = scale;
        }
        if (!c->message_surface)
                return;
        int aw = gtk_widget_get_allocated_width(c->area);
        int ah = gtk_widget_get_allocated_height(c->area);
        int mw = cairo_image_surface_get_width(c->message_surface) / scale;
        int mh = cairo_image_surface_get_height(c->message_surface) / scale;
        cairo_save(cr);
        cairo_translate(cr, aw > mw ? (aw - mw) / 2 : 0, (ah - mh) / 2);
        cairo_scale(cr, 1.0 / scale, 1.0 / scale);
        cairo_set_source_surface(cr, c->message_surface, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
        cairo_paint(cr);
        cairo_restore(cr);
}

static gboolean on_draw(GtkWidget *w, cairo_t *cr, gpointer data)
{
        struct console *c = data;
        if (!c->surface) {
                draw_message(cr, c, c->message[0] ? c->message : "no display");
                return TRUE;
        }
        int scale = gtk_widget_get_scale_factor(w);
        /* the scale is known once the pane is on a monitor (or moved to
         * another): text is rasterized again at the device size */
        if (c->geom.kind == TANDEM_DISPLAY_TEXT && c->view && c->font_scale != scale) {
                struct vmmview_geom g = c->geom;
                if (!rebuild(c, &g)) {
                        show_message(c, c->message, MESSAGE_ATTR_FAILED);
                        return TRUE;
                }
        }
        struct fit_rect f = placement(c);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_paint(cr);
        cairo_save(cr);
        cairo_translate(cr, f.x, f.y);
        cairo_scale(cr, f.scale, f.scale);
        cairo_set_source_surface(cr, c->surface, 0, 0);
        double dev = f.scale * scale; /* device pixels per surface pixel */
        cairo_pattern_set_filter(cairo_get_source(cr),
                                 dev == (int)dev ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
        cairo_paint(cr);
        cairo_restore(cr);
        if (c->geom.state == TANDEM_DISPLAY_PAUSED) {
                cairo_set_source_rgba(cr, 0, 0, 0, 0.5);
                cairo_paint(cr);
                cairo_set_source_rgb(cr, 1, 1, 1);
                cairo_move_to(cr, f.x + 10, f.y + 24);
                cairo_set_font_size(cr, 18);
                cairo_show_text(cr, "Paused");
        }
        return TRUE;
}

static void set_grab(struct console *c, bool grab)
{
        GdkSeat *seat = gdk_display_get_default_seat(gtk_widget_get_display(c->area));
        GdkWindow *win = gtk_widget_get_window(c->area);
        if (grab && win) {
                gdk_seat_grab(seat, win, GDK_SEAT_CAPABILITY_KEYBOARD, FALSE, NULL, NULL, NULL,
                              NULL);
        } else if (!grab) {
                gdk_seat_ungrab(seat);
        }
        c->grabbed = grab;
        gtk_widget_set_visible(c->banner, grab);
}

static gboolean on_button(GtkWidget *w, GdkEventButton *ev, gpointer data)
{
        (void)ev;
        struct console *c = data;
        gtk_widget_grab_focus(w);
        if (c->view && !c->grabbed)
                set_grab(c, true);
        return TRUE;
}

static gboolean on_key(GtkWidget *w, GdkEventKey *ev, gpointer data)
{
        (void)w;
        struct console *c = data;
        bool down = ev->type == GDK_KEY_PRESS;
        guint kv = ev->keyval;
        if (kv == GDK_KEY_Control_L || kv == GDK_KEY_Control_R)
                c->ctrl_down = down;
        if (kv == GDK_KEY_Alt_L || kv == GDK_KEY_Alt_R || kv == GDK_KEY_Meta_L)
                c->alt_down = down;
        if (c->grabbed && c->ctrl_down && c->alt_down) {
                /* the release hotkey: the guest sees both modifiers go up */
                vmmview_send_key(c->view, KEY_LEFTCTRL, false);
                vmmview_send_key(c->view, KEY_LEFTALT, false);
                set_grab(c, false);
                return TRUE;
        }
        if (!c->view || ev->hardware_keycode < 8)
                return FALSE;
        /* X11 keycodes are evdev codes + 8 */
        vmmview_send_key(c->view, ev->hardware_keycode - 8u, down);
        return TRUE;
}

static void on_destroy(GtkWidget *w, gpointer data)
{
        (void)w;
        struct console *c = data;
        detach(c);
        if (c->message_surface)
                cairo_surface_destroy(c->message_surface);
        cellfont_close(c->font);
        g_free(c->domain);
        g_free(c->control_path);
        g_free(c->tandemd_socket);
        free(c);
}

struct console *console_new(const char *domain, const char *control_path)
{
        struct console *c = calloc(1, sizeof(*c));
        c->domain = g_strdup(domain);
        c->scale_to_fit = true;
        c->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
        gtk_style_context_add_class(gtk_widget_get_style_context(c->box), "tandem-console");
        gtk_widget_set_name(c->box, domain);
        c->title = gtk_label_new(domain);
        gtk_widget_set_halign(c->title, GTK_ALIGN_START);
        gtk_style_context_add_class(gtk_widget_get_style_context(c->title), "tandem-console-title");
        c->banner = gtk_label_new("Keyboard grabbed \u2014 press Ctrl+Alt to release");
        gtk_style_context_add_class(gtk_widget_get_style_context(c->banner), "tandem-grab-banner");
        gtk_widget_set_no_show_all(c->banner, TRUE);
        c->area = gtk_drawing_area_new();
        gtk_widget_set_name(c->area, domain);
        gtk_widget_set_size_request(c->area, 320, 200);
        gtk_widget_set_hexpand(c->area, TRUE);
        gtk_widget_set_vexpand(c->area, TRUE);
        gtk_widget_set_can_focus(c->area, TRUE);
        gtk_widget_add_events(c->area,
                              GDK_KEY_PRESS_MASK | GDK_KEY_RELEASE_MASK | GDK_BUTTON_PRESS_MASK);
        g_signal_connect(c->area, "draw", G_CALLBACK(on_draw), c);
        g_signal_connect(c->area, "button-press-event", G_CALLBACK(on_button), c);
        g_signal_connect(c->area, "key-press-event", G_CALLBACK(on_key), c);
        g_signal_connect(c->area, "key-release-event", G_CALLBACK(on_key), c);
        g_signal_connect(c->box, "destroy", G_CALLBACK(on_destroy), c);
        gtk_box_pack_start(GTK_BOX(c->box), c->title, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(c->box), c->banner, FALSE, FALSE, 0);
        gtk_box_pack_start(GTK_BOX(c->box), c->area, TRUE, TRUE, 0);
        if (control_path)
                c->control_path = g_strdup(control_path);
        return c;
}

void console_use_tandemd(struct console *c, const char *tandemd_socket)
{
        c->via_tandemd = true;
        g_free(c->tandemd_socket);
        c->tandemd_socket = g_strdup(tandemd_socket);
}

GtkWidget *console_widget(struct console *c)
{
        return c->box;
}

const char *console_domain(const struct console *c)
{
        return c->domain;
}
