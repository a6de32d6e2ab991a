"""tandem-extract --since STATE: a second run moves only the tickets sold
since the first, plus cancellations of earlier tickets as status events;
the SQLite database accumulates; an unchanged disk moves nothing; a
rewritten ticket file is refused."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mig import MENV, extract, fail, jsonl, mcopy, mkdisk, report, ticket, totals, workdir  # noqa: E402

d = workdir()
img = os.path.join(d, "inc.img")
state = os.path.join(d, "state.json")
out = os.path.join(d, "out")
mkdisk(img)
recs = [ticket(i, "2026111814%02d00" % i, 1001, 1 + i % 2, 1, 100 * i, "S", "Åskväder")
        for i in range(1, 6)]
mcopy(img, "TICKETS.DAT", b"".join(recs))

r = extract(img, out, "--since", state)
if r.returncode != 0 or not os.path.exists(state):
    fail("first run: exit %d %s" % (r.returncode, r.stderr))
first = jsonl(os.path.join(out, "tickets.jsonl"))
if [(t["event"], t["number"]) for t in first] != [("new", i) for i in range(1, 6)]:
    fail("first run moved %s" % first)

# Three more sales and a cancel of ticket 2 (the status byte, in place).
recs[1] = recs[1][:42] + b"C" + recs[1][43:]
recs += [ticket(i, "2026111815%02d00" % i, 1002, 2, 3, 1000 + i, "S", "Mästerkatt")
         for i in range(6, 9)]
mcopy(img, "TICKETS.DAT", b"".join(recs))
r = extract(img, out, "--since", state)
if r.returncode != 0:
    fail("second run: exit %d %s" % (r.returncode, r.stderr))
second = [(t["event"], t["number"], t["status"]) for t in jsonl(os.path.join(out, "tickets.jsonl"))]
if second != [("status", 2, "C"), ("new", 6, "S"), ("new", 7, "S"), ("new", 8, "S")]:
    fail("second run moved %s" % second)
rep = report(out)
if rep["this_run"] != {"mode": "incremental", "tickets_new": 3, "tickets_status_changed": 1,
                       "racecard_moved": False, "operators_moved": False}:
    fail("second run report: %s" % rep["this_run"])
if jsonl(os.path.join(out, "racecard.jsonl")):
    fail("unchanged race card moved again")
sold, cancelled, stake = totals(recs)
db = sqlite3.connect(os.path.join(out, "legacy.sqlite"))
got = db.execute("SELECT count(*), sum(status = 'C'), sum(CASE status WHEN 'S' THEN stake_ore END) "
                 "FROM tickets").fetchone()
if got != (len(recs), cancelled, stake) or not rep["reconciled"]:
    fail("cumulative database %s, want %s" % (got, (len(recs), cancelled, stake)))
if db.execute("SELECT count(*) FROM racecard").fetchone() != (12,):
    fail("race card lost from the database on an incremental run")
db.close()

r = extract(img, out, "--since", state)
if r.returncode != 0 or jsonl(os.path.join(out, "tickets.jsonl")):
    fail("third run on an unchanged disk moved records: %s" % r.stdout)

# Someone rewrote ticket 1's stake: the state no longer describes the file.
recs[0] = recs[0][:33] + b"00009999" + recs[0][41:]
mcopy(img, "TICKETS.DAT", b"".join(recs))
r = extract(img, out, "--since", state)
if r.returncode != 3 or "rewritten" not in r.stderr or r.stderr.count("\n") != 1:
    fail("rewritten file: exit %d, stderr %r" % (r.returncode, r.stderr))
# The file shrinking below the extracted offset is refused the same way.
mcopy(img, "TICKETS.DAT", b"".join(recs[:2]))
r = extract(img, out, "--since", state)
if r.returncode != 3 or "rewritten" not in r.stderr:
    fail("shrunk file: exit %d, stderr %r" % (r.returncode, r.stderr))
__import__("subprocess").run(["mdel", "-i", img, "::TICKETS.DAT"], env=MENV)
r = extract(img, out, "--since", state)
if r.returncode != 3 or "gone" not in r.stderr:
    fail("deleted ticket file: exit %d, stderr %r" % (r.returncode, r.stderr))
with open(state, "w") as f:
    f.write("{not json")
r = extract(img, out, "--since", state)
if r.returncode != 3 or "state" not in r.stderr:
    fail("bad state file: exit %d, stderr %r" % (r.returncode, r.stderr))
print("PASS: incremental extraction moves new tickets and cancellations, refuses rewrites")
