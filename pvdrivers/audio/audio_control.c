/* Control-socket commands for the domain's audio backend. */
#include "audio_control.h"

#include <stdlib.h>

#include "../../hv/vmm/control.h"
#include "audio.h"
#include "virtio_snd.h"

struct audio_ctl {
        struct audio *audio;
        struct virtio_device *snd;
};

static void describe(struct audio_ctl *c, json_object *o)
{
        struct audio_stats st;
        audio_get_stats(c->audio, &st);
        json_object_object_add(o, "backend", json_object_new_string(audio_backend_name(c->audio)));
        json_object_object_add(o, "muted", json_object_new_boolean(st.muted));
        json_object_object_add(o, "connected", json_object_new_boolean(st.connected));
        json_object_object_add(o, "bytes_written",
                               json_object_new_int64((int64_t)st.bytes_written));
        json_object_object_add(o, "bytes_dropped",
                               json_object_new_int64((int64_t)st.bytes_dropped));
        json_object_object_add(o, "reconnects", json_object_new_int64((int64_t)st.reconnects));
        if (c->snd) {
                struct virtio_snd_stats vs;
                virtio_snd_get_stats(c->snd, &vs);
                json_object_object_add(o, "xfers", json_object_new_int64((int64_t)vs.xfers));
                json_object_object_add(o, "pcm_bytes",
                                       json_object_new_int64((int64_t)vs.pcm_bytes));
                json_object_object_add(o, "starts", json_object_new_int64((int64_t)vs.starts));
                json_object_object_add(o, "underruns",
                                       json_object_new_int64((int64_t)vs.underruns));
                json_object_object_add(o, "bad_requests",
                                       json_object_new_int64((int64_t)vs.bad_requests));
                json_object_object_add(o, "start_wait_us",
                                       json_object_new_int64((int64_t)vs.start_wait_us));
                json_object_object_add(o, "start_kick_ns",
                                       json_object_new_int64((int64_t)vs.start_kick_ns));
                json_object_object_add(o, "sink_latency_us",
                                       json_object_new_int64(vs.sink_latency_us));
        }
}

static int cmd_sound(void *opaque, struct control_client *client, json_object *req,
                     json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)req, (void)error, (void)fd_out;
        describe(opaque, reply);
        return 0;
}

static int cmd_mute(void *opaque, struct control_client *client, json_object *req,
                    json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)fd_out;
        struct audio_ctl *c = opaque;
        json_object *m;
        if (!json_object_object_get_ex(req, "muted", &m) ||
            !json_object_is_type(m, json_type_boolean)) {
                *error = "sound-mute needs \"muted\": true or false";
                return -1;
        }
        audio_set_muted(c->audio, json_object_get_boolean(m));
        json_object_object_add(reply, "muted", json_object_new_boolean(audio_muted(c->audio)));
        return 0;
}

static void add_stats(void *opaque, json_object *reply)
{
        json_object *o = json_object_new_object();
        describe(opaque, o);
        json_object_object_add(reply, "sound", o);
}

int audio_control_register(struct control *ctl, struct audio *a, struct virtio_device *snd)
{
        if (!ctl)
                return 0;
        /* Lives as long as the VMM process (the control socket has no
         * unregister). */
        struct audio_ctl *c = calloc(1, sizeof(*c));
        if (!c)
                return -1;
        c->audio = a;
        c->snd = snd;
        if (control_register(ctl, "sound", cmd_sound, c) < 0 ||
            control_register(ctl, "sound-mute", cmd_mute, c) < 0 ||
            control_add_stats(ctl, add_stats, c) < 0)
                return -1;
        return 0;
}
