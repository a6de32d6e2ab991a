/* An emulated Intel ICH AC97 controller (82801AA, 8086:2415) with one AC97
 * codec: what Debian's snd_intel8x0 drives. BAR 0 is the codec's mixer
 * (NAM, 256 bytes of I/O), BAR 1 the bus master (NABM, 64 bytes of I/O) with
 * the PCM in, PCM out and mic boxes. Only PCM out moves audio: its buffer
 * descriptor list is read from guest RAM at the audio's real-time rate and
 * the samples (16-bit stereo, 48 kHz; no variable rate) go to the domain's
 * audio backend. Interrupts are INTx (pin A, level).
 *
 * Every BDL address the guest programs is checked against guest RAM when it
 * is used: a list or a buffer outside RAM halts the channel with FIFOE set
 * (and its interrupt, if enabled), logs one line, and leaves the VMM and the
 * guest running. See docs/sound.md. */
#ifndef TANDEM_AC97_H
#define TANDEM_AC97_H

#include <stddef.h>
#include <stdint.h>

struct audio;
struct pci_bus;
struct ac97;

struct ac97_stats {
        uint64_t buffers;    /* buffer descriptors completed */
        uint64_t samples;    /* 16-bit samples played */
        uint64_t bdl_errors; /* descriptors or buffers outside guest RAM */
        uint64_t irqs;       /* interrupt assertions */
};

/* Adds the controller to bus. With the VM's event loop, PCM out is paced by
 * a timer; without one (unit tests) every valid buffer up to LVI plays at
 * once when the guest starts the channel or moves LVI. */
struct ac97 *ac97_add(struct pci_bus *bus, struct audio *audio, char *err, size_t errlen);
void ac97_get_stats(struct ac97 *ac, struct ac97_stats *st);

#endif
