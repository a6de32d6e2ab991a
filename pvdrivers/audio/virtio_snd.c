/* virtio-snd device model, playback stream only. See virtio_snd.h. */
#include "virtio_snd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../../hv/vmm/evloop.h"
#include "../virtio/virtio_core.h"
#include "audio.h"

enum { SND_VQ_CONTROL, SND_VQ_EVENT, SND_VQ_TX, SND_VQ_RX, SND_NUM_QUEUES };
#define SND_QUEUE_SIZE  64
#define SND_UNDERRUN_NS (100 * 1000000ull)

/* Control request codes and status codes (virtio 1.2 §5.14.6). */
#define SND_R_JACK_INFO      1
#define SND_R_PCM_INFO       0x0100
#define SND_R_PCM_SET_PARAMS 0x0101
#define SND_R_PCM_PREPARE    0x0102
#define SND_R_PCM_RELEASE    0x0103
#define SND_R_PCM_START      0x0104
#define SND_R_PCM_STOP       0x0105
#define SND_R_CHMAP_INFO     0x0200
#define SND_S_OK             0x8000
#define SND_S_BAD_MSG        0x8001
#define SND_S_NOT_SUPP       0x8002
#define SND_S_IO_ERR         0x8003

#define SND_D_OUTPUT 0
/* Format and rate numbers (bit positions in pcm_info.formats / .rates). */
#define SND_FMT_U8  4
#define SND_FMT_S16 5
#define SND_FMT_S32 17
static const uint32_t snd_rates[] = {5512, 8000, 11025, 16000, 22050, 32000, 44100, 48000};
#define SND_RATE_FIRST_UNSUPPORTED 8 /* indexes 0..7 above are offered */
#define SND_MAX_CHANNELS           2

struct snd_query_info {
        uint32_t code, start_id, count, size;
};

struct snd_pcm_info {
        uint32_t hda_fn_nid;
        uint32_t features;
        uint64_t formats;
        uint64_t rates;
        uint8_t direction, channels_min, channels_max, padding[5];
};

struct snd_pcm_set_params {
        uint32_t code, stream_id, buffer_bytes, period_bytes, features;
        uint8_t channels, format, rate, padding;
};

struct snd_pcm_status {
        uint32_t status, latency_bytes;
};

enum snd_state { ST_IDLE, ST_PARAMS, ST_PREPARED, ST_STARTED, ST_STOPPED };

struct virtio_snd {
        struct virtio_device_priv head;
        struct virtio_device vdev;
        struct audio *audio;
        struct evloop *loop;
        int timer_fd;
        enum snd_state state;
        struct audio_params params;
        uint32_t period_bytes;
        struct audio_stream *stream;
        uint64_t ahead_until; /* CLOCK_MONOTONIC ns when the audio handed over runs out */
        uint64_t kick_ns;
        bool timer_armed;
        struct virtio_snd_stats stats;
        unsigned char pcm[VIRTIO_SND_MAX_XFER];
        struct virtq_chain chain;
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void arm_timer(struct virtio_snd *s, uint64_t at_ns)
{
        if (s->timer_fd < 0)
                return;
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at_ns / 1000000000ull),
                                              .tv_nsec = (long)(at_ns % 1000000000ull)}};
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
                its.it_value.tv_nsec = 1;
        timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
        s->timer_armed = true;
}

static void disarm_timer(struct virtio_snd *s)
{
        if (s->timer_fd < 0 || !s->timer_armed)
                return;
        struct itimerspec its = {0};
        timerfd_settime(s->timer_fd, 0, &its, NULL);
        s->timer_armed = false;
}

static void put_status(struct virtq_chain *c, uint32_t status, uint32_t latency_bytes)
{
        struct snd_pcm_status st = {status, latency_bytes};
        iov_copy_to(c->iov + c->nout, c->nin, c->in_bytes - sizeof(st), &st, sizeof(st));
}

