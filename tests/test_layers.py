"""The picture of the tree: subpackages import only layers below them, and nothing imports in a cycle.

Every relative import is counted, also the lazy ones inside functions (a lazy import is
still a dependency). The data flow of the package, lowest first, is ``LAYERS``.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

import filmrec_toolkit as ft

#: lowest first; a module may import its own layer's leaves and anything listed before it
LEAVES = {"__version__", "_config", "exceptions", "_validation", "_io", "_params", "_deprecation", "_topk",
          "_format", "cluster", "templates", "reference_data"}
LAYERS = ["datasets", "ranking", "features", "persistence", "metrics", "profiles", "recommenders", "evaluation",
          "audit", "plots", "scale", "widgets", "testing", "__init__"]
#: deprecated shims that still reach up, removed together with them (named in their FutureWarning)
ALLOWED_UPWARD = {("audit", "plots"): "AuditReport.plot_* (use ft.plots.plot_audit)"}


def import_graph() -> dict[str, set[str]]:
    root = pathlib.Path(ft.__file__).parent
    edges: dict[str, set[str]] = defaultdict(set)
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).with_suffix("").parts
        src = rel[0]
        pkg = ["filmrec_toolkit", *rel[:-1]]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            target = pkg[: len(pkg) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            names = [a.name for a in node.names] if len(target) < 2 else [target[1]]
            edges[src].update(n for n in names if n != src)
    return edges


def _rank(unit: str) -> int:
    return -1 if unit in LEAVES else LAYERS.index(unit)


def test_every_unit_has_a_layer():
    root = pathlib.Path(ft.__file__).parent
    units = {p.stem if p.is_file() else p.name for p in root.iterdir()
             if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert units <= LEAVES | set(LAYERS), sorted(units - LEAVES - set(LAYERS))


def test_no_upward_import():
    upward = [(src, tgt) for src, tgts in import_graph().items() for tgt in tgts
              if src not in LEAVES and _rank(tgt) >= _rank(src) and (src, tgt) not in ALLOWED_UPWARD]
    assert not upward, upward


def test_leaves_import_only_leaves_and_no_cycle():
    graph = import_graph()
    assert all(tgts <= LEAVES for src, tgts in graph.items() if src in LEAVES), \
        {src: sorted(tgts - LEAVES) for src, tgts in graph.items() if src in LEAVES and tgts - LEAVES}
    pruned = {s: {t for t in ts if (s, t) not in ALLOWED_UPWARD} for s, ts in graph.items()}
    state: dict[str, int] = {}

    def visit(node, trail):
        if state.get(node) == 1:
            raise AssertionError(f"import cycle: {' -> '.join(trail + [node])}")
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in sorted(pruned.get(node, ())):
            visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(pruned):
        visit(node, [])


def test_the_checks_can_fail():
    assert _rank("plots") > _rank("audit") and ("audit", "plots") in ALLOWED_UPWARD
    assert "plots" in import_graph()["audit"]  # the one allowed back edge is real: remove it here when it goes
