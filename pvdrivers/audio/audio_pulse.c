/* PulseAudio backend: libpulse's asynchronous API on its own threaded main
 * loop. Writers (device code on VMM threads) only take the main loop lock
 * and copy into the stream's server-side buffer, whose size is bounded by
 * pa_buffer_attr, so the guest's sound is never more than about
 * PULSE_TARGET_US behind.
 *
 * When the server goes away the context fails; every write is then dropped
 * (and counted) while a timer on the main loop tries to connect again every
 * PULSE_RETRY_US. Once the context is ready again every open stream gets a
 * new server stream, so sound resumes without the device noticing. */
#include <pulse/pulseaudio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_backend.h"

#define PULSE_TARGET_US 30000  /* tlength: what the server keeps queued */
#define PULSE_PREBUF_US 5000   /* start (and restart after an underrun) this early */
#define PULSE_MAX_US    200000 /* maxlength: the hard bound on buffered audio */
#define PULSE_RETRY_US  300000
/* Audio held on our side while the server has not asked for it yet (it asks
 * in bursts, and late when the host is loaded). Beyond this, writes drop. */
#define PULSE_LOCAL_US 60000

struct pulse {
        struct audio *audio;
        pa_threaded_mainloop *ml;
        pa_context *ctx; /* NULL between a failure and the next attempt */
        pa_time_event *retry;
        char *server;
        bool ready;
        bool was_ready;
};

struct pulse_stream {
        pa_stream *st; /* NULL while the context is not ready */
        bool ready;
        /* ring of audio the server has not requested yet */
        unsigned char *ring;
        size_t cap, head, len;
};

/* Main loop lock held: hand the server as much as it asked for. */
static void feed(struct pulse_stream *ps)
{
        if (!ps->st || !ps->ready)
                return;
        size_t room = pa_stream_writable_size(ps->st);
        if (room == (size_t)-1)
                return;
        while (room && ps->len) {
                size_t n = ps->len < room ? ps->len : room;
                if (n > ps->cap - ps->head)
                        n = ps->cap - ps->head;
                if (pa_stream_write(ps->st, ps->ring + ps->head, n, NULL, 0, PA_SEEK_RELATIVE) < 0)
                        return;
                ps->head = (ps->head + n) % ps->cap;
                ps->len -= n;
                room -= n;
        }
}

static void stream_request_cb(pa_stream *st, size_t nbytes, void *opaque)
{
        (void)st, (void)nbytes;
        feed(opaque);
}

static void connect_context(struct pulse *p);

static pa_sample_format_t pa_format(enum audio_sample_format f)
{
        switch (f) {
        case AUDIO_FMT_U8:
                return PA_SAMPLE_U8;
        case AUDIO_FMT_S16LE:
                return PA_SAMPLE_S16LE;
        case AUDIO_FMT_S32LE:
                return PA_SAMPLE_S32LE;
        }
        return PA_SAMPLE_INVALID;
}

static void stream_state_cb(pa_stream *st, void *opaque)
{
        struct pulse_stream *ps = opaque;
        pa_stream_state_t state = pa_stream_get_state(st);
        ps->ready = state == PA_STREAM_READY;
}

/* Main loop lock held. */
static void stream_connect(struct pulse *p, struct audio_stream *s)
{
        struct pulse_stream *ps = s->priv;
        if (ps->st || !p->ready)
                return;
        pa_sample_spec ss = {
            .format = pa_format(s->params.format),
            .rate = s->params.rate,
            .channels = s->params.channels,
        };
        ps->st = pa_stream_new(p->ctx, "guest playback", &ss, NULL);
        if (!ps->st)
                return;
        pa_buffer_attr attr = {
            .maxlength = (uint32_t)pa_usec_to_bytes(PULSE_MAX_US, &ss),
            .tlength = (uint32_t)pa_usec_to_bytes(PULSE_TARGET_US, &ss),
            .prebuf = (uint32_t)pa_usec_to_bytes(PULSE_PREBUF_US, &ss),
            .minreq = (uint32_t)-1,
            .fragsize = (uint32_t)-1,
        };
        pa_stream_set_state_callback(ps->st, stream_state_cb, ps);
        pa_stream_set_write_callback(ps->st, stream_request_cb, ps);
        pa_stream_flags_t flags =
            PA_STREAM_ADJUST_LATENCY | PA_STREAM_AUTO_TIMING_UPDATE | PA_STREAM_INTERPOLATE_TIMING;
        if (pa_stream_connect_playback(ps->st, NULL, &attr, flags, NULL, NULL) < 0) {
                pa_stream_unref(ps->st);
                ps->st = NULL;
        }
}

