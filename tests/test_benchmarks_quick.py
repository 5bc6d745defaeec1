"""Smoke tests of the benchmarks' ``--quick`` mode: every path runs and the paths agree (speed is not checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str, timeout: int = 900) -> str:
    env = dict(os.environ, PYTHONPATH=str(BENCH.parent), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(BENCH / script), "--quick", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


def test_interleave_rotation_and_summary(capsys):
    sys.path.insert(0, str(BENCH))
    import _interleave

    assert [_interleave.rotation(list("ABC"), r) for r in range(4)] == [list("ABC"), list("BCA"), list("CAB"),
                                                                       list("ABC")]
    results = [{"method": m, "round": r, "secs": s, "ratio": 2.0 / s, "peak_rss_mib": 10.0, "load1": 1.0}
               for r, (a, b) in enumerate([(2.0, 1.0), (2.0, 4.0), (2.0, 0.5)]) for m, s in (("a", a), ("b", b))]
    out = _interleave.summarise(results, ["a", "b"], "a")
    assert out["b"][:3] == (2.0, 0.5, 4.0)  # median ratio and its spread
    assert "load average" in capsys.readouterr().out


@pytest.mark.slow
def test_bench_recommend_quick_paths_agree():
    out = _run("bench_recommend.py")
    assert "interleaved rounds" in out and "median ratio" in out
    assert out.strip().endswith("paths agree")


@pytest.mark.slow
@pytest.mark.realdata
def test_bench_embed_quick_paths_agree():
    out = _run("bench_embed.py")
    assert "enc vs st vectors" in out and out.strip().endswith("paths agree")


def test_bench_cf_scale_quick_runs():  # ~4 s: 3k users x 2k items, no Dask
    out = _run("bench_cf_scale.py", "--skip-dask")
    assert "EASE refuses: EASE on n_items=87,000" in out
    assert "fit itemknn" in out and "fit als" in out and "top-10 for every user" in out