/* One transmit buffer: header {stream_id}, PCM, then a writable status. */
static uint32_t tx_one(struct virtio_snd *s, struct virtq_chain *c, uint64_t now)
{
        if (c->in_bytes < sizeof(struct snd_pcm_status)) {
                s->stats.bad_requests++;
                return 0;
        }
        uint32_t stream_id = UINT32_MAX;
        uint64_t pcm_len = c->out_bytes >= 4 ? c->out_bytes - 4 : 0;
        iov_copy_from(c->iov, c->nout, 0, &stream_id, c->out_bytes >= 4 ? 4 : 0);
        size_t frame = audio_frame_bytes(&s->params);
        if (c->out_bytes < 4 || stream_id != 0 || pcm_len > VIRTIO_SND_MAX_XFER ||
            pcm_len % frame) {
                s->stats.bad_requests++;
                put_status(c, SND_S_BAD_MSG, 0);
                return sizeof(struct snd_pcm_status);
        }
        iov_copy_from(c->iov, c->nout, 4, s->pcm, pcm_len);
        if (s->stream)
                audio_stream_write(s->stream, s->pcm, pcm_len);
        s->ahead_until += audio_bytes_to_ns(&s->params, pcm_len);
        s->stats.xfers++;
        s->stats.pcm_bytes += pcm_len;
        uint64_t ahead = s->ahead_until > now ? s->ahead_until - now : 0;
        uint64_t latency_bytes = ahead / 1000 * s->params.rate / 1000000 * frame;
        put_status(c, SND_S_OK, (uint32_t)latency_bytes);
        return sizeof(struct snd_pcm_status);
}

/* Hands transmit buffers to the backend until VIRTIO_SND_LEAD_MS of audio
 * is ahead of the clock, then sleeps on the timer until there is room. */
static void pump(struct virtio_snd *s)
{
        struct virtio_device *vdev = &s->vdev;
        struct virtqueue *vq = &vdev->vq[SND_VQ_TX];
        if (s->state != ST_STARTED || !virtio_device_live(vdev) || !vq->ready)
                return;
        const uint64_t lead = VIRTIO_SND_LEAD_MS * 1000000ull;
        uint64_t now = now_ns();
        bool idle = s->ahead_until <= now;
        bool wrote = false;
        /* Without an event loop (device tests) nothing could wake us later:
         * play whatever is queued now. */
        bool paced = s->timer_fd >= 0;
        while (!paced || s->ahead_until < now + lead) {
                enum virtq_pop_result r = virtq_pop(vq, vdev->mem, &s->chain);
                if (r == VIRTQ_EMPTY)
                        break;
                if (r == VIRTQ_BROKEN) {
                        char why[128];
                        snprintf(why, sizeof(why), "tx queue: %s", virtq_broken_reason());
                        disarm_timer(s);
                        virtio_needs_reset(vdev, why);
                        return;
                }
                if (idle && !wrote) {
                        /* Back within SND_UNDERRUN_NS of running dry: the
                         * guest was late (an underrun). Later: a new sound. */
                        bool underrun = s->stats.xfers && now - s->ahead_until < SND_UNDERRUN_NS;
                        s->ahead_until = now;
                        if (underrun) {
                                s->stats.underruns++;
                        } else {
                                s->stats.start_kick_ns = s->kick_ns ? s->kick_ns : now;
                                s->stats.start_wait_us =
                                    s->kick_ns && now > s->kick_ns ? (now - s->kick_ns) / 1000 : 0;
                        }
                }
                uint32_t len = tx_one(s, &s->chain, now);
                virtio_complete(vdev, SND_VQ_TX, s->chain.head, len);
                wrote = true;
                if (!vq->ready)
                        return;
        }
        if (wrote && s->stream)
                s->stats.sink_latency_us = audio_stream_latency_us(s->stream);
        if (s->ahead_until >= now + lead)
                arm_timer(s, s->ahead_until - lead);
        else
                disarm_timer(s);
}

static void on_timer(void *opaque, uint32_t events)
{
        (void)events;
        struct virtio_snd *s = opaque;
        uint64_t expirations;
        if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0)
                return;
        s->timer_armed = false;
        pump(s);
}

/* Returns every pending transmit buffer (RELEASE, reset). */
static void flush_tx(struct virtio_snd *s)
{
        struct virtio_device *vdev = &s->vdev;
        struct virtqueue *vq = &vdev->vq[SND_VQ_TX];
        if (!vq->ready || !virtio_device_live(vdev))
                return;
        enum virtq_pop_result r;
        while ((r = virtq_pop(vq, vdev->mem, &s->chain)) == VIRTQ_CHAIN) {
                uint32_t len = 0;
                if (s->chain.in_bytes >= sizeof(struct snd_pcm_status)) {
                        put_status(&s->chain, SND_S_OK, 0);
                        len = sizeof(struct snd_pcm_status);
                }
                virtio_complete(vdev, SND_VQ_TX, s->chain.head, len);
        }
        if (r == VIRTQ_BROKEN)
                virtio_needs_reset(vdev, "tx queue: broken ring on release");
}

