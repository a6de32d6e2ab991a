"""tandemd keeps answering while a phase's migration tools work: a phase
whose sync job copies a 127 MiB legacy disk holding 300 000 tickets and
extracts them runs cp and tandem-extract as children watched by the event
loop. While they run, `list` answers within a second each time, and
`phase-status` names the step and its number; subscribers get one
phase-progress event per step and a final "done"; the apply's reply comes
when the extraction is over, and its records reconcile."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mig import MENV, MKDISK, ticket  # noqa: E402
from phaselib import Client, Fail, PhaseEnv  # noqa: E402

N = 300000
PLAN = """\
title = "a big sync"

[domain till]
config = "till.cfg"
stop_timeout = 1

[sync tickets]
from = "till"
out = "extract"

[phase 1]
title = "the till runs; its tickets are extracted"
run = [ "till" ]
sync = [ "tickets" ]
"""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def big_disk(env):
    img = os.path.join(env.dir, "big.img")
    r = subprocess.run([MKDISK, "--force", "--size-mb", "127", img], capture_output=True, text=True)
    check(r.returncode == 0, "legacy-mkdisk: %s" % r.stderr)
    src = os.path.join(env.dir, "tickets.bin")
    with open(src, "wb") as f:
        f.write(b"".join(ticket(i, "20261120%02d%02d00" % (10 + i % 12, i % 60), 1001, 1 + i % 3,
                                1 + i % 5, 100 + i % 997, "S", "Åskväder") for i in range(1, N + 1)))
    r = subprocess.run(["mcopy", "-o", "-i", img, src, "::TICKETS.DAT"], capture_output=True,
                       text=True, env=MENV)
    check(r.returncode == 0, "mcopy: %s" % r.stderr)
    os.unlink(src)
    return img


def main(env):
    img = big_disk(env)
    env.config("till", extra="disk = [ '%s,raw,xvda,rw' ]\n" % img)
    env.start()
    c = Client(env.sock)
    sub = Client(env.sock)
    sub.call("subscribe", topics=["event"])
    plan = env.plan("big.tp", text=PLAN)
    steps = env.cli_json("phase", "plan", plan)["steps"]
    check([s.split()[0] for s in steps] == ["start", "pause", "snapshot", "unpause", "sync"],
          "steps: %s" % steps)

    apply = subprocess.Popen([env.tandem, "phase", "apply", plan], env=env.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    during_tools, seen = 0, set()
    while apply.poll() is None:
        t0 = time.monotonic()
        doms = c.call("list")["domains"]
        st = c.call("phase-status")
        dt = time.monotonic() - t0
        check(dt < 1.0, "list and phase-status took %.2f s during %s" % (dt, st["applying"]))
        step = st["applying"] or ""
        if step.startswith(("snapshot", "sync")):
            during_tools += 1
            seen.add(step.split()[0])
            check(st["steps"] == len(steps) and steps[st["step"] - 1] == step and
                  [d["name"] for d in doms] == ["till"], "status during the sync: %s" % st)
        time.sleep(0.01)
    out, err = apply.communicate()
    check(apply.returncode == 0, "apply: exit %d %s" % (apply.returncode, err))
    check(seen == {"snapshot", "sync"} and during_tools >= 2,
          "tandemd answered only %d times while the tools ran (steps seen: %s)" %
          (during_tools, seen))

    sub.call("version")  # every event of the apply came before this reply
    prog = [e for e in sub.events if e["event"] == "phase-progress"]
    check([(e["step"], e["steps"], e["state"], e["text"]) for e in prog] ==
          [(i + 1, len(steps), "running", s) for i, s in enumerate(steps)] +
          [(len(steps) + 1, len(steps), "done", None)], "progress events: %s" % prog)
    st = c.call("phase-status")
    check(st["phase"] == 1 and st["applying"] is None and st["steps"] == 0, "status: %s" % st)
    with open(os.path.join(env.dir, "extract", "report.json")) as f:
        rep = json.load(f)
    check(rep["tickets"]["sold"] == N and rep["reconciled"], "report: %s" % rep["tickets"])
    check(not os.path.exists(os.path.join(env.dir, "extract", "snapshot.img")),
          "the snapshot was left behind")
    print("PASS: tandemd answered %d times while the sync's tools ran" % during_tools)


if __name__ == "__main__":
    env = PhaseEnv(sys.argv)
    try:
        main(env)
    except Fail as e:
        print("FAIL:", e)
        print(env.daemon_log())
        sys.exit(1)
    finally:
        env.cleanup()
