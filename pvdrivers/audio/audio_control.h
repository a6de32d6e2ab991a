/* The domain's sound on the VMM control socket (docs/vmm-control.md):
 *   {"cmd":"sound-mute","muted":true|false}  -> {"muted": ...}
 *   {"cmd":"sound"}                          -> backend, muted, connected, counters
 * and a "sound" object in every "stats" reply. */
#ifndef TANDEM_AUDIO_CONTROL_H
#define TANDEM_AUDIO_CONTROL_H

struct audio;
struct control;
struct virtio_device;

/* snd may be NULL (no sound device yet); returns 0 or -1. */
int audio_control_register(struct control *ctl, struct audio *a, struct virtio_device *snd);

#endif
