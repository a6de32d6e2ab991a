/* The AC97 controller driven through port I/O and real guest memory, as
 * snd_intel8x0 would: codec registers, cold/warm reset, a buffer descriptor
 * list played into a real WAV file (compared sample for sample), interrupts
 * on INTx, restart after LVI moves, and hostile lists: descriptors and
 * buffers outside guest RAM, straddling its end, zero-length loops. Every
 * attack halts PCM out with FIFOE and the device keeps answering. The vm has
 * no KVM behind it: no pacing timer, so buffers play as soon as they are
 * valid. */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../pvdrivers/ac97/ac97.h"
#include "../../hv/pci/pci.h"
#include "../../pvdrivers/audio/audio.h"
#include "../unit/harness.h"

#define RAM  (16ull << 20)
#define BDL  0x10000
#define BUF0 0x20000

static struct vm vm;
static uint16_t nam, nabm;

static void io(uint16_t port, void *v, unsigned len, bool wr)
{
        io_bus_dispatch(&vm.pio, port, v, len, wr);
}
static uint8_t in8(uint16_t p)
{
        uint8_t v;
        io(p, &v, 1, false);
        return v;
}
static uint16_t in16(uint16_t p)
{
        uint16_t v;
        io(p, &v, 2, false);
        return v;
}
static uint32_t in32(uint16_t p)
{
        uint32_t v;
        io(p, &v, 4, false);
        return v;
}
static void out8(uint16_t p, uint8_t v)
{
        io(p, &v, 1, true);
}
static void out16(uint16_t p, uint16_t v)
{
        io(p, &v, 2, true);
}
static void out32(uint16_t p, uint32_t v)
{
        io(p, &v, 4, true);
}

/* PCM out box */
#define PO_BDBAR (nabm + 0x10)
#define PO_CIV   (nabm + 0x14)
#define PO_LVI   (nabm + 0x15)
#define PO_SR    (nabm + 0x16)
#define PO_PICB  (nabm + 0x18)
#define PO_CR    (nabm + 0x1B)
#define GLOB_CNT (nabm + 0x2C)
#define GLOB_STA (nabm + 0x30)

static void set_bd(unsigned i, uint32_t addr, uint16_t samples, uint16_t ctl)
{
        uint32_t e[2] = {addr, (uint32_t)samples | (uint32_t)ctl << 16};
        REQUIRE(guest_mem_write(&vm.mem, BDL + i * 8, e, sizeof(e)) == 0);
}

static void test_codec(void)
{
        CHECK_EQ(in16(nam + 0x7C), 0x5444);
        CHECK_EQ(in16(nam + 0x7E), 0x4D00);
        CHECK_EQ(in16(nam + 0x26) & 0xF, 0xF); /* ready bits */
        out16(nam + 0x02, 0x0505);             /* master volume */
        CHECK_EQ(in16(nam + 0x02), 0x0505);
        out8(nam + 0x03, 0x80); /* byte write to the high half: mute */
        CHECK_EQ(in16(nam + 0x02), 0x8005);
        out16(nam + 0x2C, 22050); /* no variable rate: stays 48 kHz */
        CHECK_EQ(in16(nam + 0x2C), 48000);
        out16(nam + 0x00, 0); /* codec reset */
        CHECK_EQ(in16(nam + 0x02), 0x8000);
}

static void test_global(void)
{
        out32(GLOB_CNT, 0x2);                  /* cold reset released */
        out32(GLOB_CNT, in32(GLOB_CNT) | 0x4); /* warm reset: completes at once */
        CHECK_EQ(in32(GLOB_CNT) & 0x4, 0);
        CHECK(in32(GLOB_STA) & 0x100);     /* primary codec ready */
        CHECK_EQ(in8(nabm + 0x34) & 1, 0); /* codec access semaphore free */
        CHECK_EQ(in16(PO_SR), 0x1);        /* halted after reset */
}

static int16_t sample_at(unsigned n)
{
        return (int16_t)(n * 37 - 20000);
}

/* Plays 3 buffers (300, 500, 100 samples) and then one more after moving LVI;
 * returns the number of samples queued. */
