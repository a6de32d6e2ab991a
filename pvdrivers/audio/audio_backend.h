/* Internal: what each backend (none, wav, pulse) implements. */
#ifndef TANDEM_AUDIO_BACKEND_H
#define TANDEM_AUDIO_BACKEND_H

#include <pthread.h>

#include "audio.h"

struct audio_backend_ops {
        const char *name;
        /* arg is the text after "name:" or NULL. */
        int (*open)(struct audio *a, const char *arg, char *err, size_t errlen);
        void (*close)(struct audio *a);
        int (*stream_open)(struct audio_stream *s, char *err, size_t errlen);
        size_t (*stream_write)(struct audio_stream *s, const void *pcm, size_t len);
        void (*stream_drain)(struct audio_stream *s);
        int64_t (*stream_latency_us)(struct audio_stream *s);
        void (*stream_close)(struct audio_stream *s);
        bool (*connected)(struct audio *a);
};

#define AUDIO_MAX_STREAMS 4

struct audio {
        const struct audio_backend_ops *ops;
        void *priv;
        char client_name[64];
        pthread_mutex_t lock; /* stats and the stream table */
        bool muted;
        uint64_t bytes_written, bytes_dropped, reconnects;
        struct audio_stream *streams[AUDIO_MAX_STREAMS];
};

struct audio_stream {
        struct audio *audio;
        struct audio_params params;
        void *priv;
        unsigned char *silence; /* scratch for muted writes */
        size_t silence_len;
};

extern const struct audio_backend_ops audio_none_ops, audio_wav_ops, audio_pulse_ops;

/* Backends report a server coming back. */
void audio_count_reconnect(struct audio *a);

#endif
