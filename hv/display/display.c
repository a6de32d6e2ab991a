/* VMM side of a guest display: the shared memfd, the control commands that
 * hand it to viewers and carry input back, and framebuffer dirty tracking. */
#include "display.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/input-event-codes.h>

#include "control.h"
#include "cp850.h"
#include "keymap_us.h"
#include "vm.h"

#define PAGE_SIZE 4096u
/* Bounds on max geometry keep every size computation far from overflow. */
#define DISPLAY_MAX_CELLS_SIDE  512u
#define DISPLAY_MAX_PIXELS_SIDE 8192u
#define DIRTY_POLL_MS           33   /* ~30 Hz while someone watches */
#define VIEWER_LEASE_MS         5000 /* a viewer renews with display-attach/display-keepalive */
#define TYPE_MAX_CHARS          4096

struct display {
        struct vm *vm;
        struct control *ctl;
        int memfd;
        int ro_fd;    /* read-only open of memfd, handed to every viewer */
        uint8_t *map; /* header page + data area, shared with viewers */
        size_t map_size;
        struct tandem_display_header *hdr;
        uint8_t *data;
        size_t data_size;
        unsigned bpp; /* bytes per cell or pixel */

        /* framebuffer dirty tracking through the KVM dirty log */
        int slot; /* -1 when the data is not logged */
        uint64_t *dirty_bitmap;
        size_t dirty_words;
        int timer_id; /* -1 when not armed */
        uint64_t lease_until_ms;

        display_key_fn key;
        display_pointer_fn pointer;
        void *input_opaque;
};

static uint64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *state_name(uint32_t state)
{
        switch (state) {
        case TANDEM_DISPLAY_RUNNING:
                return "running";
        case TANDEM_DISPLAY_PAUSED:
                return "paused";
        case TANDEM_DISPLAY_STOPPED:
                return "stopped";
        case TANDEM_DISPLAY_CRASHED:
                return "crashed";
        }
        return "unknown";
}

static void publish(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
        struct tandem_display_header *hdr = d->hdr;
        hdr->dirty_x = x;
        hdr->dirty_y = y;
        hdr->dirty_w = w;
        hdr->dirty_h = h;
        /* viewers load seq with acquire, then read the fields written above */
        uint64_t seq = __atomic_load_n(&hdr->seq, __ATOMIC_RELAXED) + 1;
        __atomic_store_n(&hdr->seq, seq, __ATOMIC_RELEASE);
        if (!d->ctl)
                return;
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "event", json_object_new_string("frame"));
        json_object_object_add(ev, "seq", json_object_new_int64((int64_t)seq));
        json_object_object_add(ev, "x", json_object_new_int64(x));
        json_object_object_add(ev, "y", json_object_new_int64(y));
        json_object_object_add(ev, "w", json_object_new_int64(w));
        json_object_object_add(ev, "h", json_object_new_int64(h));
        json_object_object_add(ev, "state", json_object_new_string(state_name(hdr->state)));
        control_broadcast(d->ctl, "frame", ev);
        json_object_put(ev);
}

void display_damage(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
        uint32_t width = d->hdr->width, height = d->hdr->height;
        /* clip to the screen; callers pass guest-derived rectangles */
        if (x >= width || y >= height || w == 0 || h == 0)
                return;
        if (w > width - x)
                w = width - x;
        if (h > height - y)
                h = height - y;
        publish(d, x, y, w, h);
}

static void damage_all(struct display *d)
{
        publish(d, 0, 0, d->hdr->width, d->hdr->height);
}

int display_set_mode(struct display *d, uint32_t width, uint32_t height, uint32_t stride)
{
        if (width == 0 || height == 0)
                return -EINVAL;
        if ((uint64_t)width * d->bpp > stride)
                return -EINVAL;
        if ((uint64_t)stride * height > d->data_size)
                return -EINVAL;
        d->hdr->width = width;
        d->hdr->height = height;
        d->hdr->stride = stride;
        if (d->hdr->cursor_x >= width || d->hdr->cursor_y >= height)
                d->hdr->cursor_visible = 0;
        damage_all(d);
        return 0;
}

