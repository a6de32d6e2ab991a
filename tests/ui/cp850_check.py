#!/usr/bin/env python3
"""Our CP850 table must agree with Python's codec for every byte."""
import subprocess, sys
out = subprocess.run([sys.argv[1], "--cp850-dump"], check=True, capture_output=True, text=True).stdout
bad = 0
for line in out.split("\n"):
    if not line:
        continue
    b, cp = map(int, line.split())
    want = ord(bytes([b]).decode("cp850"))
    if cp != want:
        print(f"byte 0x{b:02X}: ours U+{cp:04X}, Python U+{want:04X}")
        bad += 1
print("checked 256 bytes,", bad, "differences")
sys.exit(1 if bad else 0)
