"""Speed comparisons that hold on a shared machine: interleaved rounds, one subprocess per run.

A benchmark script that uses this module has two halves:

* a *child* half, run as ``python script.py --child METHOD --outdir DIR [script args]``, that
  does one method's work once and ends with :func:`report` (one ``RESULT {json}`` line with
  at least ``secs``, the timed part; model loading excluded). It may save its output under
  ``DIR`` (e.g. ``DIR/METHOD.npy``) so the parent can check that the methods agree;
* a *parent* half that calls :func:`run_rounds` with the method names.

Round ``r`` runs the methods rotated by ``r`` (A B C, B C A, C A B, ...), each in a fresh
subprocess, so a load spike hits different methods in different rounds instead of one
method always. For every round the parent prints each method's time, the child's peak RSS
(``os.wait4``: the child's own maximum resident set, not a shared high-water mark), the
speed ratio to the baseline method and the 1-minute load average; then, per method, the
median ratio and its spread (min-max over rounds). Targets are judged on the median.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["report", "run_rounds", "summarise", "add_child_arguments"]


def report(secs: float, **extra) -> None:
    """Child side: print the one ``RESULT`` line the parent reads (``secs`` = timed part)."""
    extra["secs"] = float(secs)
    extra.setdefault("rss_self_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    print("RESULT " + json.dumps(extra), flush=True)


def add_child_arguments(parser) -> None:
    """The hidden ``--child METHOD --outdir DIR --round N`` options by which a script is run as a child."""
    import argparse

    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--outdir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)


def _run_child(script: Path, method: str, outdir: Path, rnd: int, args: list[str], timeout: float | None) -> dict:
    """One method once in its own process; returns its RESULT dict plus ``wall_s`` and ``peak_rss_mib``."""
    cmd = [sys.executable, str(script), *args, "--child", method, "--outdir", str(outdir), "--round", str(rnd)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        sys.stderr.write(stderr[-4000:])
        raise SystemExit(f"{script.name}: method {method!r} (round {rnd}) failed with exit {proc.returncode}")
    result = json.loads(lines[-1][len("RESULT "):])
    result.update(method=method, round=rnd, wall_s=wall, peak_rss_mib=usage.ru_maxrss / 1024.0)
    return result


def rotation(methods: list[str], rnd: int) -> list[str]:
    """Round ``rnd``'s order: the methods rotated left by ``rnd``."""
    s = rnd % len(methods)
    return list(methods[s:]) + list(methods[:s])


def run_rounds(script: str | os.PathLike, methods: list[str], baseline: str, rounds: int = 5,
               args: list[str] | None = None, outdir: str | os.PathLike | None = None, label: str = "",
               timeout: float | None = None, names: dict | None = None) -> list[dict]:
    """Run ``methods`` in ``rounds`` interleaved rounds and print the per-round table and the medians.

    Speed ratio of method ``m`` in a round = baseline secs / ``m`` secs (> 1: ``m`` is faster).
    Returns the list of per-run result dicts (with ``ratio`` filled in).
    """
    script = Path(script).resolve()
    outdir = Path(outdir or tempfile.mkdtemp(prefix=f"{script.stem}-"))
    outdir.mkdir(parents=True, exist_ok=True)
    args = list(args or [])
    names = names or {}
    results: list[dict] = []
    print(f"\n## {label or script.stem}: {len(methods)} methods x {rounds} interleaved rounds "
          f"(each run its own subprocess; ratio = {names.get(baseline, baseline)} time / method time)", flush=True)
    print(f"{'round':>5s} {'order':12s} {'method':36s} {'secs':>8s} {'peakRSS MiB':>11s} {'ratio':>7s} {'load1':>6s}",
          flush=True)
    for rnd in range(rounds):
        order = rotation(methods, rnd)
        this = {}
        for m in order:
            r = _run_child(script, m, outdir, rnd, args, timeout)
            r["load1"] = os.getloadavg()[0]
            this[m] = r
        for m in methods:
            r = this[m]
            r["ratio"] = this[baseline]["secs"] / r["secs"] if r["secs"] > 0 else float("inf")
            results.append(r)
            print(f"{rnd:5d} {''.join(order)[:12]:12s} {names.get(m, m)[:36]:36s} {r['secs']:8.2f} "
                  f"{r['peak_rss_mib']:11.0f} {r['ratio']:7.2f} {r['load1']:6.1f}", flush=True)
    summarise(results, methods, baseline, names)
    return results


def summarise(results: list[dict], methods: list[str], baseline: str, names: dict | None = None) -> dict:
    """Print and return ``{method: (median ratio, min, max, median secs, max peak RSS MiB)}``."""
    names = names or {}
    loads = [r["load1"] for r in results]
    print(f"load average (1 min) during the runs: min {min(loads):.1f}, median {statistics.median(loads):.1f}, "
          f"max {max(loads):.1f}; cores {len(os.sched_getaffinity(0))}", flush=True)
    print(f"{'method':36s} {'median secs':>11s} {'median ratio':>12s} {'spread (min-max)':>17s} {'max peakRSS MiB':>15s}")
    out = {}
    for m in methods:
        rs = [r for r in results if r["method"] == m]
        ratios = [r["ratio"] for r in rs]
        med = statistics.median(ratios)
        secs = statistics.median(r["secs"] for r in rs)
        rss = max(r["peak_rss_mib"] for r in rs)
        out[m] = (med, min(ratios), max(ratios), secs, rss)
        print(f"{names.get(m, m)[:36]:36s} {secs:11.2f} {med:12.2f} {min(ratios):8.2f}-{max(ratios):<8.2f} {rss:15.0f}")
    return out


def median_ratio(results: list[dict], method: str) -> float:
    """Median speed ratio of ``method`` over the rounds."""
    return statistics.median(r["ratio"] for r in results if r["method"] == method)
