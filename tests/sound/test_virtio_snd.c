/* virtio-snd (PV sound) through real rings in guest memory, no transport and
 * no event loop (so transmit buffers play as soon as they are queued):
 * PCM_INFO, the stream state machine, a tone into a real WAV file compared
 * sample for sample, malformed control and transmit messages answered
 * BAD_MSG/NOT_SUPP without stopping the device, a broken transmit ring ->
 * NEEDS_RESET with the VMM unharmed, and recovery by reset. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../pvdrivers/audio/audio.h"
#include "../../pvdrivers/audio/virtio_snd.h"
#include "../../pvdrivers/virtio/devices.h"
#include "../../pvdrivers/virtio/virtio_core.h"
#include "../unit/harness.h"
#include "../unit/vdriver.h"

#define RAM  (4ull << 20)
#define CTLQ 0x10000
#define EVQ  0x14000
#define TXQ  0x18000
#define RXQ  0x1C000
#define REQ  0x30000
#define RESP 0x31000
#define PCM  0x40000

#define S_OK       0x8000
#define S_BAD_MSG  0x8001
#define S_NOT_SUPP 0x8002

static struct guest_mem mem;
static struct vd_queue q[4];
static unsigned config_irqs;

static void count_queue(struct virtio_device *v, unsigned qi)
{
        (void)v, (void)qi;
}
static void count_config(struct virtio_device *v)
{
        (void)v;
        config_irqs++;
}
static const struct virtio_transport counting = {count_queue, count_config};

/* One control request of len bytes (already at REQ); returns the status. */
static uint32_t control(struct virtio_device *vdev, uint32_t len, uint32_t resp_len)
{
        uint32_t status = 0xdead;
        vd_write(&mem, RESP, &status, 4);
        struct vd_buf b[2] = {{REQ, len, false}, {RESP, resp_len, true}};
        vd_add_chain(&q[0], b, 2);
        virtio_kick(vdev, 0);
        uint32_t id, used;
        CHECK(vd_get_used(&q[0], &id, &used));
        vd_read(&mem, RESP, &status, 4);
        return status;
}

static uint32_t simple(struct virtio_device *vdev, uint32_t code, uint32_t stream)
{
        uint32_t r[2] = {code, stream};
        vd_write(&mem, REQ, r, sizeof(r));
        return control(vdev, sizeof(r), 4);
}

static uint32_t set_params(struct virtio_device *vdev, uint8_t channels, uint8_t format,
                           uint8_t rate, uint32_t period)
{
        struct {
                uint32_t code, stream, buffer, period, features;
                uint8_t channels, format, rate, pad;
        } p = {0x0101, 0, period * 4, period, 0, channels, format, rate, 0};
        vd_write(&mem, REQ, &p, sizeof(p));
        return control(vdev, sizeof(p), 4);
}

/* Queues one transmit buffer of pcm_len bytes at PCM; returns the status
 * the device wrote (or 0xdead when it wrote none). */
static uint32_t tx(struct virtio_device *vdev, uint32_t stream, uint32_t pcm_len,
                   uint32_t status_len)
{
        vd_write(&mem, REQ, &stream, 4);
        uint32_t st[2] = {0xdead, 0};
        vd_write(&mem, RESP, st, sizeof(st));
        struct vd_buf b[3] = {{REQ, 4, false}, {PCM, pcm_len, false}, {RESP, status_len, true}};
        vd_add_chain(&q[2], b, pcm_len ? 3 : 2);
        if (!pcm_len)
                b[1] = b[2];
        virtio_kick(vdev, 2);
        uint32_t id, used;
        if (!vd_get_used(&q[2], &id, &used))
                return 0xbeef; /* not completed */
        vd_read(&mem, RESP, st, sizeof(st));
        return st[0];
}

