/* The per-domain VMM control socket: JSON lines over a UNIX stream socket.
 * Request:  {"id": <int>, "cmd": "<name>", ...args}
 * Reply:    {"id": <int>, "ok": true, ...} or {"id": <int>, "ok": false, "error": "<text>"}
 * Event:    {"event": "<name>", ...} (only to clients that subscribed)
 * Subsystems register their commands; see docs/vmm-control.md. */
#ifndef TANDEM_CONTROL_H
#define TANDEM_CONTROL_H

#include <json-c/json.h>
#include <stdbool.h>

struct vm;
struct control;
struct control_client;

/* Fills reply (an object) and returns 0, or returns -1 after setting *error
 * to a static or reply-owned message. Runs with the VM lock held on the
 * event-loop thread: never block. fd_out may be set to pass one fd back. */
typedef int (*control_cmd_fn)(void *opaque, struct control_client *client, json_object *req,
                              json_object *reply, const char **error, int *fd_out);

struct control *control_open(struct vm *vm, const char *path, char *err, size_t errlen);
void control_close(struct control *ctl);
int control_register(struct control *ctl, const char *cmd, control_cmd_fn fn, void *opaque);
/* Adds fields to every "stats" reply (disk and network counters). */
typedef void (*control_stats_fn)(void *opaque, json_object *reply);
int control_add_stats(struct control *ctl, control_stats_fn fn, void *opaque);
/* Sends an event to every client subscribed to topic (see "subscribe"). */
void control_broadcast(struct control *ctl, const char *topic, json_object *event);

#endif
