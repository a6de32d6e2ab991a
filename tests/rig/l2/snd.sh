# L2 scenario "snd": an unmodified Debian kernel plays PCM through Tandem's
# emulated AC97 with snd_intel8x0 and aplay. $1 is the number of bytes of
# 16-bit stereo 48 kHz noise to play; L2 prints their MD5 so that L1 can
# compare them with what reached the VMM's WAV-file backend.
. /scenarios/lib.sh
bytes=${1:-96000}
# The driver measures the AC97 clock against jiffies at probe; under nested
# emulation that measures nonsense and would shift every rate. The clock is
# 48 kHz by construction, so say so (insmod takes no modprobe.conf).
rmmod snd_intel8x0 2>/dev/null
insmod /lib/modules/snd_intel8x0.ko ac97_clock=48000 || { echo "L2: insmod snd_intel8x0 failed"; exit 1; }
i=0
while [ ! -c /dev/snd/pcmC0D0p ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "L2: /dev/snd/pcmC0D0p did not appear ($(ls /dev/snd 2>&1))"; exit 1; }
	sleep 0.1
done
echo "L2-CARD $(head -n 1 /proc/asound/cards)"
head -c "$bytes" /dev/urandom >/tmp/in.raw
echo "L2-IN $(md5sum </tmp/in.raw | cut -d' ' -f1) $bytes"
# hw:0,0: no plug layer, so nothing is resampled or converted on the way.
/usr/bin/aplay -q -D hw:0,0 -t raw -f S16_LE -r 48000 -c 2 /tmp/in.raw || { echo "L2: aplay failed"; exit 1; }
echo "L2-PLAYED"
exit 0
