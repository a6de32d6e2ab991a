"""Bad phase plans, each refused by `tandem phase plan` and `apply` with
one precise line (PLAN:LINE:COLUMN) and exit 6; a skipped phase refused at
apply time too; nothing is started and the phase stays 0."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from phaselib import PLAN, Client, Fail, PhaseEnv  # noqa: E402

GOOD = PLAN.format(linux_cfg="linux.cfg")


def line_col(text, needle, offset=0):
    """1-based line and column of needle (+offset columns) in text."""
    i = text.index(needle)
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1) + 1 + offset


def cases():
    out = []
    # one device given to two domains
    t = GOOD.replace('devices = [ "printer -> linux" ]\nroutes = [ "ticket-sales -> legacy"',
                     'devices = [ "printer -> legacy", "printer -> linux" ]\n'
                     'routes = [ "ticket-sales -> legacy"')
    ln, col = line_col(t, '"printer -> linux" ]\nroutes = [ "ticket-sales -> legacy"')
    _, first = line_col(t, '"printer -> legacy", "printer -> linux"')
    out.append(("two-owners", t, "%d:%d: phase 2: devices: device 'printer' is given to two "
                "domains, 'legacy' (column %d) and 'linux'" % (ln, col, first)))
    # unknown domain, the column points at the name inside the string
    t = GOOD.replace('run = [ "legacy", "linux" ]', 'run = [ "legacy", "linx" ]')
    ln, col = line_col(t, '"linx"', 1)
    out.append(("unknown-domain", t, "%d:%d: phase 2: run: unknown domain 'linx' (the plan's "
                "domains: legacy, linux)" % (ln, col)))
    t = GOOD.replace('"results -> linux" ]\nkiosk = [ "legacy", "linux" ]',
                     '"results -> newsys" ]\nkiosk = [ "legacy", "linux" ]')
    ln, col = line_col(t, '"results -> newsys"', len("results -> ") + 1)
    out.append(("unknown-route-domain", t, "%d:%d: phase 2: routes: unknown domain 'newsys'"
                % (ln, col)))
    # a skipped phase
    t = GOOD.replace("[phase 2]", "[phase 4]")
    ln, _ = line_col(t, "[phase 4]")
    n3, _ = line_col(t, "[phase 3]")
    out.append(("skipped-phase", t, "%d:1: phase 3 follows phase 1: phase 2 is missing (phases "
                "go one at a time)" % n3))
    # syntax errors
    t = GOOD.replace('kiosk = [ "legacy" ]', 'kiosk = [ "legacy" "linux" ]')
    ln, col = line_col(t, '"linux" ]', 0)
    out.append(("syntax-list", t, "%d:%d: expected ',' or ']' in a list, found '\"'" % (ln, col)))
    t = GOOD.replace('title = "legacy retired"', "title = legacy retired")
    ln, col = line_col(t, "legacy retired")
    out.append(("syntax-bare", t, "%d:%d: expected a quoted string, a number or a list, found "
                "'l'" % (ln, col)))
    t = GOOD.replace('[sync tickets]', '[sync tickets')
    ln, col = line_col(t, '[sync tickets', len("[sync tickets"))
    out.append(("syntax-header", t, "%d:%d: expected ']' to close the section header" % (ln, col)))
    t = GOOD.replace('usb = "printer:printer.prn"', 'usb = "printer:printer.prn')
    ln, col = line_col(t, '"printer:printer.prn')
    out.append(("syntax-string", t, "%d:%d: unterminated string" % (ln, col)))
    # meaning
    t = GOOD.replace('stop_timeout = 1', 'stop_timeout = 1\nstop_timeout = 2')
    ln, col = line_col(t, 'stop_timeout = 2')
    out.append(("key-twice", t, "%d:%d: 'stop_timeout' is set twice in this section (first on "
                "line %d)" % (ln, col, ln - 1)))
    t = GOOD.replace('kiosk = [ "linux" ]', 'kiosk = [ "linux" ]\nprinters = [ ]')
    ln, col = line_col(t, 'printers')
    out.append(("unknown-key", t, "%d:%d: unknown key 'printers' in [phase 3]" % (ln, col)))
    t = GOOD.replace('run = [ "linux" ]\nretire', 'run = [ "linux", "legacy" ]\nretire')
    out.append(("run-and-retire", t, "phase 3: legacy is both run and retired"))
    t = GOOD.replace('devices = [ "printer -> legacy" ]', 'devices = [ "printer -> linux" ]')
    ln, col = line_col(t, '"printer -> linux" ]\nroutes = [ "ticket-sales -> legacy", "results -> legacy"')
    out.append(("owner-not-running", t, "%d:%d: phase 1: devices: 'printer' goes to linux, which "
                "does not run in phase 1" % (ln, col)))
    t = GOOD.replace('devices = [ "printer -> legacy" ]', 'devices = [ "scanner -> legacy" ]')
    ln, col = line_col(t, '"scanner -> legacy"', 1)
    out.append(("unknown-device", t, "%d:%d: phase 1: devices: unknown device 'scanner'" % (ln, col)))
    return out


def main(env):
    env.start()
    c = Client(env.sock)
    for name, text, want in cases():
        path = env.plan(name + ".tp", text=text)
        for sub in ("plan", "apply"):
            r = env.cli("phase", sub, path, check_rc=None)
            err = r.stderr.strip()
            if r.returncode != 6 or err.count("\n") or want not in err or \
                    not err.startswith("tandem: " + path + ":"):
                raise Fail("%s (%s): exit %d, %r; want %r" % (name, sub, r.returncode, err, want))
    # The domain config is checked through the xl.cfg parser.
    with open(os.path.join(env.dir, "broken.cfg"), "w") as f:
        f.write('name = "linux"\nkernel = "k"\nmemory = "lots"\n')
    path = env.plan("badcfg.tp", linux_cfg="broken.cfg")
    r = env.cli("phase", "plan", path, check_rc=6)
    if "broken.cfg:3:" not in r.stderr or "domain linux:" not in r.stderr:
        raise Fail("bad domain config: %r" % r.stderr)
    # Skipping a phase at apply time.
    good = env.plan()
    r = env.cli("phase", "apply", good, "--phase", "2", check_rc=5)
    if "cannot go from phase 0 to phase 2: phases go one at a time" not in r.stderr:
        raise Fail("skip at apply: %r" % r.stderr)
    r = env.cli("phase", "apply", good, "--phase", "9", check_rc=5)
    if "has 3 phases; phase 9 is past the last" not in r.stderr:
        raise Fail("past the last: %r" % r.stderr)
    r = env.cli("phase", "rollback", check_rc=5)
    if "nothing to roll back" not in r.stderr:
        raise Fail("rollback at 0: %r" % r.stderr)
    r = env.cli("phase", "plan", os.path.join(env.dir, "nonexistent.tp"), check_rc=6)
    if "nonexistent.tp: No such file" not in r.stderr:
        raise Fail("missing plan: %r" % r.stderr)
    if c.call("list")["domains"] or env.cli_json("phase", "status")["phase"] != 0:
        raise Fail("a refused plan changed something")
    if env.cli_json("phase", "history")["history"]:
        raise Fail("refused plans recorded as history")
    print("PASS: %d bad plans refused with line:column" % len(cases()))


if __name__ == "__main__":
    env = PhaseEnv(sys.argv)
    try:
        main(env)
    except Fail as e:
        print("FAIL:", e)
        sys.exit(1)
    finally:
        env.cleanup()