static void stream_drop(struct pulse_stream *ps)
{
        if (!ps->st)
                return;
        pa_stream_set_state_callback(ps->st, NULL, NULL);
        pa_stream_set_write_callback(ps->st, NULL, NULL);
        pa_stream_disconnect(ps->st);
        pa_stream_unref(ps->st);
        ps->st = NULL;
        ps->ready = false;
        ps->len = 0; /* stale audio is not played after a reconnect */
}

static void for_each_stream(struct pulse *p, void (*fn)(struct pulse *, struct audio_stream *))
{
        struct audio_stream *list[AUDIO_MAX_STREAMS];
        pthread_mutex_lock(&p->audio->lock);
        memcpy(list, p->audio->streams, sizeof(list));
        pthread_mutex_unlock(&p->audio->lock);
        for (unsigned i = 0; i < AUDIO_MAX_STREAMS; i++)
                if (list[i] && list[i]->priv)
                        fn(p, list[i]);
}

static void drop_one(struct pulse *p, struct audio_stream *s)
{
        (void)p;
        stream_drop(s->priv);
}

static void retry_cb(pa_mainloop_api *api, pa_time_event *e, const struct timeval *tv, void *opaque)
{
        (void)tv;
        struct pulse *p = opaque;
        api->time_free(e);
        p->retry = NULL;
        for_each_stream(p, drop_one);
        if (p->ctx) {
                pa_context_set_state_callback(p->ctx, NULL, NULL);
                pa_context_disconnect(p->ctx);
                pa_context_unref(p->ctx);
                p->ctx = NULL;
        }
        connect_context(p);
}

static void schedule_retry(struct pulse *p)
{
        if (p->retry)
                return;
        struct timeval tv;
        pa_timeval_add(pa_gettimeofday(&tv), PULSE_RETRY_US);
        pa_mainloop_api *api = pa_threaded_mainloop_get_api(p->ml);
        p->retry = api->time_new(api, &tv, retry_cb, p);
}

static void context_state_cb(pa_context *c, void *opaque)
{
        struct pulse *p = opaque;
        switch (pa_context_get_state(c)) {
        case PA_CONTEXT_READY:
                p->ready = true;
                if (p->was_ready)
                        audio_count_reconnect(p->audio);
                p->was_ready = true;
                for_each_stream(p, stream_connect);
                break;
        case PA_CONTEXT_FAILED:
        case PA_CONTEXT_TERMINATED:
                if (p->ready)
                        fprintf(stderr,
                                "sound: lost the PulseAudio server (%s); dropping audio "
                                "until it returns\n",
                                pa_strerror(pa_context_errno(c)));
                p->ready = false;
                schedule_retry(p);
                break;
        default:
                break;
        }
}

