/* VMM side of a guest display (see hv/include/tandem/display.h for the shared
 * memory layout and docs/display.md for the protocol). One display per domain:
 * the legacy guest's text cells or a Linux guest's linear framebuffer. */
#ifndef TANDEM_VMM_DISPLAY_H
#define TANDEM_VMM_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/display.h"

struct vm;
struct control;
struct display;

/* Input from dom0, as Linux evdev codes (linux/input-event-codes.h KEY_*, BTN_*). */
typedef void (*display_key_fn)(void *opaque, uint32_t evdev_code, bool down);
typedef void (*display_pointer_fn)(void *opaque, int32_t x, int32_t y, uint32_t buttons);

/* Creates the memfd, fills the header, and maps the data area into the guest
 * at guest_gpa (page-aligned; 0 = do not map). max_width/max_height size the
 * data area so the guest may later switch modes (80x25 <-> 132x43) without
 * remapping. Registers the display commands on ctl (may be NULL in tests). */
struct display *display_create(struct vm *vm, struct control *ctl, enum tandem_display_kind kind,
                               uint32_t width, uint32_t height, uint32_t max_width,
                               uint32_t max_height, uint64_t guest_gpa, char *err, size_t errlen);
void display_destroy(struct display *d);

void *display_data(struct display *d);
size_t display_data_size(struct display *d);
struct tandem_display_header *display_header(struct display *d);

/* Geometry change requested by the guest; refused (-EINVAL) when it does not
 * fit the data area. */
int display_set_mode(struct display *d, uint32_t width, uint32_t height, uint32_t stride);
/* Marks a rectangle changed (cells or pixels), bumps seq, notifies viewers. */
void display_damage(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h);
void display_set_cursor(struct display *d, uint32_t x, uint32_t y, bool visible);
void display_set_state(struct display *d, enum tandem_display_state state);
void display_set_input(struct display *d, display_key_fn key, display_pointer_fn pointer,
                       void *opaque);

#endif
