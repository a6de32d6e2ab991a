/* The dom0 audio backend: one per domain, shared by every sound device the
 * domain has (PV sound for the legacy guest, AC97 for Linux guests). A device
 * opens a playback stream with the format the guest chose and writes PCM as
 * the guest produces it; the backend never blocks the caller. When the sink
 * cannot take the data (PulseAudio away, buffer full) it is dropped and
 * counted, so a guest keeps running at its own pace whatever dom0's sound
 * server does.
 *
 * Backends, chosen by a spec string:
 *   none           discard everything (still counts bytes)
 *   wav:PATH       append to a RIFF/WAVE file (headless tests, servers)
 *   pulse[:SERVER] PulseAudio through libpulse's async API; SERVER is a
 *                  libpulse server string (e.g. unix:/run/user/0/pulse/native)
 */
#ifndef TANDEM_AUDIO_H
#define TANDEM_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum audio_sample_format {
        AUDIO_FMT_U8,
        AUDIO_FMT_S16LE,
        AUDIO_FMT_S32LE,
};

struct audio_params {
        uint32_t rate;    /* frames per second, 4000..192000 */
        uint8_t channels; /* 1..8 */
        enum audio_sample_format format;
};

struct audio_stats {
        uint64_t bytes_written; /* accepted by the sink */
        uint64_t bytes_dropped; /* offered while the sink could not take them */
        uint64_t reconnects;    /* times the backend came back after losing the server */
        bool connected;         /* the sink is there now (always true for none/wav) */
        bool muted;
        int64_t latency_us; /* sink latency of the newest stream, -1 unknown */
};

struct audio;
struct audio_stream;

/* Returns NULL with a one-line reason in err for a bad spec or a backend
 * that cannot start at all (an unwritable WAV path). An absent PulseAudio
 * server is not an error: the backend connects when it appears. */
struct audio *audio_open(const char *spec, const char *client_name, char *err, size_t errlen);
void audio_close(struct audio *a);
/* Checks a spec without opening anything (for option parsing). */
int audio_spec_check(const char *spec, char *err, size_t errlen);
const char *audio_backend_name(const struct audio *a);

/* Any thread. Muted output is replaced by silence of the same length, so
 * timing and latency do not change. */
void audio_set_muted(struct audio *a, bool muted);
bool audio_muted(const struct audio *a);
void audio_get_stats(struct audio *a, struct audio_stats *s);

struct audio_stream *audio_stream_open(struct audio *a, const struct audio_params *p, char *err,
                                       size_t errlen);
/* Never blocks. Returns the bytes the sink took; the rest was dropped. len
 * should be a whole number of frames. */
size_t audio_stream_write(struct audio_stream *s, const void *pcm, size_t len);
/* The guest stopped: play what is buffered, then go idle. */
void audio_stream_drain(struct audio_stream *s);
/* Sink-side latency (buffered audio not yet heard), -1 when unknown. */
int64_t audio_stream_latency_us(struct audio_stream *s);
void audio_stream_close(struct audio_stream *s);

size_t audio_frame_bytes(const struct audio_params *p);
/* Nanoseconds of audio in len bytes. */
uint64_t audio_bytes_to_ns(const struct audio_params *p, uint64_t len);
/* Silence for the format (0x80 for U8, 0 otherwise). */
void audio_fill_silence(const struct audio_params *p, void *buf, size_t len);

#endif
