/* A viewer of one VMM display: connects to the domain's VMM control socket,
 * attaches the display memfd read-only, and follows "frame" events.
 *
 * Everything read from the shared memory is treated as hostile: the header is
 * copied once and validated (vmmview_geometry) before any pixel is touched. */
#ifndef TANDEM_VMMVIEW_H
#define TANDEM_VMMVIEW_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/display.h"

struct vmmview;

/* A validated snapshot of the header; data is inside the mapping and at
 * least stride*height bytes long. */
struct vmmview_geom {
        uint32_t kind, width, height, stride, state;
        uint32_t cursor_x, cursor_y;
        bool cursor_visible;
        uint64_t seq;
        const uint8_t *data;
};

struct vmmview_rect {
        uint32_t x, y, w, h;
};

struct vmmview *vmmview_open(const char *control_path, char *err, size_t errlen);
/* As vmmview_open on an already connected control socket (tandemd's
 * "display" method hands one over); takes ownership of sock, even on failure. */
struct vmmview *vmmview_open_fd(int sock, char *err, size_t errlen);
void vmmview_close(struct vmmview *v);
/* The socket: poll it for input, then call vmmview_drain. */
int vmmview_fd(const struct vmmview *v);

/* Copies and validates the shared header. Returns 0, or -1 with err when the
 * header is inconsistent (then nothing of the data may be drawn). */
int vmmview_geometry(struct vmmview *v, struct vmmview_geom *g, char *err, size_t errlen);
/* The check behind vmmview_geometry, on a header copy and the mapping size. */
int vmmview_validate(const struct tandem_display_header *h, size_t map_size, char *err,
                     size_t errlen);

/* Reads what the socket has without blocking, calling on_frame for each
 * frame event. Returns 0, or -1 when the VMM went away (EOF or error). */
int vmmview_drain(struct vmmview *v, void (*on_frame)(void *opaque, const struct vmmview_rect *r),
                  void *opaque);
/* Renews the viewer lease (call every ~2 s); the reply is not awaited. */
int vmmview_keepalive(struct vmmview *v);

/* Sends a command ({"cmd":...} plus args; "id" is added) and waits up to
 * timeout_ms for its reply. *reply gets a new reference; returns 0 if the
 * reply has ok:true, else -1 with err. Events arriving meanwhile are kept
 * for the next vmmview_drain. */
int vmmview_call(struct vmmview *v, json_object *req, int timeout_ms, json_object **reply,
                 char *err, size_t errlen);
/* Fire-and-forget input: "key" with an evdev code. */
int vmmview_send_key(struct vmmview *v, uint32_t evdev_code, bool down);

#endif
