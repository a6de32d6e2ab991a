/* Tandem display shared memory: how a guest's screen reaches dom0.
 *
 * The VMM owns one memfd per display. Layout:
 *   [0, 4096)             struct tandem_display_header, written only by the VMM
 *   [data_offset, +size)  the screen: text cells or pixels
 * The data pages are also mapped into the guest (legacy: the cell buffer the
 * PV display frontend writes; Linux: the linear framebuffer at the address in
 * boot_params), so a guest write is visible to dom0 with no copy.
 *
 * A viewer receives the memfd over the VMM control socket (SCM_RIGHTS, command
 * "display-attach"), maps it read-only, and is told of updates by "frame"
 * events on that socket. Protocol details: docs/display.md. */
#ifndef TANDEM_DISPLAY_H
#define TANDEM_DISPLAY_H

#include <stdint.h>

#define TANDEM_DISPLAY_MAGIC 0x53494454u /* "TDIS" */
#define TANDEM_DISPLAY_VERSION 1
#define TANDEM_DISPLAY_HEADER_SIZE 4096u

enum tandem_display_kind {
        TANDEM_DISPLAY_TEXT = 1,        /* cells: uint16_t, low byte CP850 char, high byte attribute */
        TANDEM_DISPLAY_FRAMEBUFFER = 2, /* pixels: XRGB8888 little-endian */
};

enum tandem_display_state {
        TANDEM_DISPLAY_RUNNING = 1,
        TANDEM_DISPLAY_PAUSED = 2,
        TANDEM_DISPLAY_STOPPED = 3, /* guest powered off */
        TANDEM_DISPLAY_CRASHED = 4,
};

struct tandem_display_header {
        uint32_t magic;
        uint32_t version;
        uint32_t kind;   /* enum tandem_display_kind */
        uint32_t width;  /* columns or pixels */
        uint32_t height; /* rows or pixels */
        uint32_t stride; /* bytes per row in the data area */
        uint32_t data_offset;
        uint32_t data_size; /* bytes; stride * height <= data_size always holds */
        uint32_t cursor_x, cursor_y;
        uint32_t cursor_visible;
        uint32_t state; /* enum tandem_display_state */
        /* Union of rows/cols (text) or pixels changed since seq-1, written before
         * seq is incremented (release); a reader loads seq (acquire) first. */
        uint32_t dirty_x, dirty_y, dirty_w, dirty_h;
        uint64_t seq;
        uint32_t reserved[46];
};

#endif
