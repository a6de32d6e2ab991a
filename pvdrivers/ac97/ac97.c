/* Intel ICH AC97 controller and codec; see ac97.h. Register layout from the
 * ICH datasheet's AC'97 sections and the AC'97 2.3 codec register map. */
#include "ac97.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../audio/audio.h"
#include "../../hv/pci/pci.h"
#include "../../hv/vmm/evloop.h"

#define AC97_VENDOR 0x8086
#define AC97_DEVICE 0x2415 /* 82801AA AC'97 audio */
#define AC97_CLASS  0x040100
#define NAM_SIZE    256
#define NABM_SIZE   64

/* Bus master boxes and their registers (offsets within a box). */
enum { BOX_PI, BOX_PO, BOX_MC, NBOXES };
#define BOX_STRIDE  0x10
#define R_BDBAR     0x0
#define R_CIV       0x4
#define R_LVI       0x5
#define R_SR        0x6
#define R_PICB      0x8
#define R_PIV       0xA
#define R_CR        0xB
#define R_GLOB_CNT  0x2C
#define R_GLOB_STA  0x30
#define R_CAS       0x34
#define SR_DCH      0x01
#define SR_CELV     0x02
#define SR_LVBCI    0x04
#define SR_BCIS     0x08
#define SR_FIFOE    0x10
#define SR_RWC      (SR_LVBCI | SR_BCIS | SR_FIFOE)
#define CR_RPBM     0x01
#define CR_RR       0x02
#define CR_LVBIE    0x04
#define CR_FEIE     0x08
#define CR_IOCE     0x10
#define CNT_WARM    0x04
#define STA_PCR     0x100
#define STA_RWC     (0x1 | 0x400 | 0x800 | 0x8000) /* GSCI, PRI, SRI, RCS */
#define BD_IOC      0x8000
#define BDL_ENTRIES 32

/* Codec (NAM) registers with behaviour; the rest are plain storage. */
#define NAM_RESET      0x00
#define NAM_POWERDOWN  0x26
#define NAM_EXT_ID     0x28
#define NAM_EXT_CTRL   0x2A
#define NAM_FRONT_RATE 0x2C
#define NAM_ADC_RATE   0x32
#define NAM_VENDOR1    0x7C
#define NAM_VENDOR2    0x7E

#define AC97_RATE     48000
#define AC97_LEAD_NS  (20 * 1000000ull)
#define CHUNK_SAMPLES 960 /* 10 ms of 16-bit stereo */
#define MAX_ERR_LOGS  8

struct box {
        uint32_t bdbar;
        uint8_t civ, lvi, piv, cr;
        uint16_t sr, picb;
        /* the descriptor at civ, as fetched */
        bool have_bd;
        uint32_t buf_addr;
        uint16_t bd_ctl;
};

struct ac97 {
        struct pci_device pci;
        struct vm *vm;
        struct audio *audio;
        struct audio_stream *stream;
        uint16_t nam[NAM_SIZE / 2];
        struct box box[NBOXES];
        uint32_t glob_cnt, glob_sta_rwc;
        bool irq_level;
        int timer_fd;
        uint64_t ahead_until;
        struct ac97_stats stats;
};

static const struct audio_params ac97_params = {AC97_RATE, 2, AUDIO_FMT_S16LE};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- codec ---- */

static void nam_reset(struct ac97 *ac)
{
        static const struct {
                uint8_t reg;
                uint16_t val;
        } defaults[] = {
            {0x02, 0x8000},
            {0x04, 0x8000},
            {0x06, 0x8000},
            {0x0C, 0x8008},
            {0x0E, 0x8008},
            {0x10, 0x8808},
            {0x12, 0x8808},
            {0x14, 0x8808},
            {0x16, 0x8808},
            {0x18, 0x8808},
            {0x1C, 0x8000},
            {NAM_POWERDOWN, 0x000F},
            {NAM_FRONT_RATE, AC97_RATE},
            {NAM_ADC_RATE, AC97_RATE},
            {NAM_VENDOR1, 0x5444}, /* "TD" */
            {NAM_VENDOR2, 0x4D00}, /* "M", revision 0 */
        };
        memset(ac->nam, 0, sizeof(ac->nam));
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
                ac->nam[defaults[i].reg / 2] = defaults[i].val;
}