void display_set_cursor(struct display *d, uint32_t x, uint32_t y, bool visible)
{
        struct tandem_display_header *hdr = d->hdr;
        uint32_t ox = hdr->cursor_x, oy = hdr->cursor_y;
        bool was_visible = hdr->cursor_visible;
        hdr->cursor_x = x;
        hdr->cursor_y = y;
        hdr->cursor_visible = visible && x < hdr->width && y < hdr->height;
        if (hdr->kind != TANDEM_DISPLAY_TEXT)
                return;
        if (was_visible)
                display_damage(d, ox, oy, 1, 1);
        if (hdr->cursor_visible && (ox != x || oy != y || !was_visible))
                display_damage(d, x, y, 1, 1);
}

void display_set_state(struct display *d, enum tandem_display_state state)
{
        if (d->hdr->state == (uint32_t)state)
                return;
        d->hdr->state = state;
        damage_all(d);
}

void display_set_input(struct display *d, display_key_fn key, display_pointer_fn pointer,
                       void *opaque)
{
        d->key = key;
        d->pointer = pointer;
        d->input_opaque = opaque;
}

void *display_data(struct display *d)
{
        return d->data;
}

size_t display_data_size(struct display *d)
{
        return d->data_size;
}

struct tandem_display_header *display_header(struct display *d)
{
        return d->hdr;
}

/* ---- framebuffer dirty tracking ---- */

static void dirty_poll(void *opaque);

static void dirty_arm(struct display *d)
{
        if (d->slot < 0 || d->timer_id >= 0 || !d->vm || !d->vm->loop)
                return;
        int id = evloop_add_timer(d->vm->loop, DIRTY_POLL_MS, dirty_poll, d);
        d->timer_id = id >= 0 ? id : -1;
}

/* Turns dirty pages of the data area into the range of rows they touch. */
static void dirty_poll(void *opaque)
{
        struct display *d = opaque;
        d->timer_id = -1; /* the loop already released this one-shot timer */
        if (now_ms() > d->lease_until_ms)
                return; /* nobody watching: no work until the next attach */
        memset(d->dirty_bitmap, 0, d->dirty_words * sizeof(uint64_t));
        if (vm_get_dirty_log(d->vm, d->slot, d->dirty_bitmap) == 0) {
                uint64_t first = UINT64_MAX, last = 0;
                for (size_t w = 0; w < d->dirty_words; w++) {
                        uint64_t bits = d->dirty_bitmap[w];
                        if (!bits)
                                continue;
                        uint64_t lo = w * 64 + (uint64_t)__builtin_ctzll(bits);
                        uint64_t hi = w * 64 + 63 - (uint64_t)__builtin_clzll(bits);
                        if (first == UINT64_MAX)
                                first = lo;
                        last = hi;
                }
                uint32_t stride = d->hdr->stride;
                if (first != UINT64_MAX && stride) {
                        uint64_t y0 = first * PAGE_SIZE / stride;
                        uint64_t y1 = ((last + 1) * PAGE_SIZE - 1) / stride;
                        if (y0 < d->hdr->height)
                                display_damage(d, 0, (uint32_t)y0, d->hdr->width,
                                               (uint32_t)(y1 - y0 + 1));
                }
        }
        dirty_arm(d);
}

static void viewer_renew(struct display *d)
{
        d->lease_until_ms = now_ms() + VIEWER_LEASE_MS;
        dirty_arm(d);
}

/* ---- control commands ---- */

