"""Audio latency from a guest write to the PulseAudio sink, measured end to
end: the legacy guest plays its error tone (PV sound, virtio-snd) into a
private PulseAudio server with a null sink; parec records the sink monitor.

For each of N tones:
  kick->monitor  the guest's kick (CLOCK_MONOTONIC, reported by the device)
                 to the arrival of the tone's first sample at parec (an upper
                 bound: parec's own 5 ms fragments are included)
  sink           the null sink's latency at that moment (pactl): how long a
                 rendered sample waits before it would leave a real device
  end-to-end     kick->monitor + sink
  pa-stream      PulseAudio's own estimate for our stream after the first
                 write (pa_stream_get_latency: buffered in the server + sink)

usage: python3 bench/sound/latency.py [BUILD_DIR] [N]   (default build, 10)"""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
build = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
os.environ["TANDEM_BUILD"] = build
sys.path.insert(0, os.path.join(ROOT, "tests", "sound"))
from snd_harness import Pulse, Recorder, fail, wait_quiet, wait_tone  # noqa: E402
from legacy_harness import Legacy, mkdisk, workdir  # noqa: E402

pulse = Pulse()
rec = vm = None
rows = []
try:
    pulse.start()
    rec = Recorder(pulse)
    disk = os.path.join(workdir(), "data.img")
    mkdisk(disk)
    vm = Legacy(disk, extra=["--sound", "pulse:" + pulse.server])
    vm.connect()
    vm.wait_screen("OPERATOR LOGIN")
    pulse.wait_settled()
    for i in range(runs):
        mark = wait_quiet(rec)
        vm.type("9\n9\n")
        on, freq = wait_tone(rec, mark)
        if on is None:
            fail("tone %d not heard" % i)
        st = vm.ctl.call("sound")
        sink_us = pulse.sink_latency_us() or 0
        mon_ms = (rec.time_of(on) - st["start_kick_ns"] / 1e9) * 1000
        rows.append((mon_ms, sink_us / 1000, mon_ms + sink_us / 1000,
                     st["sink_latency_us"] / 1000, st["underruns"]))
        time.sleep(0.2)
    vm.stop()
finally:
    if vm and vm.proc.poll() is None:
        vm.kill()
    if rec:
        rec.stop()
    pulse.close()

names = ["kick->monitor", "sink", "end-to-end", "pa-stream"]
print("sound latency over %d tones (ms): median / max" % len(rows))
for k, name in enumerate(names):
    col = [r[k] for r in rows]
    print("  %-14s %6.1f / %6.1f" % (name, statistics.median(col), max(col)))
print("  underruns after the run: %d" % rows[-1][4])