static unsigned test_play(struct ac97 *ac, struct pci_device *dev)
{
        static const uint16_t lens[4] = {300, 500, 100, 200};
        unsigned total = 0;
        for (unsigned i = 0; i < 4; i++) {
                for (unsigned k = 0; k < lens[i]; k++) {
                        int16_t s = sample_at(total + k);
                        REQUIRE(guest_mem_write(&vm.mem, BUF0 + i * 0x1000 + k * 2, &s, 2) == 0);
                }
                set_bd(i, BUF0 + i * 0x1000, lens[i], 0x8000 /* IOC */);
                total += lens[i];
        }
        out8(PO_CR, 0x02); /* reset registers */
        out32(PO_BDBAR, BDL);
        out8(PO_LVI, 2);
        out8(PO_CR, 0x01 | 0x04 | 0x10); /* run, LVB and IOC interrupts */
        struct ac97_stats st;
        ac97_get_stats(ac, &st);
        CHECK_EQ(st.buffers, 3);
        CHECK_EQ(st.samples, 900);
        CHECK_EQ(in8(PO_CIV), 2);
        uint16_t sr = in16(PO_SR);
        CHECK_EQ(sr & 0x0F, 0x1 | 0x2 | 0x4 | 0x8); /* DCH CELV LVBCI BCIS */
        CHECK(in32(GLOB_STA) & 0x40);               /* PCM out interrupt */
        CHECK(dev->intx_level);
        out16(PO_SR, 0x1C); /* write-1-to-clear */
        CHECK_EQ(in16(PO_SR) & 0x1C, 0);
        CHECK(!dev->intx_level);
        CHECK_EQ(in32(GLOB_STA) & 0x40, 0);
        /* The driver queues one more buffer: playback resumes at entry 3. */
        out8(PO_LVI, 3);
        ac97_get_stats(ac, &st);
        CHECK_EQ(st.samples, 1100);
        CHECK_EQ(in8(PO_CIV), 3);
        CHECK_EQ(in16(PO_PICB), 0);
        out8(PO_CR, 0); /* stop */
        CHECK(in16(PO_SR) & 0x1);
        out16(PO_SR, 0x1C);
        return total;
}

static void attack(struct ac97 *ac, struct pci_device *dev, uint32_t bdbar, uint8_t lvi,
                   const char *what)
{
        struct ac97_stats before, after;
        ac97_get_stats(ac, &before);
        out8(PO_CR, 0x02);
        out32(PO_BDBAR, bdbar);
        out8(PO_LVI, lvi);
        out8(PO_CR, 0x01 | 0x08); /* run, FIFO error interrupt */
        ac97_get_stats(ac, &after);
        uint16_t sr = in16(PO_SR);
        if (!(sr & 0x10) || !(sr & 0x1) || after.bdl_errors != before.bdl_errors + 1 ||
            !dev->intx_level) {
                fprintf(stderr, "FAIL: %s: SR 0x%x, errors %llu -> %llu, intx %d\n", what, sr,
                        (unsigned long long)before.bdl_errors, (unsigned long long)after.bdl_errors,
                        dev->intx_level);
                test_failures++;
        }
        CHECK_EQ(after.samples, before.samples); /* nothing from outside RAM was played */
        out16(PO_SR, 0x1C);
        out8(PO_CR, 0x02);
        CHECK(!dev->intx_level);
}

