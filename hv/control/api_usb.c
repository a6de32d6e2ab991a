/* tandemd's USB methods: usb-list, usb-attach {device, domain}, usb-detach
 * {device}, usb-policy (docs/api.md, docs/usb.md). A device is named by its
 * tandem-vmm --usb spec ("printer:/var/spool/lp0", "host:1-2",
 * "host:046d:c31c"). tandemd moves it between domains through their VMM
 * control sockets (usb-detach, then usb-attach): the old owner's detach has
 * completed before the new owner's attach is sent, so a device never has two
 * owners. Each step is an event in the store (kinds usb-attach, usb-detach,
 * usb-denied). Rules live in usb_policy.c and are kept in the store's
 * usb_policy table, so they survive a tandemd restart. */
#include "daemon.h"
#include "usb_policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define USB_MAX_DEVICES 32

struct usb_entry {
        char spec[USB_SPEC_MAX];
        char owner[DOMCFG_NAME_MAX + 1]; /* "" when free */
        int port;
        bool busy; /* a move is under way */
};

static struct usb_entry devices[USB_MAX_DEVICES];
static size_t n_devices;

/* One usb-attach or usb-detach that waits on VMM replies. */
struct usb_op {
        struct usb_entry *dev;
        char target[DOMCFG_NAME_MAX + 1]; /* "" for a plain detach */
        struct pending_reply reply;
        int tries; /* hotplug attaches: earlier attempts */
};

static bool hotplug_retry(struct usb_op *op);

static void usb_log(const char *domain, const char *kind, const char *spec, int port)
{
        char detail[USB_SPEC_MAX + 32];
        snprintf(detail, sizeof(detail), "%s port %d", spec, port);
        store_event_add(&g_store, now_wall(), domain, kind, detail);
        json_object *ev = json_object_new_object();
        json_object_object_add(ev, "event", json_object_new_string(kind));
        json_object_object_add(ev, "domain", json_object_new_string(domain));
        json_object_object_add(ev, "device", json_object_new_string(spec));
        json_object_object_add(ev, "port", json_object_new_int(port));
        api_broadcast(TOPIC_EVENT, domain, ev);
}

static struct usb_entry *entry_find(const char *spec, bool create)
{
        for (size_t i = 0; i < n_devices; i++)
                if (!strcmp(devices[i].spec, spec))
                        return &devices[i];
        if (!create || n_devices == USB_MAX_DEVICES)
                return NULL;
        struct usb_entry *e = &devices[n_devices++];
        memset(e, 0, sizeof(*e));
        snprintf(e->spec, sizeof(e->spec), "%s", spec);
        return e;
}

static json_object *entry_json(const struct usb_entry *e)
{
        struct usb_ident id;
        usb_ident_of(e->spec, &id);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "device", json_object_new_string(e->spec));
        json_object_object_add(o, "id", json_object_new_string(id.id));
        json_object_object_add(o, "class", json_object_new_int(id.cls));
        json_object_object_add(o, "owner", e->owner[0] ? json_object_new_string(e->owner) : NULL);
        json_object_object_add(o, "port", e->owner[0] ? json_object_new_int(e->port) : NULL);
        json_object_object_add(o, "busy", json_object_new_boolean(e->busy));
        return o;
}

static void op_finish_ok(struct usb_op *op)
{
        op->dev->busy = false;
        pending_ok(&op->reply, entry_json(op->dev));
        free(op);
}

static void op_finish_error(struct usb_op *op, const char *code, const char *msg)
{
        op->dev->busy = false;
        if (!op->reply.client_serial) { /* a hotplug decision: nobody to tell but the store */
                if (hotplug_retry(op)) {
                        pending_free(&op->reply);
                        free(op);
                        return;
                }
                store_event_add(&g_store, now_wall(), op->target[0] ? op->target : NULL,
                                "usb-error", msg);
        }
        pending_error(&op->reply, code, "%s", msg);
        free(op);
}

