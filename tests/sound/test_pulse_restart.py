"""PulseAudio goes away in the middle of a tone: the guest keeps running
(the VMM stays up, the screen still follows keystrokes, buffers still
complete while the audio is dropped), and when a server comes back on the
same socket the backend reconnects and the next tone is heard."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from snd_harness import Pulse, Recorder, fail, wait_tone, skip_without  # noqa: E402
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
    pulse.wait_settled()

    mark = rec.mark()
    vm.type("9\n9\n")
    on, freq = wait_tone(rec, mark, min_len=4800)
    if on is None or abs(freq - 800) > 20:
        fail("no 800 Hz tone before the failure (got %s)" % freq)
    # Mid-tone (the error tone lasts 500 ms): the server dies.
    rec.stop()
    pulse.kill()
    rec = None
    t_kill = time.time()
    while vm.ctl.call("sound")["connected"]:
        if time.time() - t_kill > 5:
            fail("the backend did not notice the server going away")
        time.sleep(0.05)

    # The guest runs on: it logs in, sells, and its tone is played to nobody.
    st0 = vm.ctl.call("sound")
    login(vm)
    vm.type("1")
    vm.wait_screen("SELL TICKET")
    sell(vm, 1, 1, "20", "TICKET 000001 SAVED")
    time.sleep(0.5)
    st1 = vm.ctl.call("sound")
    if vm.proc.poll() is not None:
        fail("tandem-vmm exited while the server was away:\n" + vm.output())
    if st1["xfers"] < st0["xfers"] + 10 or st1["bytes_dropped"] <= st0["bytes_dropped"]:
        fail("buffers did not complete (and drop) while the server was away: %s -> %s" % (st0, st1))

    # A server comes back on the same socket: the backend reconnects.
    pulse.start()
    t_back = time.time()
    while True:
        st = vm.ctl.call("sound")
        if st["connected"] and st["reconnects"] >= 1:
            break
        if time.time() - t_back > 10:
            fail("no reconnect within 10 s: %s" % st)
        time.sleep(0.1)
    reconnect_ms = (time.time() - t_back) * 1000
    rec = Recorder(pulse)
    pulse.wait_settled()
    mark = rec.mark()
    sell(vm, 1, 2, "20", "TICKET 000002 SAVED")
    on, freq = wait_tone(rec, mark)
    if on is None or abs(freq - 1200) > 20:
        fail("no 1200 Hz sale tone after the server returned (got %s): %s" % (freq, vm.ctl.call("sound")))
    rc = vm.stop()
    if rc != 0:
        fail("tandem-vmm exit %d:\n%s" % (rc, vm.output()))
    print("PASS: guest ran on through a PulseAudio outage (%d bytes dropped); reconnected %.0f ms "
          "after the server returned; the next tone was heard at %d Hz"
          % (st1["bytes_dropped"] - st0["bytes_dropped"], reconnect_ms, freq))
finally:
    if vm and vm.proc.poll() is None:
        vm.kill()
    if rec:
        rec.stop()
    pulse.close()
