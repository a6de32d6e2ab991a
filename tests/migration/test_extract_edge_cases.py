"""tandem-extract on crafted legacy disks (mtools places the files): accented
CP850 names, a torn last record from a power cut, a FAT cluster freed by a
deleted file and reused by TICKETS.DAT, a day without sales, an undecodable
record (named with file and offset), a stray file; then a disk with no
tickets at all. Totals are recomputed here from the raw records."""
import csv
import hashlib
import os
import sqlite3
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from mig import (extract, fail, jsonl, mcopy, mdel, mkdisk, report, runner, ticket,  # noqa: E402
                 totals, workdir)

d = workdir()
img = os.path.join(d, "edge.img")
mkdisk(img)

card = [runner(1, "Örebro", "14:05", 1, "Östanvind"), runner(1, "Örebro", "14:05", 2, "Café Crème"),
        runner(2, "Åby", "14:40", 1, "Älvdansen"), runner(2, "Åby", "14:40", 2, "Snöstorm")]
mcopy(img, "RACECARD.DAT", b"".join(card))

# A deleted file leaves ticket-shaped garbage in the clusters TICKETS.DAT
# will reuse: a reader that reads whole clusters would find ticket 900001.
old = b"".join(ticket(900001 + i, "20261101120000", 1001, 1, 1, 500000, "S", "Stale")
               for i in range(96))
mcopy(img, "OLDLOG.DAT", old)
mdel(img, "OLDLOG.DAT")

recs = [
    ticket(1, "20261118140102", 1001, 1, 1, 1250, "S", "Östanvind"),
    ticket(2, "20261118140230", 1002, 1, 2, 2000, "C", "Café Crème"),
    ticket(3, "20261118141500", 1001, 2, 1, 25000, "S", "Älvdansen"),
    # JSON and CSV escapes: a quote, a comma and a backslash in a name
    ticket(4, "20261118142000", 1002, 2, 2, 705, "S", 'Snö "B", C\\D'),
    # 2026-11-19: no sales at all (the terminal was closed)
    ticket(5, "20261120100000", 1001, 1, 1, 100, "S", "Östanvind"),
]
bad = bytearray(ticket(6, "20261120100500", 1001, 2, 1, 5000, "S", "Älvdansen"))
bad[33:41] = b"0000A500"  # damaged stake digits
recs.append(bytes(bad))
recs.append(ticket(7, "20261120101000", 1002, 2, 2, 500000, "S", "Snöstorm"))
torn = ticket(8, "20261120101500", 1001, 1, 2, 3000, "S", "Café Crème")[:30]
data = b"".join(recs) + torn
mcopy(img, "TICKETS.DAT", data)

# The scenario must really be there: the deleted entry's first cluster is
# the one TICKETS.DAT now starts at.
raw = open(img, "rb").read()
bps, spc, res, nfats, nroot = struct.unpack_from("<HBHBH", raw, 11)
fatsz = struct.unpack_from("<H", raw, 22)[0]
root = (res + nfats * fatsz) * bps
ents = {}
for i in range(nroot):
    e = raw[root + 32 * i: root + 32 * i + 32]
    if e[0] == 0:
        break
    ents.setdefault(e[:11], struct.unpack_from("<H", e, 26)[0])
if ents.get(b"\xe5LDLOG  DAT") != ents.get(b"TICKETS DAT"):
    fail("test setup: TICKETS.DAT did not reuse the deleted file's cluster: %r" % ents)

mcopy(img, "NOTES.TXT", "Kassan stängd 19/11\r\n".encode("cp850"))
out = os.path.join(d, "out")
before = hashlib.sha256(open(img, "rb").read()).hexdigest()
r = extract(img, out)
if hashlib.sha256(open(img, "rb").read()).hexdigest() != before:
    fail("extraction modified the image")
if r.returncode != 1 or "NOT reconciled" not in r.stdout:
    fail("expected exit 1 (undecodable records), got %d: %s%s" % (r.returncode, r.stdout, r.stderr))
rep = report(out)

# Nothing silently dropped: the damaged and the torn record are named.
badl = [(b["file"], b["offset"], b["length"]) for b in rep["undecodable"]]
if badl != [("TICKETS.DAT", 320, 64), ("TICKETS.DAT", 448, 30)]:
    fail("undecodable records: %s" % rep["undecodable"])
if "stake" not in rep["undecodable"][0]["reason"] or \
        "partial" not in rep["undecodable"][1]["reason"]:
    fail("reasons do not say what is wrong: %s" % rep["undecodable"])
if rep["undecodable"][0]["hex"] != bytes(bad).hex() or rep["undecodable"][1]["hex"] != torn.hex():
    fail("undecodable bytes not preserved in the report")
if not rep["all_bytes_accounted"]:
    fail("report says bytes are unaccounted for")
