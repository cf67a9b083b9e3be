"""Run one build command and print its wall time and peak memory as one JSON object.

`run.py` starts this script as a fresh process for every single build. That is what makes
`resource.getrusage(RUSAGE_CHILDREN)` mean "this build": the rusage of a process's children
accumulates over its lifetime, so a long-lived parent would report the largest build so far.

Two memory figures are reported because they answer different questions:

- `max_rss_mb`: `ru_maxrss`, the peak resident set of the largest single process in the build's
  tree (the kernel's exact high-water mark). For a one-process tool this is its footprint.
- `tree_mb`: the largest sum, over the whole process tree, of proportional set size (PSS), sampled
  every `--interval` seconds from /proc. A build that forks worker processes (syndicate with
  `--jobs`) needs this one: its footprint is the sum of its workers, and PSS splits the pages they
  share instead of counting them once per worker. Sampling can miss a peak shorter than the
  interval, so it is a lower bound; it is None where /proc is unavailable. The period is half a
  second: reading a large process's `smaps_rollup` walks its page tables, and at a tenth of a
  second the sampler took 8-11% of a two-core machine during a build with Pagefind's 1.6 GB
  process in it, which slows a build that uses every core and not one that uses one.

Usage: python measure.py --timeout 600 --log build.log --cwd SITE -- COMMAND [ARG ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PROC = Path("/proc")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4


def session_pids(session: int) -> list[int]:
    """Pids in the build's session: the build gets a session of its own, so these are its tree."""
    pids = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp session ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == session:
            pids.append(int(entry.name))
    return pids


def process_kb(pid: int) -> int:
    """PSS of one process in kB, falling back to RSS when smaps_rollup is not readable."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_KB
    except (OSError, ValueError, IndexError):
        return 0


def busy_cpu_seconds() -> float | None:
    """CPU time all processes on the machine have used so far, from /proc/stat.

    The machine may be shared. The busy time that accrues during a build, less the build's own
    CPU time, is what other jobs took: a direct measure of how noisy the build's wall time is
    (a load average would count the build's own workers too).
    """
    try:
        fields = (PROC / "stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    # cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait.
    ticks = [int(value) for value in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


class TreeSampler(threading.Thread):
    """Polls the build's process tree and remembers the largest total it saw."""

    def __init__(self, session: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.interval = interval
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = sum(process_kb(pid) for pid in session_pids(self.session))
            self.peak_kb = max(self.peak_kb, total)
            self.done.wait(self.interval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, required=True, help="seconds before a kill")
    parser.add_argument("--log", type=Path, required=True, help="file for the build's output")
    parser.add_argument("--cwd", type=Path, required=True, help="folder to run the build in")
    parser.add_argument("--interval", type=float, default=0.5, help="tree sampling period (s)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")

    can_sample = PROC.is_dir() and args.interval > 0
    with args.log.open("wb") as log:
        busy_before = busy_cpu_seconds()
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=args.cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def stop_build(signum: int, frame: object) -> None:
            """Take the build down with this process, so no orphan disturbs the next build."""
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        signal.signal(signal.SIGTERM, stop_build)
        signal.signal(signal.SIGINT, stop_build)
        sampler = TreeSampler(process.pid, args.interval) if can_sample else None
        if sampler:
            sampler.start()
        # A blocking wait, with a timer for the timeout: Popen.wait(timeout=...) polls, with
        # sleeps doubling up to 50 ms, and so added up to 50 ms to every figure (measured: a
        # 0.22 s build reported as 0.27 s).
        expired = threading.Event()

        def time_out() -> None:
            expired.set()
            stop_build(signal.SIGKILL, None)

        timer = threading.Timer(args.timeout, time_out)
        timer.start()
        returncode = process.wait()
        seconds = time.perf_counter() - start
        timer.cancel()
        timed_out = expired.is_set()
        busy_after = busy_cpu_seconds()
        if sampler:
            sampler.done.set()
            sampler.join()

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = usage.ru_utime + usage.ru_stime
    other_share = None
    if busy_before is not None and busy_after is not None and seconds > 0:
        other = busy_after - busy_before - cpu_seconds
        other_share = max(0.0, other / (seconds * (os.cpu_count() or 1)))
    result = {
        "seconds": seconds,
        "max_rss_mb": usage.ru_maxrss / 1024,  # Linux reports kilobytes
        "tree_mb": sampler.peak_kb / 1024 if sampler and sampler.peak_kb else None,
        "cpu_seconds": cpu_seconds,
        "returncode": returncode,
        "timed_out": timed_out,
        "other_cpu_share": other_share,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
