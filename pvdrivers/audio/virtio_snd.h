/* virtio-snd (virtio 1.2 §5.14), playback only: one output PCM stream, no
 * jacks, no channel maps. Used by the legacy guest over the PV bus; the
 * device model is transport-independent like every pvdrivers/virtio device.
 *
 * Pacing: a transmit buffer is taken from the ring only when the sink has
 * less than VIRTIO_SND_LEAD_MS of audio queued, and is completed as soon as
 * its samples are handed to the backend. The guest therefore sees its
 * buffers come back at the audio's real-time rate, and the audio it queued
 * is at most VIRTIO_SND_LEAD_MS ahead of the sink. */
#ifndef TANDEM_VIRTIO_SND_H
#define TANDEM_VIRTIO_SND_H

#include <stddef.h>
#include <stdint.h>

#include "../virtio/virtio_dev.h"

#define VIRTIO_ID_SOUND     25
#define VIRTIO_SND_LEAD_MS  20
#define VIRTIO_SND_MAX_XFER (256u * 1024) /* PCM bytes in one transmit buffer */

struct audio;
struct evloop;

struct virtio_snd_stats {
        uint64_t xfers;          /* transmit buffers completed */
        uint64_t pcm_bytes;      /* PCM bytes taken from the guest */
        uint64_t bad_requests;   /* control or transmit messages answered BAD_MSG */
        uint64_t starts;         /* PCM_START requests */
        uint64_t underruns;      /* the guest fell behind while started */
        uint64_t start_wait_us;  /* kick to backend write, first buffer after idle (last) */
        uint64_t start_kick_ns;  /* CLOCK_MONOTONIC of that kick: when the guest's sound began */
        int64_t sink_latency_us; /* backend latency after the last write, -1 unknown */
};

/* loop paces playback (a timerfd on it); without one (device tests) every
 * buffer plays as soon as it is queued. audio is the domain's backend and
 * stays owned by the caller. */
struct virtio_device *virtio_snd_create(const struct guest_mem *mem, struct evloop *loop,
                                        struct audio *audio, char *err, size_t errlen);
void virtio_snd_get_stats(struct virtio_device *vdev, struct virtio_snd_stats *st);

#endif
