/* Stand-in for audio_pulse.c when libpulse is not available at build time. */
#include <stdio.h>

#include "audio_backend.h"

static int pulse_absent(struct audio *a, const char *arg, char *err, size_t errlen)
{
        (void)a, (void)arg;
        snprintf(err, errlen, "sound: this tandem-vmm was built without PulseAudio (libpulse-dev)");
        return -1;
}

const struct audio_backend_ops audio_pulse_ops = {
    .name = "pulse",
    .open = pulse_absent,
};
