/* tandemd internals shared by its files: the event loop, API clients,
 * domains (the VMM supervisor) and the metrics sampler. One thread; every
 * fd is non-blocking and driven from one epoll set. */
#ifndef TANDEM_DAEMON_H
#define TANDEM_DAEMON_H

#include "domcfg.h"
#include "linebuf.h"
#include "store.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct watch {
        int fd;
        void (*ready)(struct watch *w, uint32_t events);
};

/* ---- API clients (api.c) ---- */
struct client {
        struct watch w;
        struct client *next;
        uint64_t serial; /* identifies it for late async replies */
        uid_t uid;
        pid_t pid;
        struct linebuf in;
        char *out;
        size_t out_len, out_cap;
        int pass_fd; /* fd to send with the byte at out offset pass_fd_at */
        size_t pass_fd_at;
        double partial_since; /* when an incomplete request line started, or 0 */
        bool closing;         /* close once out drains */
        bool subscribed;
        unsigned topics; /* TOPIC_* bits */
        char sub_domain[DOMCFG_NAME_MAX + 1];
};

#define TOPIC_STATE   1u
#define TOPIC_EVENT   2u
#define TOPIC_METRICS 4u

/* A reply that arrives later (from a VMM, or when a domain stops). */
struct pending_reply {
        uint64_t client_serial;
        json_object *id; /* the request's id (own reference) */
};

void api_reply_ok(struct client *c, json_object *id, json_object *result);
void api_reply_error(struct client *c, json_object *id, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Finds a client by serial (NULL if it has gone). */
struct client *api_client_find(uint64_t serial);
void pending_ok(struct pending_reply *p, json_object *result);
void pending_error(struct pending_reply *p, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pending_free(struct pending_reply *p);
/* Sends an event object to every subscriber of topic (takes the reference). */
void api_broadcast(unsigned topic, const char *domain, json_object *event);
int api_listen(const char *path, char *err, size_t errlen);
void api_periodic(double now);
void api_shutdown(void);

/* ---- domains (domain.c, vmmconn.c) ---- */
enum dom_state {
        DS_STARTING,
        DS_RUNNING,
        DS_PAUSED,
        DS_SHUTTING_DOWN,
        DS_STOPPED,
        DS_CRASHED,
};

/* Why the VMM is expected to go away, so its exit is read correctly. */
enum dom_intent { INTENT_NONE, INTENT_DESTROY, INTENT_SHUTDOWN, INTENT_REBOOT };

struct vmm_call; /* an outstanding request on the VMM control socket */

struct domain {
        struct domain *next;
        char name[DOMCFG_NAME_MAX + 1];
        char *config_text;
        char *config_path;
        struct domcfg cfg;
        enum dom_state state;
        enum dom_intent intent;
        double created;
        double started; /* monotonic */
        char *reason;   /* why it last stopped/crashed */
        int64_t restarts;
        double restart_window_start;
        int restarts_in_window;
        pid_t monitor_pid; /* parent of the VMM, writes its exit status */
        pid_t vmm_pid;
        struct watch pidfd; /* the monitor's pidfd */
        struct watch ctl;   /* VMM control socket, -1 until connected */
        struct linebuf ctl_in;
        int64_t ctl_next_id;
        struct vmm_call *calls;
        double connect_deadline;
        double shutdown_deadline;      /* 0: none */
        struct pending_reply *waiters; /* replies owed when the domain starts or stops */
        size_t n_waiters;
        /* metrics */
        double last_sample_t;
        uint64_t last_cpu_ticks;
        uint64_t last_disk_rd, last_disk_wr, last_net_rx, last_net_tx;
        bool have_io_baseline;
        struct metric_sample last;
        json_object *last_vmm_stats;
};

struct daemon_config {
        char socket_path[108];
        char db_path[4096];
        char run_dir[256];
        char vmm_path[4096];
        char group[64];
        int shutdown_timeout;
        int request_timeout_ms; /* slow-loris bound for one request line */
        int max_clients;
        int metrics_interval_ms;
};

extern struct daemon_config g_cfg;
extern struct store g_store;
extern struct domain *g_domains;

double now_mono(void);
double now_wall(void);
int loop_add(struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
void loop_del(struct watch *w);
void loop_wake_soon(void); /* poll at a short interval (e.g. while connecting) */

const char *dom_state_name(enum dom_state s);
struct domain *domain_find(const char *name);
json_object *domain_to_json(const struct domain *d, bool full);
void domain_log(struct domain *d, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void domains_restore(void);
void domains_periodic(double now);
void domains_reap(void); /* frees removed domains after an epoll batch */

/* Method handlers (domain.c). Each either replies now or keeps a pending. */
void dom_create(struct client *c, json_object *id, json_object *params);
void dom_simple(struct client *c, json_object *id, const char *method, json_object *params);
void dom_console(struct client *c, json_object *id, json_object *params);
/* Passes a socket connected to the domain's VMM control socket (display
 * commands: display-attach, key, type, pointer, screen-text). */
void dom_display(struct client *c, json_object *id, json_object *params);

/* VMM control connection (vmmconn.c). */
typedef void (*vmm_reply_fn)(struct domain *d, void *opaque, json_object *reply, const char *error);
void vmmconn_try_connect(struct domain *d);
int vmmconn_call(struct domain *d, const char *cmd, json_object *args, vmm_reply_fn fn,
                 void *opaque);
void vmmconn_close(struct domain *d); /* fails outstanding calls */
void vmmconn_expire(struct domain *d, double now);
/* run_dir/<name>/<leaf>; -1 if it does not fit in len. */
int vmmconn_path(const struct domain *d, const char *leaf, char *buf, size_t len);

/* API methods. The core ones are in api.c's table; any other file linked
 * into tandemd adds its own with TANDEM_API_METHOD (usb, phase, net...).
 * A mutating method is recorded in the store's audit table before it runs. */
typedef void (*api_method_fn)(struct client *c, json_object *id, json_object *params);
struct api_method {
        const char *name;
        api_method_fn fn;
        bool mutating;
        struct api_method *next;
};
void api_register(struct api_method *m);

#define TANDEM_API_METHOD(ident, name_, fn_, mutating_)                                            \
        static struct api_method api_method_##ident = {name_, fn_, mutating_, 0};                  \
        __attribute__((constructor)) static void api_register_##ident(void)                        \
        {                                                                                          \
                api_register(&api_method_##ident);                                                 \
        }

/* Metrics (metrics.c). */
void metrics_tick(double now);

#endif
