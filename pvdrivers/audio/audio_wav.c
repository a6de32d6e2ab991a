/* WAV-file backend: every stream appends to one RIFF/WAVE file whose format
 * is fixed by the first stream opened. The RIFF and data sizes are rewritten
 * after each write, so the file is valid even if the VMM is killed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio_backend.h"

#define WAV_HEADER 44
/* RIFF sizes are 32-bit; stop appending before they overflow. */
#define WAV_MAX_DATA (0xFFFFFFFFu - WAV_HEADER)

struct wav {
        int fd;
        bool have_format;
        struct audio_params fmt;
        uint32_t data_bytes;
        pthread_mutex_t lock;
};

static void put16(unsigned char *p, uint16_t v)
{
        p[0] = (unsigned char)v;
        p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
        put16(p, (uint16_t)v);
        put16(p + 2, (uint16_t)(v >> 16));
}

static int write_header(struct wav *w)
{
        unsigned char h[WAV_HEADER];
        uint16_t frame = (uint16_t)audio_frame_bytes(&w->fmt);
        memcpy(h, "RIFF", 4);
        put32(h + 4, 36 + w->data_bytes);
        memcpy(h + 8, "WAVEfmt ", 8);
        put32(h + 16, 16);
        put16(h + 20, 1); /* integer PCM */
        put16(h + 22, w->fmt.channels);
        put32(h + 24, w->fmt.rate);
        put32(h + 28, w->fmt.rate * frame);
        put16(h + 32, frame);
        put16(h + 34, (uint16_t)(frame / w->fmt.channels * 8));
        memcpy(h + 36, "data", 4);
        put32(h + 40, w->data_bytes);
        return pwrite(w->fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -1;
}

static int wav_open(struct audio *a, const char *path, char *err, size_t errlen)
{
        struct wav *w = calloc(1, sizeof(*w));
        if (!w) {
                snprintf(err, errlen, "sound: out of memory");
                return -1;
        }
        w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0) {
                snprintf(err, errlen, "sound: cannot create WAV file %s: %s", path,
                         strerror(errno));
                free(w);
                return -1;
        }
        pthread_mutex_init(&w->lock, NULL);
        a->priv = w;
        return 0;
}

static void wav_close(struct audio *a)
{
        struct wav *w = a->priv;
        close(w->fd);
        pthread_mutex_destroy(&w->lock);
        free(w);
}

static int wav_stream_open(struct audio_stream *s, char *err, size_t errlen)
{
        struct wav *w = s->audio->priv;
        int rc = 0;
        pthread_mutex_lock(&w->lock);
        if (!w->have_format) {
                w->fmt = s->params;
                w->have_format = true;
                if (write_header(w) < 0) {
                        snprintf(err, errlen, "sound: cannot write the WAV header: %s",
                                 strerror(errno));
                        w->have_format = false;
                        rc = -1;
                }
        } else if (memcmp(&w->fmt, &s->params, sizeof(w->fmt)) != 0) {
                snprintf(err, errlen,
                         "sound: the WAV file holds %u Hz, %u channels; a stream of %u Hz, %u "
                         "channels cannot be appended",
                         w->fmt.rate, w->fmt.channels, s->params.rate, s->params.channels);
                rc = -1;
        }
        pthread_mutex_unlock(&w->lock);
        return rc;
}

static size_t wav_stream_write(struct audio_stream *s, const void *pcm, size_t len)
{
        struct wav *w = s->audio->priv;
        pthread_mutex_lock(&w->lock);
        if (len > WAV_MAX_DATA - w->data_bytes)
                len = WAV_MAX_DATA - w->data_bytes;
        len -= len % audio_frame_bytes(&w->fmt);
        ssize_t n = len ? pwrite(w->fd, pcm, len, WAV_HEADER + (off_t)w->data_bytes) : 0;
        if (n > 0) {
                n -= n % (ssize_t)audio_frame_bytes(&w->fmt);
                w->data_bytes += (uint32_t)n;
                write_header(w);
        }
        pthread_mutex_unlock(&w->lock);
        return n > 0 ? (size_t)n : 0;
}

const struct audio_backend_ops audio_wav_ops = {
    .name = "wav",
    .open = wav_open,
    .close = wav_close,
    .stream_open = wav_stream_open,
    .stream_write = wav_stream_write,
};
