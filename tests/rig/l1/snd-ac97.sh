# rig-bin: hv/tandem-vmm
# Sound through emulated AC97: the unmodified L2 kernel loads snd_intel8x0
# and plays one second of noise with aplay (L2 scenario "snd"); tandem-vmm
# writes what the guest's DMA delivered to a WAV file. The file must be
# 48 kHz 16-bit stereo and its samples must start with exactly the bytes L2
# played (hw:0,0, so nothing was resampled); the driver may let the DMA run
# on for part of a period after the end before it stops the channel, so a
# short tail is allowed.
. /rig/lib.sh
bytes=192000
wav=$RIG_WORK/out.wav
rig_boot_l2 tandem l2 --mem 256M --scenario snd --arg "$bytes" --timeout 240 \
	--vmm-arg --sound --vmm-arg "wav:$wav"
[ "$RIG_RC" = 0 ] || rig_fail "tandem exited with status $RIG_RC"
rig_expect l2 "L2-PLAYED"
rig_expect l2 "L2-RESULT snd PASS"
[ -f "$wav" ] || rig_fail "no WAV file from the VMM"
want=$(grep '^L2-IN ' "$RIG_WORK/l2.console" | cut -d' ' -f2)
# RIFF header: 44 bytes; channels at 22, rate at 24 (little-endian).
hdr=$(head -c 28 "$wav" | od -An -tu1 | tr -s ' \n' ' ')
set -- $hdr
[ "$1 $2 $3 $4" = "82 73 70 70" ] || rig_fail "$wav is not a RIFF file"
[ "${23}" = 2 ] || rig_fail "WAV has ${23} channels, expected 2"
rate=$(( ${25} + ${26} * 256 + ${27} * 65536 ))
[ "$rate" = 48000 ] || rig_fail "WAV rate is $rate, expected 48000"
# snd_intel8x0 measured the AC97 clock when it was first loaded at boot by
# playing silence; the noise starts at the first frame that is not zero.
skip=$(od -An -v -tu1 -w4 "$wav" |
	awk 'NR > 11 && !($1 == 0 && $2 == 0 && $3 == 0 && $4 == 0) { print (NR - 1) * 4; exit }')
[ -n "$skip" ] || rig_fail "the WAV file holds only silence"
lead=$((skip - 44))
size=$(( $(wc -c <"$wav") - skip ))
[ "$size" -ge "$bytes" ] || rig_fail "WAV holds $size bytes of PCM after $lead bytes of silence, L2 played $bytes"
extra=$((size - bytes))
[ "$extra" -le 38400 ] || rig_fail "WAV holds $extra bytes past the end of what L2 played"
got=$(tail -c +$((skip + 1)) "$wav" | head -c "$bytes" | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || rig_fail "the $bytes bytes of PCM after $lead bytes of silence differ from what L2 played (md5 $got, L2 $want)"
rig_report "snd-ac97: $bytes bytes played by aplay arrived intact after $lead bytes of silence (the driver's clock probe), $extra bytes of tail"
