/* Guest virtio-snd driver over the PV bus (docs/pv-abi.md §4.2): one
 * playback stream, 48 kHz mono S16, played in 10 ms periods. A tone is one
 * period of PCM filled once and queued again and again, so a beep costs the
 * guest a few hypercalls per period and no sample arithmetic after the
 * first. */
#ifndef TANDEM_PV_SOUNDFRONT_H
#define TANDEM_PV_SOUNDFRONT_H

#include <stdbool.h>
#include <stdint.h>

#define SOUND_TONE_SALE_HZ  1200
#define SOUND_TONE_SALE_MS  150
#define SOUND_TONE_ERROR_HZ 800
#define SOUND_TONE_ERROR_MS 500

/* Finds the sound device and starts its stream; 0 or TPV_E* (ENODEV when
 * the domain has no sound). */
int sound_init(void);
/* Plays a sine tone of hz (a multiple of 100, 100..4000) for ms. A tone
 * already playing is replaced. Without a sound device this does nothing. */
void sound_tone(uint32_t hz, uint32_t ms);
/* Port mask the kernel's event loop waits on (0 without a device). */
uint32_t sound_port_mask(void);
/* The device returned buffers: queue more of the tone or go quiet. */
void sound_event(void);

extern uint32_t sound_periods_played;

#endif
