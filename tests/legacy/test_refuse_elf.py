"""tandem-vmm refuses, with one clear line, an ELF that is not a Tandem PV
guest, one with an unsupported ABI version, and a file that is not an ELF."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from legacy_harness import BUILD, fail, skip_without_kvm, tool, workdir  # noqa: E402

skip_without_kvm()
cases = [
    (os.path.join(BUILD, "tests", "legacy", "notandem.elf"), "not a Tandem PV guest"),
    (os.path.join(BUILD, "tests", "legacy", "abi99.elf"), "unsupported Tandem PV ABI version 99"),
]
text = os.path.join(workdir(), "notes.txt")
open(text, "w").write("this is not a kernel\n")
cases.append((text, ""))
for path, want in cases:
    r = subprocess.run([tool("vmm"), "--legacy", path, "--mem", "16M", "--console", "none"],
                       capture_output=True, text=True, timeout=30)
    errors = [l for l in r.stderr.splitlines() if not l.startswith("tandem-vmm: warning")]
    if r.returncode != 2 or len(errors) != 1 or want not in errors[0]:
        fail("%s: want exit 2 and one line with %r, got exit %d:\n%s" %
             (os.path.basename(path), want, r.returncode, r.stderr))
    print("refused %s: %s" % (os.path.basename(path), errors[0]))
print("PASS: non-Tandem images refused")