static void attach_replied(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        struct usb_op *op = opaque;
        json_object *port;
        if (error || !json_object_object_get_ex(reply, "port", &port)) {
                char msg[512];
                snprintf(msg, sizeof(msg), "%s: usb-attach failed: %s", d->name,
                         error ? error : "no port in the reply");
                op_finish_error(op, "vmm-error", msg);
                return;
        }
        snprintf(op->dev->owner, sizeof(op->dev->owner), "%s", d->name);
        op->dev->port = json_object_get_int(port);
        usb_log(d->name, "usb-attach", op->dev->spec, op->dev->port);
        op_finish_ok(op);
}

static void send_attach(struct usb_op *op)
{
        struct domain *d = domain_find(op->target);
        if (!d || d->state != DS_RUNNING) {
                op_finish_error(op, "not-running", "the target domain is not running");
                return;
        }
        json_object *args = json_object_new_object();
        json_object_object_add(args, "spec", json_object_new_string(op->dev->spec));
        if (vmmconn_call(d, "usb-attach", args, attach_replied, op) < 0)
                op_finish_error(op, "vmm-error", "the target domain's VMM is not connected");
}

static void released(struct usb_op *op)
{
        usb_log(op->dev->owner, "usb-detach", op->dev->spec, op->dev->port);
        op->dev->owner[0] = 0;
        op->dev->port = 0;
        if (op->target[0])
                send_attach(op);
        else
                op_finish_ok(op);
}

static void detach_replied(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)reply;
        struct usb_op *op = opaque;
        if (error && d->state == DS_RUNNING) {
                /* Still attached there: do not hand it to anyone else. */
                char msg[512];
                snprintf(msg, sizeof(msg), "%s: usb-detach failed: %s", d->name, error);
                op_finish_error(op, "vmm-error", msg);
                return;
        }
        released(op); /* detached, or its VMM is gone (and the device with it) */
}

/* Starts moving dev to target ("" = just detach); replies to c (NULL for
 * tandemd's own hotplug decisions) when done. */
static void start_op(struct client *c, json_object *id, struct usb_entry *dev, const char *target,
                     int tries)
{
        struct usb_op *op = calloc(1, sizeof(*op));
        if (!op) {
                if (c)
                        api_reply_error(c, id, "internal", "out of memory");
                return;
        }
        op->tries = tries;
        op->dev = dev;
        snprintf(op->target, sizeof(op->target), "%s", target);
        op->reply.client_serial = c ? c->serial : 0;
        op->reply.id = json_object_get(id);
        dev->busy = true;
        if (!dev->owner[0]) {
                if (target[0])
                        send_attach(op);
                else
                        op_finish_ok(op);
                return;
        }
        struct domain *old = domain_find(dev->owner);
        if (!old || old->state != DS_RUNNING) {
                released(op); /* its VMM has exited: nothing holds the device */
                return;
        }
        json_object *args = json_object_new_object();
        json_object_object_add(args, "port", json_object_new_int(dev->port));
        if (vmmconn_call(old, "usb-detach", args, detach_replied, op) < 0)
                op_finish_error(op, "vmm-error", "the owner's VMM is not connected");
}

