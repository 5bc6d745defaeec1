"""The static pages: audit.html from its Jinja2 template, the demo's index and notebook pages, and the
browser check of scripts/check_report.py on a small report built here."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from filmrec_toolkit.audit import audit

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frame(lists: dict) -> pd.DataFrame:
    rows = [(u, i, float(len(items) - r), r + 1) for u, items in lists.items() for r, i in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


@pytest.fixture
def tiny_report(tiny):
    held = ((tiny.ratings.user_id == 1) & (tiny.ratings.item_id == 30)) | \
           ((tiny.ratings.user_id == 3) & (tiny.ratings.item_id == 50))
    train, test = tiny.subset(~held.to_numpy()), tiny.subset(held.to_numpy())
    recs = {"<b>A</b>": _frame({1: [30, 40], 3: [50, 10]}), "B": _frame({1: [40, 50], 3: [10, 40]})}
    return audit(recs, train, test, k=2, n_resamples=50, by=["gender", "activity"])


def test_audit_module_draws_nothing():
    # audits produce tables; figures live in plots/ and are passed to to_html
    for path in (ROOT / "filmrec_toolkit" / "audit").glob("*.py"):
        text = path.read_text()
        assert "import matplotlib" not in text and "from matplotlib" not in text, path.name


def test_audit_html_from_template(tiny_report, tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().plot([0, 1])
    path = tiny_report.to_html(tmp_path / "audit.html", title="Audit <tiny>", figures={"a line": fig},
                               nav=[("Summary", "index.html"), ("Audit", "audit.html")])
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<title>Audit &lt;tiny&gt;</title>" in text
    assert "<nav class=\"filmrec-nav\"" in text and text.count("data:image/png;base64,") == 1
    assert "&lt;b&gt;A&lt;/b&gt;" in text and "<b>A</b>" not in text  # autoescaped model name
    assert "class=\"findings summary-sentences\"" in text and "Most accurate model:" in text
    assert text.index("Key findings") < text.index("Pictures") < text.index("Glossary") < text.index('id="tables"')
    assert "Steck, RecSys 2018" in text  # the glossary cites each metric
    for external in ("http://", "https://", "<script", "<link"):
        assert external not in text
    # figures come from plots/, and without nav a placeholder is left for the site builder
    from filmrec_toolkit.plots import audit_figures

    default = tiny_report.to_html(tmp_path / "default.html", figures=audit_figures(tiny_report)).read_text()
    assert "<!--filmrec-nav-->" in default and default.count("data:image/png;base64,") >= 3
    # audits no longer draw: without figures the page has none, and the caller is told how to add them
    with pytest.warns(FutureWarning, match="audit_figures"):
        bare = tiny_report.to_html(tmp_path / "bare.html").read_text()
    assert "data:image/png;base64," not in bare and "Key findings" in bare


def test_format_frame_for_people():
    from filmrec_toolkit.templates import format_frame

    frame = pd.DataFrame({"model": ["m"], "p_holm": [8.2e-8], "coverage": [0.0291], "mean": [0.262990],
                          "ids": [[1, 2]], "small": [True]})
    html = str(format_frame(frame))
    assert "&lt; 0.001" in html and "2.91 %" in html and "0.263" in html and "1, 2" in html
    assert "n &lt; 20: not compared" in html
    sup = pd.DataFrame({"value": ["F"], "share": [np.nan], "suppressed": [True]})
    assert "suppressed (small cell)" in str(format_frame(sup))


# machine folders as a notebook may print them (built here so the repository names none)
MACHINE_DIR = "/" + "work/"
HOME_DIR = "/" + "root/"


def _notebook(path: Path) -> Path:
    nb = new_notebook(cells=[
        new_markdown_cell("# 09 · A test notebook\n\nWhat it shows."),
        new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        new_code_cell(f"results_path = '{MACHINE_DIR}secret/x.json'", metadata={"tags": ["injected-parameters"]}),
        new_code_cell("print('hello')", outputs=[nbformat.v4.new_output("stream", text=f"saved to {HOME_DIR}here\n")]),
        new_markdown_cell("## Results for the tests\n\nThe key numbers."),
        new_code_cell("Path(results_path).write_text(json.dumps(results))"),
    ])
    nbformat.write(nb, str(path))
    return path


def test_notebook_page_hides_parameters_and_local_paths(tmp_path):
    demo = _script("demo")
    report = tmp_path / "reports"
    page = demo.notebook_to_html(_notebook(tmp_path / "09_test.ipynb"), report / "html" / "09_test.html", report)
    text = page.read_text()
    assert "<title>09 · A test notebook · filmrec_toolkit</title>" in text
    assert "filmrec-nav" in text and "../index.html" in text
    assert "x = 1" not in text and "secret" not in text and "Results for the tests" not in text
    assert HOME_DIR not in text and "hello" in text


def test_written_notebooks_and_results_keep_no_machine_path(tmp_path):
    demo = _script("demo")
    report = tmp_path / "reports"
    (report / "results").mkdir(parents=True)
    home_file = str(Path.home() / ".cache" / "filmrec_toolkit" / "artefacts" / "ease-ml-100k-0a.npz")
    nb = report / "03_x.ipynb"
    nb.write_text(json.dumps({"metadata": {"papermill": {"input_path": str(demo.ROOT / "notebooks" / "03_x.ipynb"),
                                                         "output_path": str(nb)}},
                              "cells": [{"outputs": [{"text": f"loaded EASE from {home_file}"}]}]}))
    res = report / "results" / "03_x.json"
    res.write_text(json.dumps({"audit_html": str(report / "audit.html"), "n": 3}))
    for path in (nb, res):
        demo.scrub_file(path, report)
        text = path.read_text()
        assert str(tmp_path) not in text and str(Path.home()) not in text and str(demo.ROOT) not in text
        json.loads(text)  # still valid JSON
    assert json.loads(res.read_text()) == {"audit_html": "reports/audit.html", "n": 3}
    assert "~/.cache/filmrec_toolkit/artefacts/ease-ml-100k-0a.npz" in nb.read_text()


def test_index_executive_summary(tmp_path, monkeypatch):
    demo = _script("demo")
    report = tmp_path / "reports"
    (report / "results").mkdir(parents=True)
    comparison = {"model_a": "EASE", "model_b": "Hybrid (EASE + LM)", "metric": "ndcg@10", "n_users": 900,
                  "mean_a": 0.40, "mean_b": 0.401, "diff": -0.001, "ci_low": -0.004, "ci_high": 0.002,
                  "p_value": 0.5, "p_holm": 0.6}
    findings = {"accuracy": ["Most accurate model: EASE, NDCG@10 = 0.400."], "groups": [], "activity": [],
                "summary": ["Less active users are served worse than the most active users by every model."],
                "splits": [], "replication": ["The published finding ... is partly reproduced."],
                "tradeoff": ["Best practical trade-off of calibrated re-ranking: at λ = 0.25, ..."], "exposure": []}
    (report / "results" / "04_bias_diversity_fairness_audit.json").write_text(json.dumps(
        {"k": 10, "seed": 42, "findings": findings, "comparisons": [comparison]}))
    (report / "results" / "03_recommendation.json").write_text(json.dumps(
        {"cold_start_ndcg": {"Content (LM)": {"ndcg@10": 0.12}, "Popularity": {"ndcg@10": 0.05}}}))
    monkeypatch.setattr(demo, "data_paragraph", lambda dataset, results: "MovieLens data, random 75/25 split.")
    rows = [{"name": "04_bias_diversity_fairness_audit", "seconds": 12.0, "ok": True,
             "html": "html/04_bias_diversity_fairness_audit.html"}]
    text = demo.write_index(report, rows, 60.0, "ml-100k").read_text()
    assert "<title>filmrec_toolkit demo report (ml-100k)</title>" in text and "filmrec-nav" in text
    assert "Most accurate model: EASE" in text and "Less active users are served worse" in text
    assert "The language model adds nothing measurable here: Hybrid (EASE + LM) against EASE alone" in text
    assert "Cold start ndcg: Content (LM): ndcg@10 0.120; Popularity: ndcg@10 0.0500." in text
    assert "calibrated re-ranking" in text and "partly reproduced" in text


@pytest.mark.slow
def test_check_report_in_a_browser(tiny_report, tmp_path):
    pytest.importorskip("playwright.sync_api")
    check = _script("check_report")
    if not Path(check.CHROMIUM).exists():
        pytest.skip(f"{check.CHROMIUM} missing: apt-get install -y chromium (make test does it)")
    demo = _script("demo")
    report = tmp_path / "reports"
    from filmrec_toolkit.plots import audit_figures

    tiny_report.to_html(report / "audit.html", title="Audit (tiny)", figures=audit_figures(tiny_report))
    demo.notebook_to_html(_notebook(tmp_path / "09_test.ipynb"), report / "html" / "09_test.html", report)
    demo.add_nav_to_audit(report)
    (report / "results").mkdir()
    (report / "results" / "04_bias_diversity_fairness_audit.json").write_text(json.dumps(
        {"findings": {"accuracy": ["Most accurate model: A."]}}))
    demo.data_paragraph = lambda dataset, results: "Tiny data."
    demo.write_index(report, [], 1.0, "tiny")
    rows = {r["page"]: r for r in check.check(report)}
    assert set(rows) == {"index.html", "audit.html", "html/09_test.html"}
    for row in rows.values():
        assert row["problems"] == [], row
        assert (report / row["screenshot"]).stat().st_size > 5_000
    assert rows["audit.html"]["sentences"] >= 1 and rows["index.html"]["sentences"] >= 1
    # a page without the bar, wider than the screen, sharing a title, is reported
    (report / "html" / "10_bad.html").write_text(
        "<html><head><title>Audit (tiny)</title></head><body><div style='width:2000px'>x</div></body></html>")
    bad = {r["page"]: r for r in check.check(report, screenshots=False)}["html/10_bad.html"]["problems"]
    assert any("navigation" in p for p in bad) and any("wider" in p for p in bad) and any("title" in p for p in bad)
