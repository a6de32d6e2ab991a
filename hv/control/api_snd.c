/* tandemd's sound methods (docs/api.md, docs/sound.md):
 *   snd-list [{domain}]        every domain's sound backend, mute and, for a
 *                              running domain, what its VMM last reported
 *   snd-mute {domain, muted}   mutes or unmutes a running domain's sound
 * Muting goes to the VMM's control socket (sound-mute); the VMM plays
 * silence instead of the guest's audio, so the guest's timing is unchanged.
 * Each change is an event in the store (kind snd-mute). */
#include "daemon.h"
#include "tandem_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mute_op {
        bool muted;
        struct pending_reply reply;
};

static json_object *dom_json(struct domain *d)
{
        json_object *o = json_object_new_object(), *vmm_snd = NULL;
        json_object_object_add(o, "domain", json_object_new_string(d->name));
        json_object_object_add(o, "state", json_object_new_string(dom_state_name(d->state)));
        json_object_object_add(o, "backend",
                               json_object_new_string(d->cfg.sound ? d->cfg.sound : "none"));
        json_object_object_add(
            o, "device",
            d->cfg.sound
                ? json_object_new_string(d->cfg.type == DOM_TYPE_LEGACY ? "pv-sound" : "ac97")
                : NULL);
        bool live = d->state == DS_RUNNING || d->state == DS_PAUSED;
        if (live && d->last_vmm_stats)
                json_object_object_get_ex(d->last_vmm_stats, "sound", &vmm_snd);
        /* Fields from the VMM's latest stats (metrics sampler), if any. */
        static const char *const keys[] = {"muted",         "connected",  "bytes_written",
                                           "bytes_dropped", "reconnects", "underruns"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                json_object *v = NULL;
                if (vmm_snd)
                        json_object_object_get_ex(vmm_snd, keys[i], &v);
                json_object_object_add(o, keys[i], v ? json_object_get(v) : NULL);
        }
        return o;
}

static void m_snd_list(struct client *c, json_object *id, json_object *params)
{
        json_object *want = NULL;
        if (params)
                json_object_object_get_ex(params, "domain", &want);
        const char *only = want ? json_object_get_string(want) : NULL;
        if (only && !domain_find(only)) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain '%s'", only);
                return;
        }
        json_object *arr = json_object_new_array();
        for (struct domain *d = g_domains; d; d = d->next)
                if (!only || !strcmp(only, d->name))
                        json_object_array_add(arr, dom_json(d));
        json_object *r = json_object_new_object();
        json_object_object_add(r, "domains", arr);
        api_reply_ok(c, id, r);
}

static void mute_replied(struct domain *d, void *opaque, json_object *reply, const char *error)
{
        struct mute_op *op = opaque;
        json_object *m;
        if (error || !json_object_object_get_ex(reply, "muted", &m)) {
                pending_error(&op->reply, TANDEM_E_VMM, "%s: sound-mute failed: %s", d->name,
                              error ? error : "no state in the reply");
        } else {
                bool muted = json_object_get_boolean(m);
                store_event_add(&g_store, now_wall(), d->name, "snd-mute",
                                muted ? "muted" : "unmuted");
                json_object *r = json_object_new_object();
                json_object_object_add(r, "domain", json_object_new_string(d->name));
                json_object_object_add(r, "muted", json_object_new_boolean(muted));
                pending_ok(&op->reply, r);
        }
        free(op);
}

static void m_snd_mute(struct client *c, json_object *id, json_object *params)
{
        json_object *dom = NULL, *muted = NULL;
        if (!params || !json_object_object_get_ex(params, "domain", &dom) ||
            !json_object_is_type(dom, json_type_string) ||
            !json_object_object_get_ex(params, "muted", &muted) ||
            !json_object_is_type(muted, json_type_boolean)) {
                api_reply_error(c, id, TANDEM_E_INVALID,
                                "snd-mute needs {\"domain\": NAME, \"muted\": true|false}");
                return;
        }
        struct domain *d = domain_find(json_object_get_string(dom));
        if (!d) {
                api_reply_error(c, id, TANDEM_E_NOT_FOUND, "no domain '%s'",
                                json_object_get_string(dom));
                return;
        }
        if (!d->cfg.sound) {
                api_reply_error(c, id, TANDEM_E_STATE, "%s has no sound (no sound= in its config)",
                                d->name);
                return;
        }
        if (d->state != DS_RUNNING && d->state != DS_PAUSED) {
                api_reply_error(c, id, TANDEM_E_STATE, "%s is %s", d->name,
                                dom_state_name(d->state));
                return;
        }
        struct mute_op *op = calloc(1, sizeof(*op));
        if (!op) {
                api_reply_error(c, id, "internal", "out of memory");
                return;
        }
        op->reply.client_serial = c->serial;
        op->reply.id = json_object_get(id);
        json_object *args = json_object_new_object();
        json_object_object_add(args, "muted", json_object_get(muted));
        if (vmmconn_call(d, "sound-mute", args, mute_replied, op) < 0) {
                pending_error(&op->reply, TANDEM_E_VMM, "%s: its VMM is not connected", d->name);
                free(op);
        }
}

TANDEM_API_METHOD(snd_list, "snd-list", m_snd_list, false)
TANDEM_API_METHOD(snd_mute, "snd-mute", m_snd_mute, true)
