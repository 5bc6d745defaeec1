"""``make demo``: run the five notebooks headless on offline ml-100k and write ``reports/``.

What it does, in order:

1. executes ``notebooks/0*.ipynb`` with papermill (one progress bar per notebook, one
   line per finished notebook with its run time), passing each the ``dataset``,
   ``results_path`` and ``report_dir`` parameters;
2. writes the executed notebooks to ``reports/notebooks/``, their JSON results to
   ``reports/results/``, and each notebook rendered to static HTML (figures embedded as
   PNG, no script or stylesheet fetched from the network) to ``reports/html/``;
3. notebook 04 writes the audit's ``AuditReport.to_html`` page to ``reports/audit.html``
   (the navigation bar is added here);
4. writes ``reports/index.html``: an executive summary computed from the notebooks' JSON
   results (best model with its CI, what the language model adds, who is served worse,
   the best practical trade-off), data and protocol, and every page with its run time.

Every page has the same navigation bar and its own title; parameter cells (local paths)
and the results-for-tests cell are left out of the notebook pages.
``python scripts/check_report.py`` then checks the pages in a browser.

Usage::

    python scripts/demo.py                    # all five notebooks, ml-100k
    python scripts/demo.py --dataset ml-1m    # the same on ml-1m (slower)
    python scripts/demo.py --only 01 03       # a subset
    python scripts/demo.py --quick            # small samples (a smoke run)

The embedding and UMAP caches live in the data home (``FILMREC_DATA_HOME`` or
``~/.cache/filmrec_toolkit``), so a second run skips the expensive steps.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"

#: Parameters that make every notebook fast (used by ``--quick`` and by tests/test_notebooks.py).
QUICK_PARAMETERS = {
    "01_feature_extraction": {"map_method": "pca"},
    "02_user_profiles_and_segments": {"k_range": [3, 4, 5, 6], "map_method": "pca", "n_eval_users": 100,
                                      "silhouette_sample": 500},
    "03_recommendation": {"n_eval_users": 150},
    "04_bias_diversity_fairness_audit": {"n_eval_users": 150, "tradeoff_lambdas": [0.0, 0.5, 1.0],
                                         "n_bootstrap": 200},
    "05_interactive_inspection": {"k_range": [3, 4, 5, 6], "silhouette_sample": 500},
}


def _env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bars in the notebooks


def list_notebooks(only=None) -> list[Path]:
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(o) for o in only)]
    return paths


def execute_notebook(path: Path, out_dir: Path, parameters: dict, progress: bool = True,
                     timeout: int = 1800) -> tuple[Path, float]:
    """Run one notebook with papermill; returns (executed notebook path, seconds)."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    start = time.perf_counter()
    pm.execute_notebook(str(path), str(out), parameters=parameters, cwd=str(NOTEBOOK_DIR),
                        progress_bar=progress, kernel_name="python3", execution_timeout=timeout,
                        log_output=False)
    return out, time.perf_counter() - start


#: what each notebook answers (index page)
ABOUT = {
    "01_feature_extraction": "How films become vectors: documents, language-model embeddings, a map of the catalogue.",
    "02_user_profiles_and_segments": "Who the users are: taste profiles, audience segments and what sets them apart.",
    "03_recommendation": "Which model recommends best, under two published protocols; cold start from a wish.",
    "04_bias_diversity_fairness_audit": "Popularity bias, diversity, calibration and who is served worse.",
    "05_interactive_inspection": "One user or one segment at a time: lists before and after re-ranking, explanations.",
}


def _notebook_title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0][2:].strip()
    return "notebook"


def _hidden(cell) -> bool:
    """Cells left out of the static page: parameters (they hold local paths) and the results-for-tests cell."""
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & {"parameters", "injected-parameters", "remove-cell", "hide"}:
        return True
    src = cell.get("source", "")
    if cell.cell_type == "markdown" and (src.startswith("## Results for the tests") or src.startswith("## Parameters")):
        return True
    return cell.cell_type == "code" and "Path(results_path)" in src and "json.dumps(results" in src


def nav_links(report_dir: Path, depth: int = 0) -> list[tuple[str, str]]:
    """The navigation bar: summary, audit, then every notebook page (hrefs relative to a page ``depth`` folders down)."""
    up = "../" * depth
    links = [("Summary", f"{up}index.html"), ("Audit", f"{up}audit.html")]
    for path in list_notebooks():
        links.append((path.stem.split("_", 1)[0] + " " + path.stem.split("_", 1)[1].replace("_", " "),
                      f"{up}html/{path.stem}.html"))
    return links


def _nav_html(links: list[tuple[str, str]], current: str = "") -> str:
    from filmrec_toolkit.templates import render

    return render("nav.html.j2", nav=links, current=current)


