"""``make demo``: run the five notebooks headless on offline ml-100k and write ``reports/``.

What it does, in order:

1. executes ``notebooks/0*.ipynb`` with papermill (one progress bar per notebook, one
   line per finished notebook with its run time), passing each the ``dataset``,
   ``results_path`` and ``report_dir`` parameters;
2. writes the executed notebooks to ``reports/notebooks/``, their JSON results to
   ``reports/results/``, and each notebook rendered to static HTML (figures embedded as
   PNG, no script or stylesheet fetched from the network) to ``reports/html/``;
3. notebook 04 writes the audit's ``AuditReport.to_html`` page to ``reports/audit.html``;
4. writes ``reports/index.html`` linking everything, with run times, and prints where it is.

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


def notebook_to_html(executed: Path, html_path: Path) -> Path:
    """Static HTML of an executed notebook that needs no network to display.

    Widget state is dropped (the static page shows each widget's text fallback and the
    HTML snapshot the notebook prints next to it), and the MathJax / require.js /
    widget-manager URLs are blanked so the page never reaches out.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    nb = nbformat.read(str(executed), as_version=4)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                data.pop("application/vnd.jupyter.widget-view+json")
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
    body, _ = exporter.from_notebook_node(nb)
    body = _strip_remote_tags(body)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def _strip_remote_tags(page: str) -> str:
    """Remove ``<script src=http...>`` / ``<link href=http...>`` tags left by the template."""
    import re

    page = re.sub(r"<script[^>]+src=\"(https?:)?//[^\"]*\"[^>]*>\s*</script>", "", page)
    page = re.sub(r"<script[^>]+src=\"\"[^>]*>\s*</script>", "", page)
    page = re.sub(r"<link[^>]+href=\"(https?:)?//[^\"]*\"[^>]*/?>", "", page)
    return page


def write_index(report_dir: Path, rows: list[dict], total_s: float, dataset: str) -> Path:
    """``reports/index.html``: links to the audit page and every notebook, with run times."""
    lines = []
    for row in rows:
        status = "ok" if row["ok"] else f"<b style='color:#b00'>failed</b>: {html.escape(row.get('error', ''))}"
        link = f"<a href='{row['html']}'>{html.escape(row['name'])}</a>" if row.get("html") else html.escape(row["name"])
        results = f"<a href='{row['results']}'>results</a>" if row.get("results") else ""
        lines.append(f"<tr><td>{link}</td><td style='text-align:right'>{row['seconds']:.1f}</td>"
                     f"<td>{status}</td><td>{results}</td></tr>")
    audit = ("<p><a href='audit.html'><b>Audit report</b></a> (bias, diversity and fairness; "
             "written by notebook 04 with <code>AuditReport.to_html</code>)</p>"
             if (report_dir / "audit.html").exists() else "<p>No audit report (notebook 04 did not run).</p>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>filmrec_toolkit demo report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.3em .8em}}</style></head>
<body><h1>filmrec_toolkit demo report</h1>
<p>Dataset <code>{html.escape(dataset)}</code>, generated {time.strftime('%Y-%m-%d %H:%M:%S')},
total {total_s / 60:.1f} min. Every page here is static and works offline.</p>
{audit}
<h2>Notebooks</h2>
<table><tr><th>notebook</th><th>seconds</th><th>status</th><th></th></tr>
{''.join(lines)}
</table>
<p>Executed notebooks (with outputs) are in <code>notebooks/</code> next to this page.</p>
</body></html>
"""
    index = report_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


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
            notebook_to_html(executed, report_dir / "html" / f"{name}.html")
            row["html"] = f"html/{name}.html"
        rows.append(row)
        if row["ok"]:
            print(f"    done in {row['seconds']:.1f} s", flush=True)
        if failed and not args.keep_going:
            break
    total = time.perf_counter() - start
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
