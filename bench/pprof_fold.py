"""Folds `go tool pprof -traces` output (stdin) into inferno/flamegraph.pl's folded stacks
(stdout): one line per distinct stack, root first, frames joined by ';', then the CPU time in
milliseconds. Used by bench/profile.sh for Prometheus's own CPU profile."""

import re
import sys
from collections import Counter


def to_ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(ns|us|µs|ms|s|min|h)?", value)
    if not m:
        return 0.0
    n = float(m.group(1))
    return n * {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "min": 6e4, "h": 3.6e6}.get(
        m.group(2) or "ms", 1.0
    )


def main() -> None:
    folded: Counter[str] = Counter()
    value = None
    frames: list[str] = []

    def flush() -> None:
        if value is not None and frames:
            folded[";".join(reversed(frames))] += value

    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.startswith("-----------+"):
            flush()
            value, frames = None, []
            continue
        m = re.match(r"^\s+(\S+)\s{2,}(\S.*)$", line)
        if m and value is None and re.match(r"[\d.]", m.group(1)):
            value = to_ms(m.group(1))
            frames.append(m.group(2).replace(" (inline)", "").strip())
        elif value is not None and line.strip():
            frames.append(line.replace(" (inline)", "").strip())
    flush()
    for stack, ms in folded.most_common():
        print(f"{stack} {max(1, round(ms))}")


if __name__ == "__main__":
    main()