int main(void)
{
        REQUIRE(guest_mem_init(&mem, RAM) == 0);
        char wav[] = "/tmp/tandem-vsnd-XXXXXX", spec[64], err[256];
        int fd = mkstemp(wav);
        REQUIRE(fd >= 0);
        close(fd);
        snprintf(spec, sizeof(spec), "wav:%s", wav);
        struct audio *audio = audio_open(spec, "test", err, sizeof(err));
        REQUIRE(audio);
        struct virtio_device *vdev = virtio_snd_create(&mem, NULL, audio, err, sizeof(err));
        REQUIRE(vdev);
        vdev->transport = &counting;
        vd_queue_init(&q[0], &mem, CTLQ, 16);
        vd_queue_init(&q[1], &mem, EVQ, 16);
        vd_queue_init(&q[2], &mem, TXQ, 16);
        vd_queue_init(&q[3], &mem, RXQ, 16);
        REQUIRE(vd_bringup(vdev, vdev->device_features, q, 4) & VIRTIO_STATUS_DRIVER_OK);
        uint32_t cfg[3];
        vdev->ops->config_read(vdev, 0, cfg, sizeof(cfg));
        CHECK(cfg[0] == 0 && cfg[1] == 1 && cfg[2] == 0);

        /* PCM_INFO for stream 0: output, S16 among the formats, 48 kHz. */
        uint32_t qi[4] = {0x0100, 0, 1, 32};
        vd_write(&mem, REQ, qi, sizeof(qi));
        CHECK_EQ(control(vdev, sizeof(qi), 4 + 32), S_OK);
        uint8_t info[32];
        vd_read(&mem, RESP + 4, info, sizeof(info));
        uint64_t formats, rates;
        memcpy(&formats, info + 8, 8);
        memcpy(&rates, info + 16, 8);
        CHECK(formats & (1u << 5));
        CHECK(rates & (1u << 7));
        CHECK_EQ(info[24], 0); /* output */
        qi[2] = 2;             /* two streams: there is one */
        vd_write(&mem, REQ, qi, sizeof(qi));
        CHECK_EQ(control(vdev, sizeof(qi), 4 + 64), S_BAD_MSG);
        qi[2] = 1;
        vd_write(&mem, REQ, qi, sizeof(qi));
        CHECK_EQ(control(vdev, sizeof(qi), 8), S_BAD_MSG); /* no room for the answer */

        /* State machine and parameters. */
        CHECK_EQ(simple(vdev, 0x0104, 0), S_BAD_MSG);          /* START before PREPARE */
        CHECK_EQ(simple(vdev, 0x0102, 0), S_BAD_MSG);          /* PREPARE before SET_PARAMS */
        CHECK_EQ(set_params(vdev, 1, 9, 7, 960), S_NOT_SUPP);  /* S20_3 */
        CHECK_EQ(set_params(vdev, 3, 5, 7, 960), S_NOT_SUPP);  /* 3 channels */
        CHECK_EQ(set_params(vdev, 1, 5, 13, 960), S_NOT_SUPP); /* 384 kHz */
        CHECK_EQ(set_params(vdev, 1, 5, 7, 961), S_BAD_MSG);   /* not whole frames */
        CHECK_EQ(set_params(vdev, 1, 5, 7, 960), S_OK);
        CHECK_EQ(simple(vdev, 0x0102, 1), S_BAD_MSG); /* stream 1 */
        CHECK_EQ(simple(vdev, 0x0102, 0), S_OK);
        CHECK_EQ(simple(vdev, 0x0200, 0), S_BAD_MSG); /* no channel maps */
        CHECK_EQ(simple(vdev, 0x7777, 0), S_NOT_SUPP);
        uint32_t shortreq = 0x0101;
        vd_write(&mem, REQ, &shortreq, 4);
        CHECK_EQ(control(vdev, 4, 4), S_BAD_MSG); /* truncated SET_PARAMS */
        CHECK_EQ(simple(vdev, 0x0104, 0), S_OK);

        /* Three periods of a ramp reach the WAV file as written. */
        int16_t pcm[480];
        for (int i = 0; i < 480; i++)
                pcm[i] = (int16_t)(i * 50 - 12000);
        vd_write(&mem, PCM, pcm, sizeof(pcm));
        for (int k = 0; k < 3; k++)
                CHECK_EQ(tx(vdev, 0, sizeof(pcm), 8), S_OK);
        /* Malformed transmit buffers are answered, not played. */
        CHECK_EQ(tx(vdev, 1, sizeof(pcm), 8), S_BAD_MSG); /* stream 1 */
        CHECK_EQ(tx(vdev, 0, 959, 8), S_BAD_MSG);         /* half a frame */
        CHECK_EQ(tx(vdev, 0, 300 * 1024, 8), S_BAD_MSG);  /* over 256 KiB */
        CHECK_EQ(tx(vdev, 0, sizeof(pcm), 4), 0xdead);    /* no room for the status */
        struct virtio_snd_stats st;
        virtio_snd_get_stats(vdev, &st);
        CHECK_EQ(st.xfers, 3);
        CHECK_EQ(st.pcm_bytes, 3 * sizeof(pcm));
        CHECK(st.bad_requests >= 4);
        CHECK(!(vdev->status & VIRTIO_STATUS_NEEDS_RESET));

        unsigned char file[44 + 3 * sizeof(pcm) + 16];
        int wfd = open(wav, O_RDONLY);
        REQUIRE(wfd >= 0);
        ssize_t n = read(wfd, file, sizeof(file));
        close(wfd);
        CHECK_EQ(n, 44 + 3 * sizeof(pcm));
        for (int k = 0; k < 3 && n >= 44 + 3 * (ssize_t)sizeof(pcm); k++)
                CHECK(memcmp(file + 44 + k * sizeof(pcm), pcm, sizeof(pcm)) == 0);

        /* Mute: the next buffer reaches the file as silence. */
        audio_set_muted(audio, true);
        CHECK_EQ(tx(vdev, 0, sizeof(pcm), 8), S_OK);
        audio_set_muted(audio, false);
        wfd = open(wav, O_RDONLY);
        static unsigned char tail[sizeof(pcm)];
        CHECK_EQ(pread(wfd, tail, sizeof(tail), 44 + 3 * sizeof(pcm)), sizeof(tail));
        close(wfd);
        static const unsigned char zero[sizeof(pcm)];
        CHECK(memcmp(tail, zero, sizeof(tail)) == 0);

        /* A transmit descriptor pointing outside RAM: NEEDS_RESET, config
         * interrupt, and the device ignores kicks until reset. */
        unsigned irqs = config_irqs;
        struct vd_buf bad[3] = {{REQ, 4, false}, {RAM - 16, 64, false}, {RESP, 8, true}};
        vd_add_chain(&q[2], bad, 3);
        virtio_kick(vdev, 2);
        CHECK(vdev->status & VIRTIO_STATUS_NEEDS_RESET);
        CHECK_EQ(config_irqs, irqs + 1);
        /* Reset and bring up again: it plays. */
        virtio_write_status(vdev, 0);
        for (int i = 0; i < 4; i++)
                vd_queue_init(&q[i], &mem, CTLQ + (uint64_t)i * 0x4000, 16);
        REQUIRE(vd_bringup(vdev, vdev->device_features, q, 4) & VIRTIO_STATUS_DRIVER_OK);
        CHECK_EQ(set_params(vdev, 1, 5, 7, 960), S_OK);
        CHECK_EQ(simple(vdev, 0x0102, 0), S_OK);
        CHECK_EQ(simple(vdev, 0x0104, 0), S_OK);
        CHECK_EQ(tx(vdev, 0, sizeof(pcm), 8), S_OK);
        CHECK_EQ(simple(vdev, 0x0105, 0), S_OK); /* STOP */
        CHECK_EQ(simple(vdev, 0x0103, 0), S_OK); /* RELEASE */

        virtio_device_destroy(vdev);
        audio_close(audio);
        unlink(wav);
        guest_mem_destroy(&mem);
        TEST_END();
}