def scrub_paths(text: str, report_dir: Path) -> str:
    """Replace this machine's paths (report folder, repository, home, temp) with neutral ones."""
    import re
    import tempfile

    for path, repl in ((report_dir, "reports"), (ROOT, "."), (Path(tempfile.gettempdir()), "<tmp>"),
                       (Path.home(), "~")):
        text = text.replace(str(path), repl)
    return re.sub(r"/(?:work|root|home/[^/\s\"']+)/[^\s\"'<>]*", "<path>", text)


def scrub_file(path: Path, report_dir: Path) -> None:
    """Scrub this machine's paths from a written report file (executed notebook, results JSON) in place.

    The replacements hold no quote or backslash, so a JSON file stays valid JSON.
    """
    path = Path(path)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        clean = scrub_paths(text, report_dir)
        if clean != text:
            path.write_text(clean, encoding="utf-8")


def notebook_to_html(executed: Path, html_path: Path, report_dir: Path | None = None) -> Path:
    """Static HTML of an executed notebook that needs no network to display.

    Widget state is dropped (the notebook prints pre-rendered static views next to each
    widget); the parameters cells and the results-for-tests cell are left out; the page
    gets the notebook's own title and the navigation bar; local paths are scrubbed; the
    MathJax / require.js / widget-manager URLs are blanked so the page never reaches out.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    nb = nbformat.read(str(executed), as_version=4)
    nb.metadata.pop("widgets", None)
    nb.cells = [c for c in nb.cells if not _hidden(c)]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                data.pop("application/vnd.jupyter.widget-view+json")
    title = _notebook_title(nb)
    cfg = Config()
    cfg.HTMLExporter.embed_images = True
    cfg.HTMLExporter.mathjax_url = ""
    cfg.HTMLExporter.require_js_url = ""
    cfg.HTMLExporter.widget_renderer_url = ""
    cfg.HTMLExporter.jupyter_widgets_base_url = ""
    cfg.HTMLExporter.mermaid_js_url = ""
    cfg.HTMLExporter.exclude_input_prompt = True
    cfg.HTMLExporter.exclude_output_prompt = True
    exporter = HTMLExporter(config=cfg, template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": f"{title} · filmrec_toolkit"}})
    body = _strip_remote_tags(body)
    report_dir = report_dir or html_path.parent.parent
    label = next((lab for lab, href in nav_links(report_dir, 1) if href.endswith(f"/{executed.stem}.html")), "")
    body = body.replace("<body", "<body data-filmrec", 1)
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _nav_html(nav_links(report_dir, 1), label), body, count=1)
    body = re.sub(r"<title>.*?</title>", f"<title>{html.escape(title)} · filmrec_toolkit</title>", body, count=1,
                  flags=re.S)
    body = body.replace("</style>", "img{max-width:100%;height:auto}.jp-OutputArea-output{overflow-x:auto}</style>", 1)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(scrub_paths(body, report_dir), encoding="utf-8")
    return html_path


def _strip_remote_tags(page: str) -> str:
    """Remove ``<script src=http...>`` / ``<link href=http...>`` tags left by the template."""
    page = re.sub(r"<script[^>]+src=\"(https?:)?//[^\"]*\"[^>]*>\s*</script>", "", page)
    page = re.sub(r"<script[^>]+src=\"\"[^>]*>\s*</script>", "", page)
    page = re.sub(r"<link[^>]+href=\"(https?:)?//[^\"]*\"[^>]*/?>", "", page)
    return page


def _load_results(report_dir: Path) -> dict:
    out = {}
    for path in sorted((report_dir / "results").glob("0*.json")):
        try:
            out[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return out


def lm_sentences(results: dict, alpha: float = 0.05) -> list[str]:
    """What the language model adds, from the notebooks' results (never hand-written).

    Uses, in order: any ``lm_findings`` sentences a notebook wrote; the paired comparisons
    of a model with the language model against the same model without it (notebook 04:
    "Hybrid (EASE + LM)" vs "EASE"), saying "the language model adds nothing measurable
    here" when the difference is not significant; and numeric ``cold_start*`` tables.
    """
    from filmrec_toolkit.audit.findings import comparison_finding
    from filmrec_toolkit.audit.metric_info import format_number

    out = []
    for r in results.values():
        for sentence in r.get("lm_findings", []) or []:
            out.append(str(sentence))
    for r in results.values():
        for row in r.get("comparisons", []) or []:
            a, b = str(row.get("model_a", "")), str(row.get("model_b", ""))
            with_lm = [m for m in (a, b) if "LM" in m]
            if len(with_lm) != 1:
                continue
            other = b if with_lm[0] == a else a
            if other not in with_lm[0]:  # only "X + LM" against X itself
                continue
            sentence = f"{with_lm[0]} against {other} alone: " + comparison_finding(row, alpha)
            p = row.get("p_holm", row.get("p_value"))
            if p is None or not p < alpha:
                out.append(f"The language model adds nothing measurable here: {sentence}")
            else:
                out.append(sentence)
    for r in results.values():
        for key, value in r.items():
            if not key.startswith("cold_start") or not isinstance(value, dict):
                continue
            parts = []
            for model, metrics in value.items():
                if isinstance(metrics, dict):
                    nums = ", ".join(f"{m} {format_number(v)}" for m, v in metrics.items()
                                     if isinstance(v, (int, float)))
                    if nums:
                        parts.append(f"{model}: {nums}")
                elif isinstance(metrics, (int, float)):
                    parts.append(f"{model} {format_number(metrics)}")
            if parts:
                out.append(f"{key.replace('_', ' ').capitalize()}: " + "; ".join(parts) + ".")
    return out


def data_paragraph(dataset: str, results: dict) -> str:
    """Data and protocol in one paragraph, from the dataset's summary and the notebooks' settings."""
    import filmrec_toolkit as ft

    k = next((r.get("k") for r in results.values() if "k" in r), 10)
    try:
        s = ft.load_movielens(dataset).summary()
    except Exception:  # an unknown data set: describe the protocol only
        return (f"Data set {dataset}. Models are compared on a per-user random 75/25 split, top {k}, every "
                "held-out rating relevant; differences are called significant only after a paired or rank test "
                "with Holm correction.")
    seed = next((r.get("seed") for r in results.values() if "seed" in r), 42)
    return (f"MovieLens {dataset.replace('ml-', '').upper()} ({dataset}): {int(s['n_ratings']):,} ratings of "
            f"{int(s['n_items']):,} films by {int(s['n_users']):,} users ({int(s['n_female_users'])} women, "
            f"{int(s['n_male_users'])} men), {s['rating_min']:g} to {s['rating_max']:g} stars, rated between "
            f"{s['first_rating']} and {s['last_rating']}. Films are described by their title, genres and an "
            f"offline plot overview, embedded with a small language model (all-MiniLM-L6-v2). Models are "
            f"compared on a per-user random 75/25 split (seed {seed}), recommending the top {k} films a user "
            f"has not rated; every held-out rating counts as relevant (the Microsoft Recommenders protocol). "
            f"The fairness audit adds the per-user temporal 70/10/20 split of Boratto et al. (ECIR 2022). "
            f"Differences are called significant only after a paired or rank test with Holm correction.")


def executive_summary(results: dict) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Sections of the index page's summary, from the notebooks' results JSON."""
    audit = results.get("04_bias_diversity_fairness_audit", {})
    f = audit.get("findings", {}) if isinstance(audit.get("findings"), dict) else {}
    served = f.get("summary") or [s for s in f.get("groups", []) if "served worse" in s]
    seg = results.get("02_user_profiles_and_segments", {})
    segments = []
    if seg.get("segment_labels"):
        from filmrec_toolkit.audit.metric_info import format_number

        sil = (seg.get("silhouette") or {}).get(str(seg.get("n_segments")))
        segments.append(f"{len(seg['segment_labels'])} audience segments"
                        + (f" (mean silhouette {format_number(sil, 2)})" if sil is not None else "") + ": "
                        + "; ".join(f"{i}: {label}" for i, label in enumerate(seg["segment_labels"])) + ".")
    segments += [r["structure_note"] for r in results.values() if r.get("structure_note")][:1]
    sections = [
        ("Best model", f.get("accuracy", [])),
        ("What the language model adds", lm_sentences(results)
         or ["No comparison with and without the language model was found in the results."]),
        ("Who is served worse", served),
        ("At equal activity", f.get("activity_summary") or f.get("activity", [])),
        ("Random vs temporal split", f.get("splits", [])),
        ("The published fairness finding", f.get("replication", [])[:1]),
        ("Best practical trade-off", f.get("tradeoff", [])),
        ("Popularity bias", f.get("exposure", [])),
        ("Audience segments", segments),
    ]
    return [(h, s) for h, s in sections if s], []