static int cmd_attach(void *opaque, struct control_client *client, json_object *req,
                      json_object *reply, const char **error, int *fd_out)
{
        (void)client;
        (void)req;
        struct display *d = opaque;
        if (d->ro_fd < 0) {
                *error = "display-attach: the display memory cannot be shared";
                return -1;
        }
        struct tandem_display_header *hdr = d->hdr;
        json_object_object_add(
            reply, "kind",
            json_object_new_string(hdr->kind == TANDEM_DISPLAY_TEXT ? "text" : "framebuffer"));
        json_object_object_add(reply, "width", json_object_new_int64(hdr->width));
        json_object_object_add(reply, "height", json_object_new_int64(hdr->height));
        json_object_object_add(reply, "stride", json_object_new_int64(hdr->stride));
        json_object_object_add(reply, "data_offset", json_object_new_int64(hdr->data_offset));
        json_object_object_add(reply, "size", json_object_new_int64(hdr->data_size));
        json_object_object_add(reply, "map_size", json_object_new_int64((int64_t)d->map_size));
        json_object_object_add(reply, "state", json_object_new_string(state_name(hdr->state)));
        json_object_object_add(reply, "seq", json_object_new_int64((int64_t)hdr->seq));
        json_object_object_add(reply, "lease_ms", json_object_new_int(VIEWER_LEASE_MS));
        /* control.c sends fd_out without closing it, so one fd serves all */
        *fd_out = d->ro_fd;
        viewer_renew(d);
        return 0;
}

static int cmd_keepalive(void *opaque, struct control_client *client, json_object *req,
                         json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)req, (void)reply, (void)error, (void)fd_out;
        viewer_renew(opaque);
        return 0;
}

static bool get_int(json_object *req, const char *key, int64_t *v)
{
        json_object *o;
        if (!json_object_object_get_ex(req, key, &o) || !json_object_is_type(o, json_type_int))
                return false;
        *v = json_object_get_int64(o);
        return true;
}

static int cmd_key(void *opaque, struct control_client *client, json_object *req,
                   json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)reply, (void)fd_out;
        struct display *d = opaque;
        int64_t code;
        json_object *down;
        if (!get_int(req, "code", &code) || code <= 0 || code > KEY_MAX) {
                *error = "key: \"code\" must be an evdev key code (1..767)";
                return -1;
        }
        if (!json_object_object_get_ex(req, "down", &down) ||
            !json_object_is_type(down, json_type_boolean)) {
                *error = "key: \"down\" must be true or false";
                return -1;
        }
        if (!d->key) {
                *error = "key: this display has no keyboard";
                return -1;
        }
        d->key(d->input_opaque, (uint32_t)code, json_object_get_boolean(down));
        return 0;
}

static int cmd_type(void *opaque, struct control_client *client, json_object *req,
                    json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)fd_out;
        struct display *d = opaque;
        json_object *t;
        if (!json_object_object_get_ex(req, "text", &t) ||
            !json_object_is_type(t, json_type_string)) {
                *error = "type: \"text\" must be a string";
                return -1;
        }
        const char *s = json_object_get_string(t);
        size_t n = (size_t)json_object_get_string_len(t);
        if (n > TYPE_MAX_CHARS) {
                *error = "type: text longer than 4096 bytes";
                return -1;
        }
        if (!d->key) {
                *error = "type: this display has no keyboard";
                return -1;
        }
        /* check everything first so that a bad character types nothing */
        for (size_t i = 0; i < n; i++) {
                uint16_t code;
                bool shift;
                if (!keymap_us_lookup((unsigned char)s[i], &code, &shift)) {
                        *error = "type: text has a character the US layout cannot type";
                        return -1;
                }
        }
        for (size_t i = 0; i < n; i++) {
                uint16_t code;
                bool shift;
                keymap_us_lookup((unsigned char)s[i], &code, &shift);
                if (shift)
                        d->key(d->input_opaque, KEY_LEFTSHIFT, true);
                d->key(d->input_opaque, code, true);
                d->key(d->input_opaque, code, false);
                if (shift)
                        d->key(d->input_opaque, KEY_LEFTSHIFT, false);
        }
        json_object_object_add(reply, "typed", json_object_new_int64((int64_t)n));
        return 0;
}

static int cmd_pointer(void *opaque, struct control_client *client, json_object *req,
                       json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)reply, (void)fd_out;
        struct display *d = opaque;
        int64_t x, y, buttons = 0;
        if (!get_int(req, "x", &x) || !get_int(req, "y", &y) || x < 0 || y < 0 || x > INT32_MAX ||
            y > INT32_MAX) {
                *error = "pointer: \"x\" and \"y\" must be non-negative integers";
                return -1;
        }
        json_object *b;
        if (json_object_object_get_ex(req, "buttons", &b) &&
            (!get_int(req, "buttons", &buttons) || buttons < 0 || buttons > 0xFFFF)) {
                *error = "pointer: \"buttons\" must be a bit mask (0..65535)";
                return -1;
        }
        if (!d->pointer) {
                *error = "pointer: this display has no pointer device";
                return -1;
        }
        d->pointer(d->input_opaque, (int32_t)x, (int32_t)y, (uint32_t)buttons);
        return 0;
}