static void close_stream(struct virtio_snd *s)
{
        audio_stream_close(s->stream);
        s->stream = NULL;
}

static uint32_t pcm_info(struct virtio_snd *s, struct virtq_chain *c)
{
        (void)s;
        struct snd_query_info q = {0};
        if (c->out_bytes < sizeof(q))
                return SND_S_BAD_MSG;
        iov_copy_from(c->iov, c->nout, 0, &q, sizeof(q));
        if (q.start_id > 1 || q.count > 1 - q.start_id || q.size < sizeof(struct snd_pcm_info) ||
            q.size > 1024 || c->in_bytes < 4 + (uint64_t)q.count * q.size)
                return SND_S_BAD_MSG;
        for (uint32_t i = 0; i < q.count; i++) {
                struct snd_pcm_info info = {
                    .formats = 1ull << SND_FMT_U8 | 1ull << SND_FMT_S16 | 1ull << SND_FMT_S32,
                    .rates = (1ull << SND_RATE_FIRST_UNSUPPORTED) - 1,
                    .direction = SND_D_OUTPUT,
                    .channels_min = 1,
                    .channels_max = SND_MAX_CHANNELS,
                };
                iov_copy_to(c->iov + c->nout, c->nin, 4 + (size_t)i * q.size, &info, sizeof(info));
        }
        return SND_S_OK;
}

static uint32_t set_params(struct virtio_snd *s, struct virtq_chain *c)
{
        struct snd_pcm_set_params p;
        if (c->out_bytes < sizeof(p))
                return SND_S_BAD_MSG;
        iov_copy_from(c->iov, c->nout, 0, &p, sizeof(p));
        if (p.stream_id != 0 || s->state == ST_STARTED)
                return SND_S_BAD_MSG;
        struct audio_params ap = {.channels = p.channels};
        switch (p.format) {
        case SND_FMT_U8:
                ap.format = AUDIO_FMT_U8;
                break;
        case SND_FMT_S16:
                ap.format = AUDIO_FMT_S16LE;
                break;
        case SND_FMT_S32:
                ap.format = AUDIO_FMT_S32LE;
                break;
        default:
                return SND_S_NOT_SUPP;
        }
        if (p.rate >= SND_RATE_FIRST_UNSUPPORTED || p.channels < 1 || p.channels > SND_MAX_CHANNELS)
                return SND_S_NOT_SUPP;
        ap.rate = snd_rates[p.rate];
        size_t frame = audio_frame_bytes(&ap);
        if (p.period_bytes == 0 || p.period_bytes % frame || p.period_bytes > VIRTIO_SND_MAX_XFER ||
            p.buffer_bytes < p.period_bytes || p.features != 0)
                return SND_S_BAD_MSG;
        close_stream(s);
        s->params = ap;
        s->period_bytes = p.period_bytes;
        s->state = ST_PARAMS;
        return SND_S_OK;
}

static uint32_t pcm_request(struct virtio_snd *s, uint32_t code, struct virtq_chain *c)
{
        uint32_t hdr[2] = {0, UINT32_MAX};
        if (c->out_bytes < sizeof(hdr))
                return SND_S_BAD_MSG;
        iov_copy_from(c->iov, c->nout, 0, hdr, sizeof(hdr));
        if (hdr[1] != 0)
                return SND_S_BAD_MSG;
        char err[256];
        switch (code) {
        case SND_R_PCM_PREPARE:
                if (s->state == ST_IDLE || s->state == ST_STARTED)
                        return SND_S_BAD_MSG;
                if (!s->stream) {
                        s->stream = audio_stream_open(s->audio, &s->params, err, sizeof(err));
                        if (!s->stream) {
                                fprintf(stderr, "virtio-snd: %s\n", err);
                                return SND_S_IO_ERR;
                        }
                }
                s->state = ST_PREPARED;
                return SND_S_OK;
        case SND_R_PCM_START:
                if (s->state != ST_PREPARED && s->state != ST_STOPPED)
                        return SND_S_BAD_MSG;
                s->state = ST_STARTED;
                s->stats.starts++;
                s->ahead_until = 0;
                pump(s);
                return SND_S_OK;
        case SND_R_PCM_STOP:
                if (s->state != ST_STARTED)
                        return SND_S_BAD_MSG;
                s->state = ST_STOPPED;
                disarm_timer(s);
                audio_stream_drain(s->stream);
                return SND_S_OK;
        case SND_R_PCM_RELEASE:
                if (s->state != ST_PREPARED && s->state != ST_STOPPED)
                        return SND_S_BAD_MSG;
                flush_tx(s);
                close_stream(s);
                s->state = ST_PARAMS;
                return SND_S_OK;
        }
        return SND_S_NOT_SUPP;
}