def _write_page(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_index(report_dir: Path, rows: list[dict], total_s: float, dataset: str) -> Path:
    """``reports/index.html``: the executive summary, data and protocol, and every page with its run time."""
    from filmrec_toolkit.templates import render

    results = _load_results(report_dir)
    summary, notes = executive_summary(results)
    pages = [{"name": "Audit report", "href": "audit.html" if (report_dir / "audit.html").exists() else "",
              "about": "For a manager: key findings, forest plot of gaps, accuracy vs diversity, glossary.",
              "seconds": "", "status": "ok" if (report_dir / "audit.html").exists() else "not written"}]
    for row in rows:
        pages.append({"name": row["name"].replace("_", " "), "href": row.get("html", ""),
                      "about": ABOUT.get(row["name"], ""), "seconds": f"{row['seconds']:.0f} s",
                      "status": "ok" if row["ok"] else f"failed: {row.get('error', '')}"})
    page = render("index.html.j2", title=f"filmrec_toolkit demo report ({dataset})",
                  nav=nav_links(report_dir), current="Summary",
                  lead=("What a language-model film recommender does on MovieLens, who it serves well and badly, "
                        "and what re-ranking buys; every sentence below is computed from the results."),
                  summary=summary, notes=notes, data_paragraph=data_paragraph(dataset, results), pages=pages,
                  generated=time.strftime("%Y-%m-%d %H:%M"), total=f"{total_s / 60:.1f} min")
    index = report_dir / "index.html"
    _write_page(index, scrub_paths(page, report_dir))
    return index


def add_nav_to_audit(report_dir: Path) -> None:
    """Put the navigation bar into ``audit.html`` (written by notebook 04 with a placeholder)."""
    audit = report_dir / "audit.html"
    if not audit.exists():
        return
    text = audit.read_text(encoding="utf-8")
    if "<!--filmrec-nav-->" in text:
        text = text.replace("<!--filmrec-nav-->", _nav_html(nav_links(report_dir), "Audit"), 1)
    _write_page(audit, scrub_paths(text, report_dir))


def summary_only(dataset: str) -> None:
    """The minimal path (no notebook found): load, split and print a summary."""
    import filmrec_toolkit as ft

    ds = ft.load_movielens(dataset)
    train, test = ft.stratified_split(ds, 0.75, random_state=42)
    print(ds.summary().to_string())
    print(f"train: {train!r}\ntest:  {test!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--report-dir", default=str(ROOT / "reports"))
    parser.add_argument("--only", nargs="*", help="notebook number prefixes, e.g. 01 03")
    parser.add_argument("--quick", action="store_true", help="small samples (smoke run)")
    parser.add_argument("--keep-going", action="store_true", help="run the next notebooks after a failure")
    args = parser.parse_args(argv)
    _env()

    notebooks = list_notebooks(args.only)
    if not notebooks:
        print("no notebooks found in notebooks/; printing the dataset summary instead")
        summary_only(args.dataset)
        return 0

    report_dir = Path(args.report_dir).resolve()
    for sub in ("notebooks", "results", "html"):
        (report_dir / sub).mkdir(parents=True, exist_ok=True)
    rows, failed = [], False
    start = time.perf_counter()
    print(f"running {len(notebooks)} notebook(s) on {args.dataset}; reports -> {report_dir}", flush=True)
    for i, path in enumerate(notebooks, 1):
        name = path.stem
        params = {"dataset": args.dataset, "report_dir": str(report_dir),
                  "results_path": str(report_dir / "results" / f"{name}.json"), "show_progress": False}
        if args.quick:
            params.update(QUICK_PARAMETERS.get(name, {}))
        print(f"[{i}/{len(notebooks)}] {name} ...", flush=True)
        row = {"name": name, "seconds": 0.0, "ok": False}
        t0 = time.perf_counter()
        try:
            executed, seconds = execute_notebook(path, report_dir / "notebooks", params)
            row.update(ok=True, seconds=seconds, results=f"results/{name}.json")
        except Exception as exc:  # report, render what ran, go on or stop
            row.update(seconds=time.perf_counter() - t0, error=f"{type(exc).__name__}: {str(exc)[:300]}")
            executed = report_dir / "notebooks" / path.name
            failed = True
            print(f"    FAILED after {row['seconds']:.1f} s: {row['error']}", flush=True)
        if executed.exists():
            notebook_to_html(executed, report_dir / "html" / f"{name}.html", report_dir)
            row["html"] = f"html/{name}.html"
        # the written notebook and its results keep no path of this machine (read back above first)
        scrub_file(executed, report_dir)
        scrub_file(report_dir / "results" / f"{name}.json", report_dir)
        rows.append(row)
        if row["ok"]:
            print(f"    done in {row['seconds']:.1f} s", flush=True)
        if failed and not args.keep_going:
            break
    total = time.perf_counter() - start
    add_nav_to_audit(report_dir)
    index = write_index(report_dir, rows, total, args.dataset)
    (report_dir / "results" / "timings.json").write_text(json.dumps(
        {"dataset": args.dataset, "total_s": round(total, 1),
         "notebooks": {r["name"]: round(r["seconds"], 1) for r in rows}}, indent=2))
    print(f"\nfinished in {total / 60:.1f} min")
    print(f"report:    {index}")
    if (report_dir / "audit.html").exists():
        print(f"audit:     {report_dir / 'audit.html'}")
    print(f"notebooks: {report_dir / 'html'} (static HTML), {report_dir / 'notebooks'} (executed .ipynb)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
