/* libtandem: the one client of tandemd's JSON API (docs/api.md).
 *
 * The CLI (tandem), the GTK shell and the kiosk all talk to tandemd through
 * this library; nothing else speaks the protocol by hand.  Link with the
 * meson dependency `tandem_client_dep` (json-c comes with it).
 *
 * Wire format, one JSON object per line over a UNIX stream socket:
 *   request  {"v":1,"id":N,"method":"list","params":{...}}
 *   reply    {"v":1,"id":N,"ok":true,"result":{...}}
 *            {"v":1,"id":N,"ok":false,"error":{"code":"not_found","message":"..."}}
 *   event    {"v":1,"event":"state","domain":"web","state":"paused","time":...}
 * Events are only sent after a successful "subscribe".
 *
 * Threading: a struct tandem_client is not thread-safe; use one per thread.
 * GUI use: open one client for calls and a second one for events, watch
 * tandem_client_fd() of the event client for readability in the main loop,
 * then drain it with tandem_next_event(c, 0, ...) until it returns 0. */
#ifndef TANDEM_CLIENT_H
#define TANDEM_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>

#define TANDEM_API_VERSION 1
/* Largest request or reply line either side accepts, newline included. */
#define TANDEM_MAX_MESSAGE (1024 * 1024)

struct tandem_client;

/* Error codes (error.code on the wire, see docs/api.md). */
#define TANDEM_E_CONNECT   "connect"     /* client side: cannot reach tandemd */
#define TANDEM_E_PROTOCOL  "protocol"    /* malformed reply, or connection lost */
#define TANDEM_E_PARSE     "parse_error" /* request is not valid JSON */
#define TANDEM_E_INVALID   "invalid"     /* bad params: missing, wrong type */
#define TANDEM_E_UNKNOWN   "unknown_method"
#define TANDEM_E_DENIED    "permission_denied"
#define TANDEM_E_TOO_LARGE "too_large"
#define TANDEM_E_NOT_FOUND "not_found" /* no such domain */
#define TANDEM_E_EXISTS    "exists"    /* domain name taken */
#define TANDEM_E_STATE     "bad_state" /* e.g. pause a paused domain */
#define TANDEM_E_CONFIG    "config"    /* config rejected; message has file:line */
#define TANDEM_E_VMM       "vmm"       /* the VMM failed or did not answer */
#define TANDEM_E_TIMEOUT   "timeout"
#define TANDEM_E_VERSION   "version" /* unsupported "v" */

struct tandem_error {
        char code[32];
        char message[512];
};

/* Socket path used when none is given: $TANDEM_SOCKET, else
 * /run/tandem/tandemd.sock for root, else
 * $XDG_RUNTIME_DIR/tandem/tandemd.sock (or /tmp/tandem-<uid>/tandemd.sock). */
const char *tandem_default_socket(char *buf, size_t len);

/* path NULL means tandem_default_socket().  Returns NULL with err filled. */
struct tandem_client *tandem_connect(const char *path, struct tandem_error *err);
void tandem_close(struct tandem_client *c);
int tandem_client_fd(const struct tandem_client *c);

/* Sends one request and waits for its reply.  params may be NULL; its
 * reference is taken either way.  On success returns 0 and *result is a new
 * reference (an object, possibly empty) the caller must json_object_put().
 * On failure returns -1, *result is NULL and err says why.  Events that
 * arrive while waiting are queued for tandem_next_event(). */
int tandem_call(struct tandem_client *c, const char *method, json_object *params,
                json_object **result, struct tandem_error *err);

/* Like tandem_call with a timeout in milliseconds (-1 = wait forever;
 * tandem_call waits 60 s). */
int tandem_call_timeout(struct tandem_client *c, const char *method, json_object *params,
                        int timeout_ms, json_object **result, struct tandem_error *err);

/* Starts the event stream.  topics: NULL-terminated list of "state",
 * "event" (event log entries), "metrics" (1 s samples); NULL = all.
 * domain NULL = all domains. */
int tandem_subscribe(struct tandem_client *c, const char *const *topics, const char *domain,
                     struct tandem_error *err);

/* Returns 1 and a new reference in *event, 0 if none arrived within
 * timeout_ms (0 = poll, -1 = block), -1 on error or end of stream. */
int tandem_next_event(struct tandem_client *c, int timeout_ms, json_object **event,
                      struct tandem_error *err);

/* Asks tandemd for the guest console of domain: on success *fd is a
 * connected stream socket carrying raw console bytes both ways (the caller
 * owns and closes it). */
int tandem_console_open(struct tandem_client *c, const char *domain, int *fd,
                        struct tandem_error *err);

/* Asks tandemd for the display of domain: on success *fd is a stream
 * socket connected to the domain's VMM control socket, speaking the display
 * commands of docs/display.md (display-attach, key, type, pointer,
 * screen-text, subscribe). The caller owns and closes it. */
int tandem_display_open(struct tandem_client *c, const char *domain, int *fd,
                        struct tandem_error *err);

/* Convenience: "list" -> the array of domain objects (new reference). */
json_object *tandem_list(struct tandem_client *c, struct tandem_error *err);

/* Domain states as tandemd reports them ("state" member of a domain). */
#define TANDEM_STATE_STARTING "starting"
#define TANDEM_STATE_RUNNING  "running"
#define TANDEM_STATE_PAUSED   "paused"
#define TANDEM_STATE_SHUTDOWN "shutting_down"
#define TANDEM_STATE_STOPPED  "stopped" /* powered off, preserved or awaiting restart */
#define TANDEM_STATE_CRASHED  "crashed"

#endif