static void nam_write16(struct ac97 *ac, unsigned reg, uint16_t v)
{
        switch (reg) {
        case NAM_RESET:
                nam_reset(ac);
                break;
        case NAM_POWERDOWN: /* low nibble: ADC, DAC, analog, Vref ready (read-only) */
                ac->nam[reg / 2] = (uint16_t)((v & 0xFF00) | 0x000F);
                break;
        case NAM_EXT_ID:
        case NAM_EXT_CTRL: /* no variable rate: nothing to enable */
        case NAM_FRONT_RATE:
        case NAM_ADC_RATE:
        case NAM_VENDOR1:
        case NAM_VENDOR2:
                break;
        default:
                ac->nam[reg / 2] = v;
        }
}

static void nam_access(struct ac97 *ac, uint64_t off, void *data, unsigned len, bool is_write)
{
        uint8_t *p = data;
        for (unsigned i = 0; i < len; i++) {
                unsigned o = (unsigned)off + i;
                if (o >= NAM_SIZE) {
                        if (!is_write)
                                p[i] = 0xFF;
                        continue;
                }
                uint16_t cur = ac->nam[o / 2];
                if (!is_write) {
                        p[i] = (uint8_t)(o & 1 ? cur >> 8 : cur);
                        continue;
                }
                /* A 16-bit register written in two byte halves: apply the
                 * whole register once both (or the only) bytes are known. */
                uint16_t v = o & 1 ? (uint16_t)((cur & 0x00FF) | p[i] << 8)
                                   : (uint16_t)((cur & 0xFF00) | p[i]);
                if (!(o & 1) && i + 1 < len) {
                        v = (uint16_t)(p[i] | p[i + 1] << 8);
                        i++;
                }
                nam_write16(ac, o & ~1u, v);
        }
}

/* ---- bus master ---- */

static bool box_irq(const struct box *b)
{
        return ((b->sr & SR_BCIS) && (b->cr & CR_IOCE)) ||
               ((b->sr & SR_LVBCI) && (b->cr & CR_LVBIE)) ||
               ((b->sr & SR_FIFOE) && (b->cr & CR_FEIE));
}

static void update_irq(struct ac97 *ac)
{
        bool level = false;
        for (unsigned i = 0; i < NBOXES; i++)
                level |= box_irq(&ac->box[i]);
        if (level && !ac->irq_level)
                ac->stats.irqs++;
        if (level != ac->irq_level) {
                ac->irq_level = level;
                pci_intx_set(&ac->pci, level);
        }
}

static void box_reset(struct box *b)
{
        memset(b, 0, sizeof(*b));
        b->sr = SR_DCH;
}

static void halt_on_error(struct ac97 *ac, struct box *b, const char *what, uint32_t addr)
{
        b->sr |= SR_FIFOE | SR_DCH;
        b->have_bd = false;
        if (ac->stats.bdl_errors++ < MAX_ERR_LOGS)
                fprintf(stderr,
                        "ac97: %s (descriptor %u, address 0x%08x) is not guest RAM; PCM out "
                        "halted\n",
                        what, b->civ, addr);
}

/* Reads the descriptor at civ. False (channel halted) when the list entry or
 * its buffer is not guest RAM. */
static bool fetch_bd(struct ac97 *ac, struct box *b)
{
        uint32_t e[2];
        uint32_t at = b->bdbar + (uint32_t)b->civ * 8;
        if (guest_mem_read(&ac->vm->mem, at, e, sizeof(e)) < 0) {
                halt_on_error(ac, b, "the buffer descriptor list", at);
                return false;
        }
        uint32_t addr = e[0] & ~1u;
        uint16_t samples = (uint16_t)e[1];
        if (samples && !guest_mem_ptr(&ac->vm->mem, addr, (uint64_t)samples * 2)) {
                halt_on_error(ac, b, "a PCM buffer", addr);
                return false;
        }
        b->buf_addr = addr;
        b->picb = samples;
        b->bd_ctl = (uint16_t)(e[1] >> 16);
        b->have_bd = true;
        return true;
}