static void test_attacks(struct ac97 *ac, struct pci_device *dev)
{
        attack(ac, dev, 0xF0000000u, 0, "descriptor list in the PCI hole");
        /* The last 8 bytes of RAM hold a (zero-length) entry 0; entry 1
         * lies past the end. */
        attack(ac, dev, (uint32_t)RAM - 8, 1, "descriptor list running off the end of RAM");
        set_bd(0, 0xFFFFF000u, 100, 0);
        attack(ac, dev, BDL, 0, "buffer at the top of the 32-bit space");
        set_bd(0, (uint32_t)RAM - 4, 100, 0);
        attack(ac, dev, BDL, 0, "buffer straddling the end of RAM");
        set_bd(0, (uint32_t)RAM - 0x10000, 0xFFFF, 0);
        attack(ac, dev, BDL, 0, "buffer longer than the RAM left");
        /* A valid first buffer, then a bad second: the first plays, then the
         * channel halts. */
        set_bd(0, BUF0, 10, 0);
        set_bd(1, 0xE0000000u, 10, 0);
        struct ac97_stats st0, st1;
        ac97_get_stats(ac, &st0);
        out8(PO_CR, 0x02);
        out32(PO_BDBAR, BDL);
        out8(PO_LVI, 1);
        out8(PO_CR, 0x01);
        ac97_get_stats(ac, &st1);
        CHECK_EQ(st1.samples, st0.samples + 10);
        CHECK_EQ(st1.bdl_errors, st0.bdl_errors + 1);
        CHECK(in16(PO_SR) & 0x10);
        /* Zero-length descriptors with LVI one behind CIV: a full lap, then a halt. */
        for (unsigned i = 0; i < 32; i++)
                set_bd(i, BUF0, 0, 0);
        out8(PO_CR, 0x02);
        out32(PO_BDBAR, BDL);
        out8(PO_LVI, 31);
        out8(PO_CR, 0x01);
        CHECK(in16(PO_SR) & 0x1);
        out8(PO_CR, 0x02);
        /* Still answering after all that. */
        CHECK_EQ(in16(nam + 0x7C), 0x5444);
}

int main(void)
{
        memset(&vm, 0, sizeof(vm));
        vm.kvm_fd = vm.vm_fd = -1;
        pthread_mutex_init(&vm.lock, NULL);
        REQUIRE(guest_mem_init(&vm.mem, RAM) == 0);
        char err[256];
        char wav[] = "/tmp/tandem-ac97-XXXXXX";
        int fd = mkstemp(wav);
        REQUIRE(fd >= 0);
        close(fd);
        char spec[64];
        snprintf(spec, sizeof(spec), "wav:%s", wav);
        struct audio *audio = audio_open(spec, "test", err, sizeof(err));
        REQUIRE(audio);
        struct pci_bus *bus = pci_bus_create(&vm, err, sizeof(err));
        REQUIRE(bus);
        struct ac97 *ac = ac97_add(bus, audio, err, sizeof(err));
        REQUIRE(ac);
        struct pci_device *dev = pci_bus_device(bus, 1);
        REQUIRE(dev && dev->bar[0].mapped && dev->bar[1].mapped);
        CHECK_EQ(dev->cfg[0] | dev->cfg[1] << 8, 0x8086);
        CHECK_EQ(dev->cfg[2] | dev->cfg[3] << 8, 0x2415);
        CHECK_EQ(dev->cfg[PCI_INTERRUPT_PIN], 1);
        nam = (uint16_t)dev->bar[0].mapped_addr;
        nabm = (uint16_t)dev->bar[1].mapped_addr;

        test_codec();
        test_global();
        unsigned total = test_play(ac, dev);

        /* The WAV file holds exactly the samples played, in order. */
        int wfd = open(wav, O_RDONLY);
        REQUIRE(wfd >= 0);
        static unsigned char file[44 + 4096];
        ssize_t n = read(wfd, file, sizeof(file));
        close(wfd);
        CHECK_EQ(n, 44 + total * 2);
        CHECK(memcmp(file, "RIFF", 4) == 0 && memcmp(file + 8, "WAVEfmt ", 8) == 0);
        CHECK_EQ(file[22], 2);                                      /* stereo */
        CHECK_EQ(file[24] | file[25] << 8 | file[26] << 16, 48000); /* rate */
        for (unsigned k = 0; k < total && n == (ssize_t)(44 + total * 2); k++) {
                int16_t s = (int16_t)(file[44 + 2 * k] | file[45 + 2 * k] << 8);
                if (s != sample_at(k)) {
                        fprintf(stderr, "FAIL: sample %u is %d, expected %d\n", k, s, sample_at(k));
                        test_failures++;
                        break;
                }
        }

        test_attacks(ac, dev);

        pci_bus_destroy(bus);
        audio_close(audio);
        unlink(wav);
        guest_mem_destroy(&vm.mem);
        TEST_END();
}
