#!/usr/bin/env python3
"""Writes a log shaped like a real client's: mostly ordinary lines of several formats (klog,
logfmt, JSON, tracing, Python logging) with about 1 % API client errors drawn from the
labelled set of real error lines (every category) and about 0.5 % of its real `none` traps
(lines that look like errors and are not), with varying timestamps and numbers.

usage: gen_log.py OUT_FILE SIZE_MB [ERROR_RATE]
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "crates", "kube-doctor-core", "tests", "fixtures", "classify")
LABELLED = [os.path.join(FIXTURES, f) for f in ("labelled.tsv", "labelled-2.tsv")]
TRAP_RATE = 0.005

NORMAL = [
    'I{d} {t}       1 shared_informer.go:320] Caches are synced for {w}',
    'I{d} {t}       1 controller.go:{n}] "Successfully synced" key="demo/app-{n}"',
    'I{d} {t}       1 reflector.go:368] Listing and watching *v1.Pod from k8s.io/client-go/informers/factory.go:160',
    '{{"level":"info","ts":"2026-11-22T10:{m}:{s}Z","logger":"controller","msg":"Reconciling","namespace":"demo","name":"app-{n}","reconcileID":"{u}"}}',
    'time="2026-11-22T10:{m}:{s}Z" level=info msg="processed batch" items={n} duration={n}ms',
    '2026-11-22T10:{m}:{s}.{n}Z  INFO app::worker: handled request path=/api/items/{n} status=200 latency_ms={n}',
    '2026-11-22 10:{m}:{s},{n} INFO app.sync: synced {n} objects from cache',
    '10.0.{n}.{n} - - [22/Nov/2026:10:{m}:{s} +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.34"',
    'I{d} {t}       1 leaderelection.go:258] successfully acquired lease demo/app-lock',
    '{{"level":"debug","msg":"cache hit","key":"item-{n}","size":{n}}}',
]


def main():
    out, size_mb = sys.argv[1], int(sys.argv[2])
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.01
    rows = [l.split("\t", 4) for f in LABELLED for l in open(f, encoding="utf-8").read().splitlines() if l.strip()]
    errors = [r[4] for r in rows if r[0] != "none"]
    traps = [r[4] for r in rows if r[0] == "none"]
    rnd = random.Random(42)
    target = size_mb * 1024 * 1024
    # Build a 16 MiB chunk of varied lines, then write it with changing numbers.
    lines = []
    size = 0
    while size < 16 * 1024 * 1024:
        roll = rnd.random()
        if roll < rate:
            line = rnd.choice(errors)
        elif roll < rate + TRAP_RATE:
            line = rnd.choice(traps)
        else:
            line = rnd.choice(NORMAL).format(
                d="1122", t="10:%02d:%02d.%06d" % (rnd.randint(0, 59), rnd.randint(0, 59), rnd.randint(0, 999999)),
                w=rnd.choice(["endpoint", "deployment", "job", "namespace"]),
                n=rnd.randint(0, 9999), m="%02d" % rnd.randint(0, 59), s="%02d" % rnd.randint(0, 59),
                u="%08x-%04x" % (rnd.getrandbits(32), rnd.getrandbits(16)))
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    chunk = ("\n".join(lines) + "\n").encode("utf-8")
    written = 0
    with open(out, "wb") as f:
        while written < target:
            f.write(chunk)
            written += len(chunk)
    print("wrote %d bytes (%d lines per chunk, %.2f %% errors)" % (written, len(lines), rate * 100))


if __name__ == "__main__":
    main()