txt = open(os.path.join(out, "report.txt"), encoding="utf-8").read()
if "TICKETS.DAT at byte 320" not in txt or "TICKETS.DAT at byte 448" not in txt:
    fail("report.txt does not name file and offset:\n" + txt)

good = [x for x in recs if x != bytes(bad)]
sold, cancelled, stake = totals(good)
tk = rep["tickets"]
if (tk["records"], tk["sold"], tk["cancelled"], tk["stake_total_ore"]) != \
        (len(good), sold, cancelled, stake):
    fail("ticket totals %s, want %s" % (tk, (len(good), sold, cancelled, stake)))
if tk["cancelled_numbers"] != [2]:
    fail("cancelled tickets: %s" % tk["cancelled_numbers"])
days = {x["day"]: (x["sold"], x["cancelled"], x["stake_ore"]) for x in tk["by_day"]}
want_days = {}
for x in good:
    day = x[7:15].decode()
    s, c, st = want_days.get(day, (0, 0, 0))
    want_days[day] = (s + (x[42:43] == b"S"), c + (x[42:43] == b"C"),
                      st + (int(x[33:41]) if x[42:43] == b"S" else 0))
if days != want_days or "20261119" in days:
    fail("per-day totals %s, want %s" % (days, want_days))
races = {x["race"]: x["stake_ore"] for x in tk["by_race"]}
want_races = {}
for x in good:
    if x[42:43] == b"S":
        want_races[int(x[27:29])] = want_races.get(int(x[27:29]), 0) + int(x[33:41])
if races != want_races:
    fail("per-race totals %s, want %s" % (races, want_races))

# Records in UTF-8, in every format.
tj = jsonl(os.path.join(out, "tickets.jsonl"))
names = [(t["number"], t["runner_name"], t["status"], t["stake_ore"]) for t in tj]
want = [(int(x[0:6]), x[44:62].decode("cp850").rstrip(), x[42:43].decode(), int(x[33:41]))
        for x in good]
if names != want:
    fail("tickets.jsonl %s, want %s" % (names, want))
if any(t["number"] >= 900001 for t in tj):
    fail("stale data of the deleted file leaked into the extraction")
with open(os.path.join(out, "tickets.csv"), encoding="utf-8", newline="") as f:
    rows = list(csv.DictReader(f))
if [(int(x["number"]), x["runner_name"]) for x in rows] != [(w[0], w[1]) for w in want]:
    fail("tickets.csv differs: %s" % rows)
tracks = sorted({x["track"] for x in jsonl(os.path.join(out, "racecard.jsonl"))})
if tracks != ["Åby", "Örebro"]:
    fail("racecard tracks: %s" % tracks)
if "Café Crème" not in open(os.path.join(out, "racecard.csv"), encoding="utf-8").read():
    fail("racecard.csv lacks Café Crème")
db = sqlite3.connect(os.path.join(out, "legacy.sqlite"))
got = db.execute("SELECT count(*), sum(CASE status WHEN 'S' THEN stake_ore END) FROM tickets").fetchone()
if got != (len(good), stake):
    fail("sqlite tickets %s, want %s" % (got, (len(good), stake)))
if db.execute("SELECT offset FROM undecodable ORDER BY offset").fetchall() != [(320,), (448,)]:
    fail("sqlite undecodable table wrong")
if db.execute("SELECT runner_name FROM tickets WHERE number = 3").fetchone() != ("Älvdansen",):
    fail("sqlite name not UTF-8")

# Source checksums match the bytes mtools reads.
src = {s["name"]: s for s in rep["sources"]}
mt = subprocess.run(["mtype", "-i", img, "::TICKETS.DAT"], capture_output=True,
                                  env=dict(os.environ, MTOOLS_SKIP_CHECK="1")).stdout
if src["TICKETS.DAT"]["sha256"] != hashlib.sha256(mt).hexdigest() or mt != data:
    fail("TICKETS.DAT checksum does not match the file")
if rep["unknown_files"] != ["NOTES.TXT"]:
    fail("stray file not reported: %s" % rep["unknown_files"])

# A disk on which no ticket was ever sold reconciles to zero.
empty = os.path.join(d, "empty.img")
mkdisk(empty)
out2 = os.path.join(d, "out2")
r = extract(empty, out2)
rep = report(out2)
if r.returncode != 0 or not rep["reconciled"] or rep["tickets"]["records"] != 0 or \
        rep["tickets"]["by_day"] or rep["tickets"]["stake_total_ore"] != 0:
    fail("empty disk: exit %d, %s" % (r.returncode, rep["tickets"]))
if len(jsonl(os.path.join(out2, "racecard.jsonl"))) != 12:
    fail("empty disk: race card not extracted")
print("PASS: edge cases extracted, undecodable records named, totals reconciled")
