/* The backend-independent part of the dom0 audio layer: spec parsing, mute,
 * counters, and the "none" backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_backend.h"

static const struct audio_backend_ops *const backends[] = {
    &audio_none_ops,
    &audio_wav_ops,
    &audio_pulse_ops,
};

static const struct audio_backend_ops *find_backend(const char *spec, const char **arg, char *err,
                                                    size_t errlen)
{
        if (!spec || !*spec) {
                snprintf(err, errlen, "empty sound backend (use pulse[:SERVER], wav:PATH or none)");
                return NULL;
        }
        const char *colon = strchr(spec, ':');
        size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
        *arg = colon ? colon + 1 : NULL;
        for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
                if (strlen(backends[i]->name) != n || strncmp(spec, backends[i]->name, n) != 0)
                        continue;
                if (backends[i] == &audio_wav_ops && (!*arg || !**arg)) {
                        snprintf(err, errlen, "sound backend wav needs a path: wav:PATH");
                        return NULL;
                }
                if (backends[i] == &audio_none_ops && *arg) {
                        snprintf(err, errlen, "sound backend none takes no argument");
                        return NULL;
                }
                if (*arg && !**arg)
                        *arg = NULL;
                return backends[i];
        }
        snprintf(err, errlen, "unknown sound backend '%.*s' (use pulse[:SERVER], wav:PATH or none)",
                 (int)(n > 32 ? 32 : n), spec);
        return NULL;
}

int audio_spec_check(const char *spec, char *err, size_t errlen)
{
        const char *arg;
        return find_backend(spec, &arg, err, errlen) ? 0 : -1;
}

struct audio *audio_open(const char *spec, const char *client_name, char *err, size_t errlen)
{
        const char *arg;
        const struct audio_backend_ops *ops = find_backend(spec, &arg, err, errlen);
        if (!ops)
                return NULL;
        struct audio *a = calloc(1, sizeof(*a));
        if (!a) {
                snprintf(err, errlen, "sound: out of memory");
                return NULL;
        }
        a->ops = ops;
        snprintf(a->client_name, sizeof(a->client_name), "%s",
                 client_name ? client_name : "tandem");
        pthread_mutex_init(&a->lock, NULL);
        if (ops->open && ops->open(a, arg, err, errlen) < 0) {
                pthread_mutex_destroy(&a->lock);
                free(a);
                return NULL;
        }
        return a;
}

void audio_close(struct audio *a)
{
        if (!a)
                return;
        for (unsigned i = 0; i < AUDIO_MAX_STREAMS; i++)
                if (a->streams[i])
                        audio_stream_close(a->streams[i]);
        if (a->ops->close)
                a->ops->close(a);
        pthread_mutex_destroy(&a->lock);
        free(a);
}

const char *audio_backend_name(const struct audio *a)
{
        return a->ops->name;
}

void audio_set_muted(struct audio *a, bool muted)
{
        __atomic_store_n(&a->muted, muted, __ATOMIC_RELAXED);
}

bool audio_muted(const struct audio *a)
{
        return __atomic_load_n(&a->muted, __ATOMIC_RELAXED);
}

void audio_count_reconnect(struct audio *a)
{
        pthread_mutex_lock(&a->lock);
        a->reconnects++;
        pthread_mutex_unlock(&a->lock);
}

void audio_get_stats(struct audio *a, struct audio_stats *s)
{
        memset(s, 0, sizeof(*s));
        s->latency_us = -1;
        pthread_mutex_lock(&a->lock);
        s->bytes_written = a->bytes_written;
        s->bytes_dropped = a->bytes_dropped;
        s->reconnects = a->reconnects;
        struct audio_stream *newest = NULL;
        for (unsigned i = 0; i < AUDIO_MAX_STREAMS; i++)
                if (a->streams[i])
                        newest = a->streams[i];
        pthread_mutex_unlock(&a->lock);
        s->muted = audio_muted(a);
        s->connected = a->ops->connected ? a->ops->connected(a) : true;
        if (newest)
                s->latency_us = audio_stream_latency_us(newest);
}

size_t audio_frame_bytes(const struct audio_params *p)
{
        static const size_t width[] = {
            [AUDIO_FMT_U8] = 1, [AUDIO_FMT_S16LE] = 2, [AUDIO_FMT_S32LE] = 4};
        return width[p->format] * p->channels;
}

uint64_t audio_bytes_to_ns(const struct audio_params *p, uint64_t len)
{
        uint64_t frames = len / audio_frame_bytes(p);
        return frames * 1000000000ull / p->rate;
}

void audio_fill_silence(const struct audio_params *p, void *buf, size_t len)
{
        memset(buf, p->format == AUDIO_FMT_U8 ? 0x80 : 0, len);
}

static bool params_valid(const struct audio_params *p, char *err, size_t errlen)
{
        if (p->rate < 4000 || p->rate > 192000) {
                snprintf(err, errlen, "sound: unsupported rate %u Hz", p->rate);
                return false;
        }
        if (p->channels < 1 || p->channels > 8) {
                snprintf(err, errlen, "sound: unsupported channel count %u", p->channels);
                return false;
        }
        if (p->format > AUDIO_FMT_S32LE) {
                snprintf(err, errlen, "sound: unsupported sample format %d", (int)p->format);
                return false;
        }
        return true;
}

struct audio_stream *audio_stream_open(struct audio *a, const struct audio_params *p, char *err,
                                       size_t errlen)
{
        if (!params_valid(p, err, errlen))
                return NULL;
        struct audio_stream *s = calloc(1, sizeof(*s));
        if (!s) {
                snprintf(err, errlen, "sound: out of memory");
                return NULL;
        }
        s->audio = a;
        s->params = *p;
        pthread_mutex_lock(&a->lock);
        unsigned slot = AUDIO_MAX_STREAMS;
        for (unsigned i = 0; i < AUDIO_MAX_STREAMS && slot == AUDIO_MAX_STREAMS; i++)
                if (!a->streams[i])
                        slot = i;
        if (slot < AUDIO_MAX_STREAMS)
                a->streams[slot] = s;
        pthread_mutex_unlock(&a->lock);
        if (slot == AUDIO_MAX_STREAMS) {
                snprintf(err, errlen, "sound: more than %d streams open", AUDIO_MAX_STREAMS);
                free(s);
                return NULL;
        }
        if (a->ops->stream_open && a->ops->stream_open(s, err, errlen) < 0) {
                pthread_mutex_lock(&a->lock);
                a->streams[slot] = NULL;
                pthread_mutex_unlock(&a->lock);
                free(s);
                return NULL;
        }
        return s;
}

size_t audio_stream_write(struct audio_stream *s, const void *pcm, size_t len)
{
        struct audio *a = s->audio;
        len -= len % audio_frame_bytes(&s->params);
        if (len == 0)
                return 0;
        if (audio_muted(a)) {
                if (s->silence_len < len) {
                        unsigned char *n = realloc(s->silence, len);
                        if (n) {
                                s->silence = n;
                                s->silence_len = len;
                                audio_fill_silence(&s->params, n, len);
                        }
                }
                if (s->silence_len >= len)
                        pcm = s->silence;
        }
        size_t took = a->ops->stream_write ? a->ops->stream_write(s, pcm, len) : len;
        pthread_mutex_lock(&a->lock);
        a->bytes_written += took;
        a->bytes_dropped += len - took;
        pthread_mutex_unlock(&a->lock);
        return took;
}

void audio_stream_drain(struct audio_stream *s)
{
        if (s->audio->ops->stream_drain)
                s->audio->ops->stream_drain(s);
}

int64_t audio_stream_latency_us(struct audio_stream *s)
{
        return s->audio->ops->stream_latency_us ? s->audio->ops->stream_latency_us(s) : 0;
}

void audio_stream_close(struct audio_stream *s)
{
        if (!s)
                return;
        struct audio *a = s->audio;
        /* Out of the table first: a backend thread walking it (a reconnect)
         * then never sees a stream that is being freed. */
        pthread_mutex_lock(&a->lock);
        for (unsigned i = 0; i < AUDIO_MAX_STREAMS; i++)
                if (a->streams[i] == s)
                        a->streams[i] = NULL;
        pthread_mutex_unlock(&a->lock);
        if (a->ops->stream_close)
                a->ops->stream_close(s);
        free(s->silence);
        free(s);
}

const struct audio_backend_ops audio_none_ops = {
    .name = "none",
};