/* The buffer at civ is done: flag it, stop at LVI, else move to the next.
 * Returns whether the channel still runs. */
static bool buffer_done(struct ac97 *ac, struct box *b)
{
        ac->stats.buffers++;
        b->have_bd = false;
        if (b->bd_ctl & BD_IOC)
                b->sr |= SR_BCIS;
        if (b->civ == b->lvi) {
                b->sr |= SR_DCH | SR_CELV | SR_LVBCI;
                return false;
        }
        b->civ = b->piv;
        b->piv = (uint8_t)((b->piv + 1) % BDL_ENTRIES);
        return fetch_bd(ac, b);
}

static void arm_timer(struct ac97 *ac, uint64_t at)
{
        struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000ull),
                                              .tv_nsec = (long)(at % 1000000000ull)}};
        timerfd_settime(ac->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void disarm_timer(struct ac97 *ac)
{
        struct itimerspec its = {0};
        if (ac->timer_fd >= 0)
                timerfd_settime(ac->timer_fd, 0, &its, NULL);
}

/* Moves PCM out samples to the backend: up to AC97_LEAD_NS ahead of the
 * clock when paced, or every buffer up to LVI when not. */
static void po_pump(struct ac97 *ac)
{
        struct box *b = &ac->box[BOX_PO];
        bool paced = ac->timer_fd >= 0;
        uint64_t now = now_ns();
        if (!(b->cr & CR_RPBM) || (b->sr & SR_DCH)) {
                disarm_timer(ac);
                update_irq(ac);
                return;
        }
        if (ac->ahead_until < now)
                ac->ahead_until = now;
        /* 33 descriptors is one trip round the list; zero-length ones cost
         * nothing but must not spin. */
        unsigned empty = 0;
        while (!paced || ac->ahead_until < now + AC97_LEAD_NS) {
                if (!b->have_bd && !fetch_bd(ac, b))
                        break;
                if (b->picb == 0) {
                        if (!buffer_done(ac, b) || ++empty > BDL_ENTRIES)
                                break;
                        continue;
                }
                unsigned n = b->picb < CHUNK_SAMPLES ? b->picb : CHUNK_SAMPLES;
                const void *pcm = guest_mem_ptr(&ac->vm->mem, b->buf_addr, (uint64_t)n * 2);
                if (!pcm) {
                        halt_on_error(ac, b, "a PCM buffer", b->buf_addr);
                        break;
                }
                if (ac->stream)
                        audio_stream_write(ac->stream, pcm, (size_t)n * 2);
                ac->stats.samples += n;
                ac->ahead_until += audio_bytes_to_ns(&ac97_params, (uint64_t)n * 2);
                b->buf_addr += n * 2;
                b->picb = (uint16_t)(b->picb - n);
                if (b->picb == 0 && !buffer_done(ac, b))
                        break;
        }
        update_irq(ac);
        if (paced && (b->cr & CR_RPBM) && !(b->sr & SR_DCH))
                arm_timer(ac, ac->ahead_until - AC97_LEAD_NS);
        else
                disarm_timer(ac);
}

static void on_timer(void *opaque, uint32_t events)
{
        (void)events;
        struct ac97 *ac = opaque;
        uint64_t n;
        if (read(ac->timer_fd, &n, sizeof(n)) < 0)
                return;
        po_pump(ac);
}

static void start_box(struct ac97 *ac, unsigned i)
{
        struct box *b = &ac->box[i];
        if (i != BOX_PO) /* no capture: the channel halts at once */
                return;
        if (!ac->stream) {
                char err[256];
                ac->stream = audio_stream_open(ac->audio, &ac97_params, err, sizeof(err));
                if (!ac->stream)
                        fprintf(stderr, "ac97: %s (playing to nowhere)\n", err);
        }
        b->sr &= (uint16_t) ~(SR_DCH | SR_CELV);
        if (!b->have_bd) {
                b->piv = (uint8_t)((b->civ + 1) % BDL_ENTRIES);
                if (!fetch_bd(ac, b)) {
                        update_irq(ac);
                        return;
                }
        }
        ac->ahead_until = 0;
        po_pump(ac);
}

static void write_cr(struct ac97 *ac, unsigned i, uint8_t v)
{
        struct box *b = &ac->box[i];
        if (v & CR_RR) {
                box_reset(b);
                if (i == BOX_PO)
                        disarm_timer(ac);
                update_irq(ac);
                return;
        }
        bool was_running = b->cr & CR_RPBM;
        b->cr = v & (CR_RPBM | CR_LVBIE | CR_FEIE | CR_IOCE);
        if ((v & CR_RPBM) && !was_running)
                start_box(ac, i);
        else if (!(v & CR_RPBM) && was_running) {
                b->sr |= SR_DCH; /* paused; the current buffer resumes where it stopped */
                if (i == BOX_PO) {
                        disarm_timer(ac);
                        audio_stream_drain(ac->stream);
                }
        }
        update_irq(ac);
}

static void write_lvi(struct ac97 *ac, unsigned i, uint8_t v)
{
        struct box *b = &ac->box[i];
        b->lvi = v % BDL_ENTRIES;
        /* Halted at the old last valid buffer: new buffers restart it. */
        if (i == BOX_PO && (b->cr & CR_RPBM) && (b->sr & SR_CELV) && b->lvi != b->civ) {
                b->civ = b->piv;
                b->piv = (uint8_t)((b->piv + 1) % BDL_ENTRIES);
                b->sr &= (uint16_t) ~(SR_DCH | SR_CELV);
                if (fetch_bd(ac, b)) {
                        ac->ahead_until = 0;
                        po_pump(ac);
                }
                update_irq(ac);
        }
}

static uint8_t box_read8(struct ac97 *ac, unsigned i, unsigned r)
{
        struct box *b = &ac->box[i];
        switch (r) {
        case R_BDBAR:
        case R_BDBAR + 1:
        case R_BDBAR + 2:
        case R_BDBAR + 3:
                return (uint8_t)(b->bdbar >> (8 * (r - R_BDBAR)));
        case R_CIV:
                return b->civ;
        case R_LVI:
                return b->lvi;
        case R_SR:
                return (uint8_t)b->sr;
        case R_SR + 1:
                return (uint8_t)(b->sr >> 8);
        case R_PICB:
                return (uint8_t)b->picb;
        case R_PICB + 1:
                return (uint8_t)(b->picb >> 8);
        case R_PIV:
                return b->piv;
        case R_CR:
                return b->cr;
        }
        return 0;
}

static void box_write8(struct ac97 *ac, unsigned i, unsigned r, uint8_t v)
{
        struct box *b = &ac->box[i];
        switch (r) {
        case R_BDBAR:
        case R_BDBAR + 1:
        case R_BDBAR + 2:
        case R_BDBAR + 3: {
                unsigned sh = 8 * (r - R_BDBAR);
                b->bdbar = (b->bdbar & ~(0xFFu << sh)) | (uint32_t)v << sh;
                b->bdbar &= ~7u; /* 8-byte aligned */
                break;
        }
        case R_LVI:
                write_lvi(ac, i, v);
                break;
        case R_SR:
                b->sr &= (uint16_t) ~(v & SR_RWC);
                update_irq(ac);
                break;
        case R_CR:
                write_cr(ac, i, v);
                break;
        default: /* CIV, PICB, PIV are read-only */
                break;
        }
}

static uint32_t glob_sta(struct ac97 *ac)
{
        uint32_t s = STA_PCR | ac->glob_sta_rwc;
        if (box_irq(&ac->box[BOX_PI]))
                s |= 0x20;
        if (box_irq(&ac->box[BOX_PO]))
                s |= 0x40;
        if (box_irq(&ac->box[BOX_MC]))
                s |= 0x80;
        return s;
}

static void nabm_access(struct ac97 *ac, uint64_t off, void *data, unsigned len, bool is_write)
{
        uint8_t *p = data;
        for (unsigned k = 0; k < len; k++) {
                unsigned o = (unsigned)off + k;
                if (o < NBOXES * BOX_STRIDE) {
                        if (is_write)
                                box_write8(ac, o / BOX_STRIDE, o % BOX_STRIDE, p[k]);
                        else
                                p[k] = box_read8(ac, o / BOX_STRIDE, o % BOX_STRIDE);
                } else if (o >= R_GLOB_CNT && o < R_GLOB_CNT + 4) {
                        unsigned sh = 8 * (o - R_GLOB_CNT);
                        if (is_write) {
                                ac->glob_cnt = (ac->glob_cnt & ~(0xFFu << sh)) | (uint32_t)p[k]
                                                                                     << sh;
                                ac->glob_cnt &= ~(uint32_t)CNT_WARM; /* a warm reset is instant */
                        } else
                                p[k] = (uint8_t)(ac->glob_cnt >> sh);
                } else if (o >= R_GLOB_STA && o < R_GLOB_STA + 4) {
                        unsigned sh = 8 * (o - R_GLOB_STA);
                        if (is_write)
                                ac->glob_sta_rwc &= ~((uint32_t)p[k] << sh & STA_RWC);
                        else
                                p[k] = (uint8_t)(glob_sta(ac) >> sh);
                } else if (!is_write) {
                        p[k] = 0; /* CAS reads 0: the codec is always free */
                }
        }
}

static void ac97_bar_access(struct pci_device *dev, unsigned bar, uint64_t off, void *data,
                            unsigned len, bool is_write)
{
        struct ac97 *ac = dev->opaque;
        if (bar == 0)
                nam_access(ac, off, data, len, is_write);
        else if (bar == 1)
                nabm_access(ac, off, data, len, is_write);
}

static void ac97_release(struct pci_device *dev)
{
        struct ac97 *ac = dev->opaque;
        audio_stream_close(ac->stream);
        if (ac->timer_fd >= 0) {
                evloop_del(ac->vm->loop, ac->timer_fd);
                close(ac->timer_fd);
        }
        free(ac);
}

static const struct pci_device_ops ac97_ops = {
    .bar_access = ac97_bar_access,
    .release = ac97_release,
};

void ac97_get_stats(struct ac97 *ac, struct ac97_stats *st)
{
        *st = ac->stats;
}

struct ac97 *ac97_add(struct pci_bus *bus, struct audio *audio, char *err, size_t errlen)
{
        struct ac97 *ac = calloc(1, sizeof(*ac));
        if (!ac) {
                snprintf(err, errlen, "ac97: out of memory");
                return NULL;
        }
        ac->vm = pci_bus_vm(bus);
        ac->audio = audio;
        ac->timer_fd = -1;
        nam_reset(ac);
        for (unsigned i = 0; i < NBOXES; i++)
                box_reset(&ac->box[i]);
        if (ac->vm->loop) {
                ac->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (ac->timer_fd < 0 ||
                    evloop_add(ac->vm->loop, ac->timer_fd, EPOLLIN, on_timer, ac) < 0) {
                        snprintf(err, errlen, "ac97: cannot create the playback timer");
                        if (ac->timer_fd >= 0)
                                close(ac->timer_fd);
                        free(ac);
                        return NULL;
                }
        }
        pci_device_init(&ac->pci, &ac97_ops, ac, "ac97", AC97_VENDOR, AC97_DEVICE, AC97_CLASS, 1);
        pci_device_set_subsystem(&ac->pci, AC97_VENDOR, 0);
        if (pci_device_add_bar(&ac->pci, 0, NAM_SIZE, PCI_BAR_IO) < 0 ||
            pci_device_add_bar(&ac->pci, 1, NABM_SIZE, PCI_BAR_IO) < 0) {
                snprintf(err, errlen, "ac97: cannot add BARs");
                ac97_release(&ac->pci);
                return NULL;
        }
        pci_device_enable_intx(&ac->pci);
        if (pci_bus_add_device(bus, &ac->pci, err, errlen) < 0) {
                ac97_release(&ac->pci);
                return NULL;
        }
        return ac;
}