static void connect_context(struct pulse *p)
{
        p->ctx = pa_context_new(pa_threaded_mainloop_get_api(p->ml), p->audio->client_name);
        if (!p->ctx) {
                schedule_retry(p);
                return;
        }
        pa_context_set_state_callback(p->ctx, context_state_cb, p);
        if (pa_context_connect(p->ctx, p->server, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0)
                schedule_retry(p);
}

static int pulse_open(struct audio *a, const char *server, char *err, size_t errlen)
{
        struct pulse *p = calloc(1, sizeof(*p));
        if (!p || !(p->ml = pa_threaded_mainloop_new())) {
                snprintf(err, errlen, "sound: cannot create the PulseAudio main loop");
                free(p);
                return -1;
        }
        p->audio = a;
        p->server = server ? strdup(server) : NULL;
        a->priv = p;
        if (pa_threaded_mainloop_start(p->ml) < 0) {
                snprintf(err, errlen, "sound: cannot start the PulseAudio thread");
                pa_threaded_mainloop_free(p->ml);
                free(p->server);
                free(p);
                return -1;
        }
        pa_threaded_mainloop_lock(p->ml);
        connect_context(p);
        pa_threaded_mainloop_unlock(p->ml);
        return 0;
}

static void pulse_close(struct audio *a)
{
        struct pulse *p = a->priv;
        pa_threaded_mainloop_lock(p->ml);
        if (p->retry)
                pa_threaded_mainloop_get_api(p->ml)->time_free(p->retry);
        if (p->ctx) {
                pa_context_set_state_callback(p->ctx, NULL, NULL);
                pa_context_disconnect(p->ctx);
                pa_context_unref(p->ctx);
        }
        pa_threaded_mainloop_unlock(p->ml);
        pa_threaded_mainloop_stop(p->ml);
        pa_threaded_mainloop_free(p->ml);
        free(p->server);
        free(p);
}

static bool pulse_connected(struct audio *a)
{
        struct pulse *p = a->priv;
        pa_threaded_mainloop_lock(p->ml);
        bool r = p->ready;
        pa_threaded_mainloop_unlock(p->ml);
        return r;
}

static int pulse_stream_open(struct audio_stream *s, char *err, size_t errlen)
{
        struct pulse *p = s->audio->priv;
        struct pulse_stream *ps = calloc(1, sizeof(*ps));
        if (!ps) {
                snprintf(err, errlen, "sound: out of memory");
                return -1;
        }
        pa_sample_spec ss = {pa_format(s->params.format), s->params.rate, s->params.channels};
        size_t frame = audio_frame_bytes(&s->params);
        ps->cap = pa_usec_to_bytes(PULSE_LOCAL_US, &ss) / frame * frame;
        ps->ring = malloc(ps->cap);
        if (!ps->ring) {
                free(ps);
                snprintf(err, errlen, "sound: out of memory");
                return -1;
        }
        pa_threaded_mainloop_lock(p->ml);
        s->priv = ps;
        stream_connect(p, s);
        pa_threaded_mainloop_unlock(p->ml);
        return 0;
}

static size_t pulse_stream_write(struct audio_stream *s, const void *pcm, size_t len)
{
        struct pulse *p = s->audio->priv;
        struct pulse_stream *ps = s->priv;
        size_t n = 0;
        pa_threaded_mainloop_lock(p->ml);
        if (ps->st && ps->ready) {
                n = len < ps->cap - ps->len ? len : ps->cap - ps->len;
                n -= n % audio_frame_bytes(&s->params);
                size_t tail = (ps->head + ps->len) % ps->cap;
                size_t first = n < ps->cap - tail ? n : ps->cap - tail;
                memcpy(ps->ring + tail, pcm, first);
                memcpy(ps->ring, (const unsigned char *)pcm + first, n - first);
                ps->len += n;
                feed(ps);
        }
        pa_threaded_mainloop_unlock(p->ml);
        return n;
}

static int64_t pulse_stream_latency_us(struct audio_stream *s)
{
        struct pulse *p = s->audio->priv;
        struct pulse_stream *ps = s->priv;
        int64_t r = -1;
        pa_threaded_mainloop_lock(p->ml);
        pa_usec_t us;
        int neg;
        if (ps->st && ps->ready && pa_stream_get_latency(ps->st, &us, &neg) == 0)
                r = (neg ? 0 : (int64_t)us) +
                    (int64_t)audio_bytes_to_ns(&s->params, ps->len) / 1000;
        pa_threaded_mainloop_unlock(p->ml);
        return r;
}

static void pulse_stream_close(struct audio_stream *s)
{
        struct pulse *p = s->audio->priv;
        pa_threaded_mainloop_lock(p->ml);
        struct pulse_stream *ps = s->priv;
        stream_drop(ps);
        free(ps->ring);
        free(ps);
        s->priv = NULL;
        pa_threaded_mainloop_unlock(p->ml);
}

const struct audio_backend_ops audio_pulse_ops = {
    .name = "pulse",
    .open = pulse_open,
    .close = pulse_close,
    .stream_open = pulse_stream_open,
    .stream_write = pulse_stream_write,
    .stream_latency_us = pulse_stream_latency_us,
    .stream_close = pulse_stream_close,
    .connected = pulse_connected,
};