static int cmd_screen_text(void *opaque, struct control_client *client, json_object *req,
                           json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)req, (void)fd_out;
        struct display *d = opaque;
        struct tandem_display_header *hdr = d->hdr;
        if (hdr->kind != TANDEM_DISPLAY_TEXT) {
                *error = "screen-text: this display is a framebuffer, not text";
                return -1;
        }
        json_object *lines = json_object_new_array();
        char *line = malloc((size_t)hdr->width * 4 + 1);
        if (!line) {
                json_object_put(lines);
                *error = "screen-text: out of memory";
                return -1;
        }
        for (uint32_t y = 0; y < hdr->height; y++) {
                const uint8_t *row = d->data + (size_t)y * hdr->stride;
                size_t len = 0;
                for (uint32_t x = 0; x < hdr->width; x++)
                        len += utf8_put(line + len, cp850_glyph(row[x * 2]));
                line[len] = 0;
                json_object_array_add(lines, json_object_new_string_len(line, (int)len));
        }
        free(line);
        json_object_object_add(reply, "width", json_object_new_int64(hdr->width));
        json_object_object_add(reply, "height", json_object_new_int64(hdr->height));
        json_object_object_add(reply, "cursor_x", json_object_new_int64(hdr->cursor_x));
        json_object_object_add(reply, "cursor_y", json_object_new_int64(hdr->cursor_y));
        json_object_object_add(reply, "cursor_visible",
                               json_object_new_boolean(hdr->cursor_visible != 0));
        json_object_object_add(reply, "state", json_object_new_string(state_name(hdr->state)));
        json_object_object_add(reply, "lines", lines);
        return 0;
}

/* ---- lifetime ---- */

static int register_commands(struct display *d)
{
        static const struct {
                const char *name;
                control_cmd_fn fn;
        } cmds[] = {
            {"display-attach", cmd_attach},
            {"display-keepalive", cmd_keepalive},
            {"key", cmd_key},
            {"type", cmd_type},
            {"pointer", cmd_pointer},
            {"screen-text", cmd_screen_text},
        };
        for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
                if (control_register(d->ctl, cmds[i].name, cmds[i].fn, d) < 0)
                        return -1;
        return 0;
}

