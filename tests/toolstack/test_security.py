#!/usr/bin/env python3
"""Hostile clients: a foreign uid, oversized, malformed, unknown and
badly-typed requests, and a slow-loris; each gets a clear error and
tandemd keeps serving."""
import json
import socket
import subprocess
import sys
import time

from tstlib import Client, check, run


def error_of(c, raw):
    c.send_raw(raw)
    m = c.read_msg()
    check(m.get("ok") is False, f"accepted {raw[:60]!r}: {m}")
    return m["error"]["code"], m["error"]["message"]


def main(env):
    # A dropped uid with no groups is refused, through the real CLI.
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        env.tandem, "--socket", env.sock, "list"],
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 7, f"foreign uid: exit {p.returncode} {p.stderr}")
    check("permission denied" in p.stderr, p.stderr)

    c = Client(env.sock)
    code, msg = error_of(c, b"{not json\n")
    check(code == "parse_error", msg)
    code, msg = error_of(c, b"[1,2]\n")
    check(code == "invalid", msg)
    code, msg = error_of(c, b'{"v":1,"id":1,"method":"frobnicate"}\n')
    check(code == "unknown_method" and "frobnicate" in msg, msg)
    code, msg = error_of(c, b'{"v":1,"id":2,"method":7}\n')
    check(code == "invalid" and "method" in msg, msg)
    code, msg = error_of(c, b'{"v":1,"id":3,"method":"info","params":[1]}\n')
    check(code == "invalid" and "params" in msg, msg)
    code, msg = error_of(c, b'{"v":1,"id":4,"method":"info","params":{"domain":5}}\n')
    check(code == "invalid" and "domain" in msg, msg)
    code, msg = error_of(c, b'{"v":1,"id":5,"method":"shutdown","params":{"domain":"x",'
                            b'"timeout":"soon"}}\n')
    check(code in ("invalid", "not_found"), msg)
    code, msg = error_of(c, b'{"v":99,"id":6,"method":"list"}\n')
    check(code == "version", msg)
    code, msg = error_of(c, b'{"v":1,"id":{"a":1},"method":"list"}\n')
    check(code == "invalid" and "id" in msg, msg)
    code, msg = error_of(c, b'{"v":1,"id":7,"method":"create","params":{"config":"name=\\"x\\""}}\n')
    check(code == "config" and "kernel" in msg, msg)
    check(c.call("list") is not None, "same connection unusable after errors")

    # Oversized: an error, then the connection is closed.
    big = Client(env.sock)
    big.send_raw(b'{"v":1,"id":1,"method":"list","params":{"x":"' + b"a" * 200000)
    m = big.read_msg()
    check(m["error"]["code"] == "too_large", m)

    # Slow-loris: half a request, then silence past request_timeout_ms.
    slow = Client(env.sock)
    slow.send_raw(b'{"v":1,"id":1,"meth')
    t0 = time.time()
    m = slow.read_msg()
    check(m["error"]["code"] == "timeout", m)
    check(time.time() - t0 < 5, "slow-loris not bounded")
    try:
        check(slow.s.recv(1) == b"", "slow-loris connection left open")
    except (ConnectionResetError, socket.timeout):
        pass

    # Many idle connections do not block others.
    idle = [Client(env.sock) for _ in range(50)]
    check("domains" in Client(env.sock).call("list"), "daemon stuck")
    for i in idle:
        i.close()
    check(env.daemon.poll() is None, "tandemd died")


sys.exit(run(main))
