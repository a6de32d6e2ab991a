#include "soundfront.h"

#include "pv.h"
#include "pvdev.h"

#define VIRTIO_ID_SOUND 25
#define QSIZE           64
#define Q_CONTROL       0
#define Q_TX            2
/* Transmit buffers in flight: 3 descriptors each (header, PCM, status).
 * 8 periods (80 ms) keep the device fed while a loaded host is slow to wake
 * the guest; the device takes them at real-time pace, so a tone still starts
 * as soon as it is queued. */
#define SLOTS 8

#define RATE                 48000
#define PERIOD_FRAMES        480 /* 10 ms */
#define SND_R_PCM_SET_PARAMS 0x0101
#define SND_R_PCM_PREPARE    0x0102
#define SND_R_PCM_START      0x0104
#define SND_S_OK             0x8000
#define SND_FMT_S16          5
#define SND_RATE_48000       7

static VRING(QSIZE) ctlq __attribute__((aligned(4096))), txq __attribute__((aligned(4096)));
static uint16_t ctl_last_used, tx_last_used;

static struct {
        uint32_t code, stream_id, buffer_bytes, period_bytes, features;
        uint8_t channels, format, rate, padding;
} ctl_req;
static volatile uint32_t ctl_status;

static const uint32_t xfer_hdr = 0; /* stream 0 */
static int16_t period[PERIOD_FRAMES];
static struct {
        uint32_t status, latency_bytes;
} xfer_status[SLOTS];

static struct pvdev dev = {.index = -1};
static uint32_t tone_hz;
static uint32_t periods_left, in_flight;
uint32_t sound_periods_played;

/* sin(2*pi*i/96) * 12000 for i = 0..24 (a quarter wave). */
static const int16_t quarter[25] = {0,     785,   1566,  2341,  3106,  3857,  4592, 5307,  6000,
                                    6667,  7305,  7912,  8485,  9022,  9520,  9978, 10392, 10762,
                                    11087, 11363, 11591, 11769, 11897, 11974, 12000};

static int16_t sine96(uint32_t i)
{
        i %= 96;
        uint32_t q = i % 48;
        int16_t v = quarter[q <= 24 ? q : 48 - q];
        return i < 48 ? v : (int16_t)-v;
}

/* One control request, waited for (only at init, so the wait is short). */
static int control(uint32_t code, uint32_t len)
{
        ctl_req.code = code;
        ctl_status = 0;
        ctlq.desc[0] = (struct vring_desc){TPV_GPA(&ctl_req), len, VIRTQ_DESC_F_NEXT, 1};
        ctlq.desc[1] = (struct vring_desc){TPV_GPA(&ctl_status), 4, VIRTQ_DESC_F_WRITE, 0};
        VRING_PUBLISH(ctlq, 0);
        pvdev_kick(&dev);
        if (pvdev_wait_used(&dev, &VRING_USED_IDX(ctlq), ctl_last_used) < 0)
                return TPV_EIO;
        ctl_last_used++;
        return ctl_status == SND_S_OK ? 0 : TPV_EIO;
}

int sound_init(void)
{
        int r;
        if ((r = pvdev_find(&dev, VIRTIO_ID_SOUND, 0)) < 0)
                return r;
        if ((r = pvdev_start(&dev)) < 0 ||
            (r = pvdev_accept_features(&dev, 1ull << VIRTIO_F_VERSION_1)) < 0 ||
            (r = pvdev_setup_vring(&dev, Q_CONTROL, ctlq)) < 0 ||
            (r = pvdev_setup_vring(&dev, Q_TX, txq)) < 0 || (r = pvdev_ready(&dev)) < 0)
                goto fail;
        ctl_req.stream_id = 0;
        ctl_req.buffer_bytes = SLOTS * sizeof(period);
        ctl_req.period_bytes = sizeof(period);
        ctl_req.channels = 1;
        ctl_req.format = SND_FMT_S16;
        ctl_req.rate = SND_RATE_48000;
        if ((r = control(SND_R_PCM_SET_PARAMS, 24)) < 0 ||
            (r = control(SND_R_PCM_PREPARE, 8)) < 0 || (r = control(SND_R_PCM_START, 8)) < 0)
                goto fail;
        /* Each slot's three descriptors never change: the shared header, the
         * shared period, and the slot's own status. */
        for (unsigned s = 0; s < SLOTS; s++) {
                unsigned d = 3 * s;
                txq.desc[d] = (struct vring_desc){TPV_GPA(&xfer_hdr), 4, VIRTQ_DESC_F_NEXT,
                                                  (uint16_t)(d + 1)};
                txq.desc[d + 1] = (struct vring_desc){TPV_GPA(period), sizeof(period),
                                                      VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2)};
                txq.desc[d + 2] = (struct vring_desc){
                    TPV_GPA(&xfer_status[s]), sizeof(xfer_status[s]), VIRTQ_DESC_F_WRITE, 0};
        }
        return 0;
fail:
        dev.index = -1;
        return r < 0 ? r : TPV_EIO;
}

uint32_t sound_port_mask(void)
{
        return dev.index < 0 ? 0 : 1u << dev.port;
}

/* Completed buffers come back in order, so slot n%SLOTS is free again once
 * used.idx passed it. */
static void reclaim(void)
{
        uint16_t used = VRING_USED_IDX(txq);
        barrier();
        uint16_t done = (uint16_t)(used - tx_last_used);
        if (done > in_flight)
                done = (uint16_t)in_flight; /* a confused device; never underflow */
        in_flight -= done;
        sound_periods_played += done;
        tx_last_used = used;
}

static void fill(void)
{
        bool queued = false;
        while (periods_left && in_flight < SLOTS) {
                uint16_t slot = txq.avail.idx % SLOTS;
                VRING_PUBLISH(txq, (uint16_t)(3 * slot));
                in_flight++;
                periods_left--;
                queued = true;
        }
        if (queued)
                pvdev_kick(&dev);
}

void sound_event(void)
{
        if (dev.index < 0)
                return;
        reclaim();
        fill();
}

void sound_tone(uint32_t hz, uint32_t ms)
{
        if (dev.index < 0 || hz < 100 || hz > 4000 || hz % 100)
                return;
        reclaim();
        if (hz != tone_hz) {
                /* 10 ms holds hz/100 whole cycles, so the period repeats
                 * without a click. A buffer still queued with the old tone
                 * may play a mix of both: a beep is not worth a wait. */
                for (uint32_t n = 0; n < PERIOD_FRAMES; n++)
                        period[n] = sine96(n * hz / 500);
                tone_hz = hz;
        }
        periods_left = (ms + 9) / 10;
        fill();
}