struct display *display_create(struct vm *vm, struct control *ctl, enum tandem_display_kind kind,
                               uint32_t width, uint32_t height, uint32_t max_width,
                               uint32_t max_height, uint64_t guest_gpa, char *err, size_t errlen)
{
        unsigned bpp;
        uint32_t side_limit;
        if (kind == TANDEM_DISPLAY_TEXT) {
                bpp = 2;
                side_limit = DISPLAY_MAX_CELLS_SIDE;
        } else if (kind == TANDEM_DISPLAY_FRAMEBUFFER) {
                bpp = 4;
                side_limit = DISPLAY_MAX_PIXELS_SIDE;
        } else {
                snprintf(err, errlen, "display: unknown kind %d", (int)kind);
                return NULL;
        }
        if (max_width == 0 || max_height == 0 || max_width > side_limit ||
            max_height > side_limit) {
                snprintf(err, errlen, "display: maximum geometry %ux%u outside 1..%u", max_width,
                         max_height, side_limit);
                return NULL;
        }
        if (width == 0 || height == 0 || width > max_width || height > max_height) {
                snprintf(err, errlen, "display: geometry %ux%u does not fit the maximum %ux%u",
                         width, height, max_width, max_height);
                return NULL;
        }
        if (guest_gpa % PAGE_SIZE) {
                snprintf(err, errlen, "display: guest address 0x%" PRIx64 " is not page-aligned",
                         guest_gpa);
                return NULL;
        }
        struct display *d = calloc(1, sizeof(*d));
        if (!d) {
                snprintf(err, errlen, "display: out of memory");
                return NULL;
        }
        d->vm = vm;
        d->ctl = ctl;
        d->bpp = bpp;
        d->slot = -1;
        d->timer_id = -1;
        d->memfd = -1;
        d->ro_fd = -1;
        size_t raw = (size_t)max_width * max_height * bpp;
        d->data_size = (raw + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
        d->map_size = TANDEM_DISPLAY_HEADER_SIZE + d->data_size;

        d->memfd = memfd_create("tandem-display", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (d->memfd < 0 || ftruncate(d->memfd, (off_t)d->map_size) < 0) {
                snprintf(err, errlen, "display: cannot create shared memory: %s", strerror(errno));
                goto fail;
        }
        /* viewers map this size; sealing it means no one can SIGBUS them later */
        if (fcntl(d->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
                snprintf(err, errlen, "display: cannot seal shared memory: %s", strerror(errno));
                goto fail;
        }
        d->map = mmap(NULL, d->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
        if (d->map == MAP_FAILED) {
                d->map = NULL;
                snprintf(err, errlen, "display: cannot map shared memory: %s", strerror(errno));
                goto fail;
        }
        /* a read-only open of the same memory: viewers cannot write the screen */
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", d->memfd);
        d->ro_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (d->ro_fd < 0) {
                snprintf(err, errlen, "display: cannot reopen shared memory read-only: %s",
                         strerror(errno));
                goto fail;
        }
        d->hdr = (struct tandem_display_header *)d->map;
        d->data = d->map + TANDEM_DISPLAY_HEADER_SIZE;
        *d->hdr = (struct tandem_display_header){
            .magic = TANDEM_DISPLAY_MAGIC,
            .version = TANDEM_DISPLAY_VERSION,
            .kind = kind,
            .width = width,
            .height = height,
            .stride = width * bpp,
            .data_offset = TANDEM_DISPLAY_HEADER_SIZE,
            .data_size = (uint32_t)d->data_size,
            .state = TANDEM_DISPLAY_RUNNING,
            .dirty_w = width,
            .dirty_h = height,
        };
        if (kind == TANDEM_DISPLAY_TEXT) {
                /* blank screen: spaces, light grey on black */
                uint16_t *cells = (uint16_t *)d->data;
                for (size_t i = 0; i < raw / 2; i++)
                        cells[i] = 0x0720;
        }

        if (vm && guest_gpa) {
                int rc;
                if (kind == TANDEM_DISPLAY_FRAMEBUFFER) {
                        rc = vm_map_memory_logged(vm, guest_gpa, d->data_size, d->data, &d->slot);
                        d->dirty_words = (d->data_size / PAGE_SIZE + 63) / 64;
                        d->dirty_bitmap = calloc(d->dirty_words, sizeof(uint64_t));
                        if (rc == 0 && !d->dirty_bitmap)
                                rc = -ENOMEM;
                } else {
                        rc = vm_map_memory(vm, guest_gpa, d->data_size, d->data, false);
                }
                if (rc < 0) {
                        snprintf(err, errlen, "display: cannot map the screen at 0x%" PRIx64 ": %s",
                                 guest_gpa, strerror(-rc));
                        d->slot = -1;
                        goto fail;
                }
        }
        if (ctl && register_commands(d) < 0) {
                snprintf(err, errlen, "display: cannot register control commands");
                goto fail;
        }
        return d;
fail:
        display_destroy(d);
        return NULL;
}

/* Call after control_close() and vm_destroy(): both may still reference d. */
void display_destroy(struct display *d)
{
        if (!d)
                return;
        if (d->timer_id >= 0 && d->vm && d->vm->loop)
                evloop_cancel_timer(d->vm->loop, d->timer_id);
        free(d->dirty_bitmap);
        if (d->map)
                munmap(d->map, d->map_size);
        if (d->ro_fd >= 0)
                close(d->ro_fd);
        if (d->memfd >= 0)
                close(d->memfd);
        free(d);
}
