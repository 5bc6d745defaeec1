"""The repository names no path of a developer's machine, and every cited document exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# an absolute folder of a machine: work, tmp, root, home/<user> or Users/<user> under the root
_ABS = re.compile(r"(?<![\w.~])/(?:" + "|".join(["work", "tmp", "root", "home", "Users"]) + r")/[A-Za-z0-9_.-]")


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / line for line in out.splitlines() if line and (ROOT / line).is_file()]


def test_no_absolute_machine_path_in_tracked_files():
    hits = []
    for path in _tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if _ABS.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "absolute paths of a machine in the repository:\n" + "\n".join(hits)


def test_pattern_catches_machine_paths():
    assert _ABS.search("see " + "/wo" + "rk/main/x")
    assert _ABS.search("'" + "/tm" + "p/abc'")
    assert not _ABS.search("docs/protocols.md and https://example.org/home/page")


def test_cited_protocols_document_exists():
    doc = ROOT / "docs" / "protocols.md"
    assert doc.is_file()
    cited = [p for p in _tracked_files() if p.suffix in {".py", ".md"} and "protocols.md" in p.read_text("utf-8")]
    assert cited, "the code should point to docs/protocols.md"
    old_name = "PROTOCOLS" + ".md"  # the brief's file outside the repository
    assert not [p.name for p in _tracked_files() if p.suffix == ".py" and old_name in p.read_text("utf-8")]