static const char *str_param(json_object *params, const char *key)
{
        json_object *v;
        if (!params || !json_object_object_get_ex(params, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The rules in the store, loaded before the first USB method runs. */
static void policy_load_once(void)
{
        static bool loaded;
        if (loaded)
                return;
        loaded = true;
        json_object *saved;
        if (store_doc_get(&g_store, STORE_DOC_USB_POLICY, "policy", &saved) == 1) {
                char err[256];
                if (!saved || usb_policy_set(saved, err, sizeof(err)) < 0)
                        fprintf(stderr, "tandemd: stored USB policy ignored: %s\n",
                                saved ? err : "not JSON");
                json_object_put(saved);
        }
}

static int policy_save(void)
{
        json_object *p = usb_policy_get();
        int rc = store_doc_put(&g_store, STORE_DOC_USB_POLICY, "policy", p);
        json_object_put(p);
        return rc;
}

/* ---- Ownership after a tandemd restart ----
 * The VMMs of running domains keep their devices while tandemd is down.
 * At start tandemd asks each connected VMM for its usb-list (which names
 * every device by its spec) and rebuilds the table from the answers. USB
 * methods that arrive meanwhile wait, so none of them can hand a device
 * that a VMM still holds to a second domain. */

struct deferred {
        struct deferred *next;
        api_method_fn fn;
        uint64_t client_serial;
        json_object *id, *params;
};

static int restore_pending;
static struct deferred *deferred_head, **deferred_tail = &deferred_head;

/* True if the method must wait for the restore (it has been queued). */
static bool defer(api_method_fn fn, struct client *c, json_object *id, json_object *params)
{
        if (!restore_pending)
                return false;
        struct deferred *q = calloc(1, sizeof(*q));
        if (!q) {
                api_reply_error(c, id, "internal", "out of memory");
                return true;
        }
        *q = (struct deferred){.fn = fn,
                               .client_serial = c->serial,
                               .id = json_object_get(id),
                               .params = json_object_get(params)};
        *deferred_tail = q;
        deferred_tail = &q->next;
        return true;
}

static void restore_step_done(void)
{
        if (--restore_pending > 0)
                return;
        while (deferred_head) {
                struct deferred *q = deferred_head;
                deferred_head = q->next;
                struct client *c = api_client_find(q->client_serial);
                if (c)
                        q->fn(c, q->id, q->params);
                json_object_put(q->id);
                json_object_put(q->params);
                free(q);
        }
        deferred_tail = &deferred_head;
}

static void restore_listed(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)opaque;
        json_object *devs;
        if (error || !json_object_object_get_ex(reply, "devices", &devs) ||
            !json_object_is_type(devs, json_type_array)) {
                /* An older VMM or none: its devices stay unknown. */
                fprintf(stderr, "tandemd: %s: USB devices not restored: %s\n", d->name,
                        error ? error : "no device list");
                restore_step_done();
                return;
        }
        for (size_t i = 0; i < json_object_array_length(devs); i++) {
                json_object *o = json_object_array_get_idx(devs, i), *sv, *pv;
                if (!json_object_object_get_ex(o, "spec", &sv) ||
                    !json_object_is_type(sv, json_type_string) ||
                    !json_object_object_get_ex(o, "port", &pv))
                        continue;
                const char *spec = json_object_get_string(sv);
                struct usb_entry *e = entry_find(spec, true);
                if (!e)
                        continue;
                if (e->owner[0] && strcmp(e->owner, d->name)) {
                        /* Two VMMs hold it (only possible for emulated
                         * devices): keep the first, say so. */
                        store_event_add(&g_store, now_wall(), d->name, "usb-error",
                                        "also held by another domain at restart");
                        continue;
                }
                snprintf(e->owner, sizeof(e->owner), "%s", d->name);
                e->port = json_object_get_int(pv);
                char detail[USB_SPEC_MAX + 32];
                snprintf(detail, sizeof(detail), "%s port %d", spec, e->port);
                store_event_add(&g_store, now_wall(), d->name, "usb-restore", detail);
        }
        restore_step_done();
}

/* ---- Hotplug: the rules decide where a new host device goes ----
 * tandemd may hear of a new device before the target VMM's libusb does (both
 * follow the kernel's uevents), and then the VMM does not know it yet. A
 * failed hotplug attach is tried again a second later, a few times, while
 * the device is still plugged in. */

#define HOTPLUG_TRIES 5

struct hotplug_retry {
        char spec[USB_SPEC_MAX];
        char target[DOMCFG_NAME_MAX + 1];
        int tries;
        double due;
};

static struct hotplug_retry retries[8];
static size_t n_retries;
static struct watch retry_timer = {.fd = -1};

static void hotplug_attach(const char *spec, const char *target, int tries);

static void retry_arm(void)
{
        struct itimerspec its = {0};
        if (n_retries) {
                double due = retries[0].due;
                for (size_t i = 1; i < n_retries; i++)
                        if (retries[i].due < due)
                                due = retries[i].due;
                double in = due - now_mono();
                if (in < 0.001)
                        in = 0.001;
                its.it_value.tv_sec = (time_t)in;
                its.it_value.tv_nsec = (long)((in - (double)(time_t)in) * 1e9);
        }
        timerfd_settime(retry_timer.fd, 0, &its, NULL);
}

static void retry_ready(struct watch *w, uint32_t events)
{
        (void)events;
        uint64_t ticks;
        if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                return;
        double now = now_mono();
        for (size_t i = 0; i < n_retries;) {
                if (retries[i].due > now) {
                        i++;
                        continue;
                }
                struct hotplug_retry r = retries[i];
                retries[i] = retries[--n_retries];
                hotplug_attach(r.spec, r.target, r.tries);
        }
        retry_arm();
}

static void retry_cancel(const char *spec)
{
        for (size_t i = 0; i < n_retries;)
                if (!strcmp(retries[i].spec, spec))
                        retries[i] = retries[--n_retries];
                else
                        i++;
}

static bool hotplug_retry(struct usb_op *op)
{
        const char *name = op->dev->spec + 5; /* host:BUS-PORT */
        char path[512];
        if (op->tries + 1 >= HOTPLUG_TRIES || !op->target[0] || retry_timer.fd < 0 ||
            n_retries == sizeof(retries) / sizeof(retries[0]) || strncmp(op->dev->spec, "host:", 5))
                return false;
        snprintf(path, sizeof(path), "%s/%s/idVendor", usb_sysfs_root(), name);
        if (access(path, F_OK) < 0)
                return false; /* unplugged meanwhile */
        struct hotplug_retry *r = &retries[n_retries++];
        snprintf(r->spec, sizeof(r->spec), "%s", op->dev->spec);
        snprintf(r->target, sizeof(r->target), "%s", op->target);
        r->tries = op->tries + 1;
        r->due = now_mono() + 1.0;
        retry_arm();
        return true;
}

static void unplug_detached(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        (void)d, (void)opaque, (void)reply, (void)error;
}

static void hotplugged(const char *name, bool added)
{
        char spec[USB_SPEC_MAX];
        snprintf(spec, sizeof(spec), "host:%s", name);
        if (!added) {
                retry_cancel(spec);
                struct usb_entry *e = entry_find(spec, false);
                if (!e || !e->owner[0] || e->busy)
                        return;
                /* The owner's VMM may have seen it go (libusb hotplug) and
                 * detached it itself, but a libusb without udevd hears of
                 * nothing and the guest would keep a dead device: detach
                 * the port (an error only says it is empty already). */
                struct domain *d = domain_find(e->owner);
                if (d && d->state == DS_RUNNING) {
                        json_object *args = json_object_new_object();
                        json_object_object_add(args, "port", json_object_new_int(e->port));
                        vmmconn_call(d, "usb-detach", args, unplug_detached, NULL);
                }
                store_event_add(&g_store, now_wall(), e->owner, "usb-unplug", spec);
                usb_log(e->owner, "usb-detach", e->spec, e->port);
                e->owner[0] = 0;
                e->port = 0;
                return;
        }
        char chosen[DOMCFG_NAME_MAX + 1], why[256], detail[USB_SPEC_MAX + 320];
        int verdict = usb_policy_decide(spec, NULL, chosen, sizeof(chosen), why, sizeof(why));
        if (verdict == -1) {
                store_event_add(&g_store, now_wall(), NULL, "usb-denied", why);
                return;
        }
        if (verdict < 0) {
                snprintf(detail, sizeof(detail), "%s plugged in, left on the host: %s", spec, why);
                store_event_add(&g_store, now_wall(), NULL, "usb-hotplug", detail);
                return;
        }
        snprintf(detail, sizeof(detail), "%s plugged in, for %s", spec, chosen);
        store_event_add(&g_store, now_wall(), chosen, "usb-hotplug", detail);
        hotplug_attach(spec, chosen, 0);
}

static void hotplug_attach(const char *spec, const char *target, int tries)
{
        struct usb_entry *e = entry_find(spec, true);
        struct domain *d = domain_find(target);
        if (!e || e->busy || !strcmp(e->owner, target))
                return;
        if (!d || d->state != DS_RUNNING) {
                store_event_add(&g_store, now_wall(), target, "usb-error",
                                "hotplugged device not attached: the domain is not running");
                return;
        }
        start_op(NULL, NULL, e, target, tries);
}

void usb_daemon_start(void)
{
        policy_load_once();
        restore_pending = 1; /* released below, after every call is sent */
        for (struct domain *d = g_domains; d; d = d->next)
                if (d->ctl.fd >= 0 && vmmconn_call(d, "usb-list", NULL, restore_listed, NULL) == 0)
                        restore_pending++;
        restore_step_done();
        retry_timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        retry_timer.ready = retry_ready;
        if (retry_timer.fd >= 0 && loop_add(&retry_timer, EPOLLIN) < 0) {
                close(retry_timer.fd);
                retry_timer.fd = -1;
        }
        char err[256];
        if (usb_hotplug_start(hotplugged, err, sizeof(err)) < 0)
                fprintf(stderr, "tandemd: USB hotplug not watched: %s\n", err);
}

static void m_usb_attach(struct client *c, json_object *id, json_object *params)
{
        if (defer(m_usb_attach, c, id, params))
                return;
        policy_load_once();
        const char *spec = str_param(params, "device"), *dom = str_param(params, "domain");
        char err[256];
        if (!spec || usb_spec_check(spec, err, sizeof(err)) < 0) {
                api_reply_error(c, id, "bad-params", "%s",
                                spec ? err : "usb-attach needs \"device\": a --usb spec");
                return;
        }
        char chosen[DOMCFG_NAME_MAX + 1];
        int verdict = usb_policy_decide(spec, dom, chosen, sizeof(chosen), err, sizeof(err));
        if (verdict < 0) {
                store_event_add(&g_store, now_wall(), dom, "usb-denied", err);
                api_reply_error(c, id, "denied", "%s", err);
                return;
        }
        struct usb_entry *e = entry_find(spec, true);
        if (!e) {
                api_reply_error(c, id, "limit", "tandemd tracks at most %d USB devices",
                                USB_MAX_DEVICES);
                return;
        }
        if (e->busy) {
                api_reply_error(c, id, "busy", "%s is being moved", spec);
                return;
        }
        if (!strcmp(e->owner, chosen)) {
                api_reply_ok(c, id, entry_json(e));
                return;
        }
        struct domain *d = domain_find(chosen);
        if (!d || d->state != DS_RUNNING) {
                api_reply_error(c, id, "not-running", "domain '%s' is not running", chosen);
                return;
        }
        start_op(c, id, e, chosen, 0);
}

static void m_usb_detach(struct client *c, json_object *id, json_object *params)
{
        if (defer(m_usb_detach, c, id, params))
                return;
        const char *spec = str_param(params, "device");
        struct usb_entry *e = spec ? entry_find(spec, false) : NULL;
        if (!e) {
                api_reply_error(c, id, "not-found", "no USB device '%s'", spec ? spec : "");
                return;
        }
        if (e->busy) {
                api_reply_error(c, id, "busy", "%s is being moved", spec);
                return;
        }
        start_op(c, id, e, "", 0);
}

static void m_usb_list(struct client *c, json_object *id, json_object *params)
{
        if (defer(m_usb_list, c, id, params))
                return;
        policy_load_once();
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < n_devices; i++)
                json_object_array_add(a, entry_json(&devices[i]));
        usb_policy_host_devices(a); /* host devices tandemd has not attached yet */
        json_object *r = json_object_new_object();
        json_object_object_add(r, "devices", a);
        api_reply_ok(c, id, r);
}

static void m_usb_policy(struct client *c, json_object *id, json_object *params)
{
        char err[256];
        policy_load_once();
        if (usb_policy_set(params, err, sizeof(err)) < 0) {
                api_reply_error(c, id, "bad-params", "%s", err);
                return;
        }
        if (params && policy_save() < 0) {
                api_reply_error(c, id, "internal", "the USB policy could not be stored");
                return;
        }
        api_reply_ok(c, id, usb_policy_get());
}

TANDEM_API_METHOD(usb_list, "usb-list", m_usb_list, false)
TANDEM_API_METHOD(usb_attach, "usb-attach", m_usb_attach, true)
TANDEM_API_METHOD(usb_detach, "usb-detach", m_usb_detach, true)
TANDEM_API_METHOD(usb_policy, "usb-policy", m_usb_policy, true)