static uint32_t control_one(struct virtio_device *vdev, unsigned q, struct virtq_chain *c)
{
        (void)q;
        struct virtio_snd *s = vdev->priv;
        uint32_t code = 0, status;
        if (c->in_bytes < 4)
                return 0; /* nowhere to answer */
        if (c->out_bytes < 4)
                status = SND_S_BAD_MSG;
        else {
                iov_copy_from(c->iov, c->nout, 0, &code, 4);
                switch (code) {
                case SND_R_PCM_INFO:
                        status = pcm_info(s, c);
                        break;
                case SND_R_PCM_SET_PARAMS:
                        status = set_params(s, c);
                        break;
                case SND_R_PCM_PREPARE:
                case SND_R_PCM_START:
                case SND_R_PCM_STOP:
                case SND_R_PCM_RELEASE:
                        status = pcm_request(s, code, c);
                        break;
                case SND_R_JACK_INFO:
                case SND_R_CHMAP_INFO:
                        status = SND_S_BAD_MSG; /* there are no jacks or channel maps */
                        break;
                default:
                        status = SND_S_NOT_SUPP;
                }
        }
        if (status == SND_S_BAD_MSG)
                s->stats.bad_requests++;
        iov_copy_to(c->iov + c->nout, c->nin, 0, &status, 4);
        return status == SND_S_OK && code == SND_R_PCM_INFO ? (uint32_t)c->in_bytes : 4;
}

static void snd_queue_notify(struct virtio_device *vdev, unsigned q)
{
        struct virtio_snd *s = vdev->priv;
        if (q == SND_VQ_CONTROL) {
                virtio_queue_process(vdev, q, &s->chain, control_one);
        } else if (q == SND_VQ_TX) {
                s->kick_ns = now_ns();
                if (!s->timer_armed)
                        pump(s);
        }
        /* event queue buffers are kept (no jacks, no events); rx is unused */
}

static void snd_config_read(struct virtio_device *vdev, uint32_t off, void *data, unsigned len)
{
        (void)vdev;
        const uint32_t cfg[3] = {0 /* jacks */, 1 /* streams */, 0 /* chmaps */};
        memcpy(data, (const uint8_t *)cfg + off, len);
}

static void snd_reset(struct virtio_device *vdev)
{
        struct virtio_snd *s = vdev->priv;
        disarm_timer(s);
        close_stream(s);
        s->state = ST_IDLE;
        s->ahead_until = 0;
}

static const struct virtio_dev_ops snd_ops = {
    .name = "snd",
    .device_id = VIRTIO_ID_SOUND,
    .features = 1ull << VIRTIO_F_INDIRECT_DESC,
    .num_queues = SND_NUM_QUEUES,
    .queue_max_size = SND_QUEUE_SIZE,
    .config_size = 12,
    .config_read = snd_config_read,
    .queue_notify = snd_queue_notify,
    .reset = snd_reset,
};

static void snd_destroy(struct virtio_device *vdev)
{
        struct virtio_snd *s = vdev->priv;
        close_stream(s);
        if (s->timer_fd >= 0) {
                evloop_del(s->loop, s->timer_fd);
                close(s->timer_fd);
        }
        free(s);
}

void virtio_snd_get_stats(struct virtio_device *vdev, struct virtio_snd_stats *st)
{
        struct virtio_snd *s = vdev->priv;
        *st = s->stats;
}

struct virtio_device *virtio_snd_create(const struct guest_mem *mem, struct evloop *loop,
                                        struct audio *audio, char *err, size_t errlen)
{
        struct virtio_snd *s = calloc(1, sizeof(*s));
        if (!s) {
                snprintf(err, errlen, "out of memory creating virtio-snd");
                return NULL;
        }
        s->head.destroy = snd_destroy;
        s->audio = audio;
        s->loop = loop;
        s->timer_fd = -1;
        s->stats.sink_latency_us = -1;
        if (loop) {
                s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (s->timer_fd < 0 || evloop_add(loop, s->timer_fd, EPOLLIN, on_timer, s) < 0) {
                        snprintf(err, errlen, "virtio-snd: cannot create the pacing timer");
                        if (s->timer_fd >= 0)
                                close(s->timer_fd);
                        free(s);
                        return NULL;
                }
        }
        virtio_device_init(&s->vdev, &snd_ops, s, mem);
        return &s->vdev;
}
