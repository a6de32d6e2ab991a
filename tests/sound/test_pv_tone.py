"""The legacy guest plays its tones through PV sound (virtio-snd on the PV
bus) into a real PulseAudio server: the null sink's monitor, recorded with
parec, carries the error tone (800 Hz, 500 ms) after a bad login and the
sale tone (1200 Hz) after a sale; a muted domain stays silent while the
guest still plays. Prints the end-to-end latency (guest kick to audio at the
sink monitor, an upper bound)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from snd_harness import RATE, Pulse, Recorder, fail, wait_quiet, wait_tone, skip_without  # noqa: E402
from legacy_harness import Legacy, login, mkdisk, sell, skip_without_kvm, workdir  # noqa: E402

skip_without_kvm()
skip_without("pulseaudio", "parec", "pactl")
pulse = Pulse()
rec = vm = None
try:
    pulse.start()
    rec = Recorder(pulse)
    disk = os.path.join(workdir(), "data.img")
    mkdisk(disk)
    vm = Legacy(disk, extra=["--sound", "pulse:" + pulse.server])
    vm.connect()
    vm.wait_screen("OPERATOR LOGIN")
    st = vm.ctl.call("sound")
    if not st.get("ok") or st.get("backend") != "pulse" or st.get("starts") != 1:
        fail("the guest did not start its PV sound stream: %s\n%s" % (st, vm.output()))
    pulse.wait_settled()

    # Error tone: a bad login.
    mark = rec.mark()
    vm.type("9\n9\n")
    vm.wait_screen("INVALID OPERATOR")
    on, freq = wait_tone(rec, mark)
    if on is None:
        fail("no tone reached the sink after a bad login: %s\n%s" % (vm.ctl.call("sound"), vm.output()))
    if abs(freq - 800) > 20:
        fail("error tone at %d Hz, expected 800 Hz" % freq)
    st = vm.ctl.call("sound")
    t_on = rec.time_of(on)
    latency_ms = (t_on - st["start_kick_ns"] / 1e9) * 1000
    if latency_ms < 0:
        fail("tone recorded %.1f ms before the guest queued it (clock mix-up?)" % -latency_ms)
    # The whole beep arrived: 500 ms of tone in 10 ms blocks. A host too
    # loaded to wake the guest in time leaves gaps (underruns), not losses,
    # so count the blocks that carry tone instead of timing the span.
    x = rec.snapshot()
    while len(x) < on + 2 * RATE:
        x = rec.snapshot()
    blocks = sum(1 for b in range(on, on + 2 * RATE, 480)
                 if max(abs(v) for v in x[b:b + 480]) >= 3000)
    length_ms = blocks * 10
    if not 480 <= length_ms <= 520:
        fail("the error tone filled %d ms at the sink, expected 500 ms (dropped audio?): %s" % (length_ms, st))
    print("error tone: %d Hz, %d ms of tone (%d underruns), latency guest kick -> sink monitor "
          "%.1f ms (device start wait %d us, PulseAudio stream latency %d us)"
          % (freq, length_ms, st["underruns"], latency_ms, st["start_wait_us"], st["sink_latency_us"]))

    # Sale tone: a different frequency, so the test cannot pass on a fixed tone.
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    mark = rec.mark()
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED")
    on, freq = wait_tone(rec, mark)
    if on is None or abs(freq - 1200) > 20:
        fail("sale tone: expected 1200 Hz, got %s" % freq)
    print("sale tone: %d Hz" % freq)

    # Muted: the guest still plays (buffers complete), the sink hears nothing.
    r = vm.ctl.call("sound-mute", muted=True)
    if not r.get("ok") or r.get("muted") is not True:
        fail("sound-mute: %s" % r)
    mark = wait_quiet(rec)
    before = vm.ctl.call("sound")["xfers"]
    sell(vm, 1, 2, "20", "TICKET 000002 SAVED")
    on, freq = wait_tone(rec, mark, timeout=3)
    after = vm.ctl.call("sound")
    if on is not None:
        fail("a muted domain was heard (%s Hz)" % freq)
    if after["xfers"] < before + 15:
        fail("the guest's buffers did not complete while muted: %s" % after)
    vm.ctl.call("sound-mute", muted=False)
    rc = vm.stop()
    if rc != 0:
        fail("tandem-vmm exit %d:\n%s" % (rc, vm.output()))
    print("PASS: PV sound tones reach PulseAudio at the right frequencies; mute silences the domain")
finally:
    if vm and vm.proc.poll() is None:
        vm.kill()
    if rec:
        rec.stop()
    pulse.close()
