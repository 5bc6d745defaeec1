"""Open every page of ``reports/`` in headless chromium with the network cut, and check it.

For each HTML page (``index.html``, ``audit.html``, ``html/*.html``):

- every ``<img>`` loaded (``naturalWidth > 0``);
- no request left the machine (anything but ``file:``/``data:``/``about:``/``blob:`` is
  aborted and listed);
- the page has the navigation bar (``nav.filmrec-nav``) and a title of its own (no two
  pages share one, and none is the generic "Notebook");
- nothing is wider than the 1280 px viewport: the page does not scroll sideways, and no
  element sticks out past the right edge unless it sits inside a scrolling box;
- ``index.html`` and ``audit.html`` show their summary sentences (``.summary-sentences li``);
- a full-page screenshot goes to ``reports/screenshots/<page>.png``.

Exit status 1 if any page fails a check; ``reports/screenshots/check.json`` lists them.

Usage::

    python scripts/check_report.py [reports]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WIDTH = 1280

#: elements sticking out to the right, ignoring those inside a horizontally scrolling box
_OVERFLOW_JS = """(width) => {
  const out = [];
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p); if (['auto', 'scroll', 'hidden'].includes(s.overflowX)) return true; }
    return false; };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && !scrolls(el)) {
      out.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') + ' ' + Math.round(r.right) + 'px');
      if (out.length >= 5) break;
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: out};
}"""


def _pages(report_dir: Path) -> list[Path]:
    pages = [report_dir / "index.html", report_dir / "audit.html", *sorted((report_dir / "html").glob("*.html"))]
    return [p for p in pages if p.exists()]


def check(report_dir: Path, screenshots: bool = True) -> list[dict]:
    """Check every page; one dict per page with its problems (empty list = fine)."""
    from playwright.sync_api import sync_playwright

    report_dir = Path(report_dir)
    shots = report_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for path in _pages(report_dir):
                page = browser.new_page(viewport={"width": WIDTH, "height": 900})
                external: list[str] = []

                def block(route, external=external):
                    external.append(route.request.url)
                    route.abort()

                page.route(lambda url: not url.startswith(("file:", "data:", "about:", "blob:")), block)
                page.goto(path.resolve().as_uri(), wait_until="load")
                images = page.evaluate(
                    "() => Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt || ''])")
                layout = page.evaluate(_OVERFLOW_JS, WIDTH)
                name = str(path.relative_to(report_dir))
                row = {"page": name, "title": page.title(), "images": len(images),
                       "broken_images": sum(not ok for ok, _ in images), "external_requests": external,
                       "has_nav": page.locator("nav.filmrec-nav").count() > 0,
                       "sentences": page.locator(".summary-sentences li").count(),
                       "scroll_width": layout["scrollWidth"], "wide_elements": layout["wide"]}
                if screenshots:
                    shot = shots / f"{path.stem}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    row["screenshot"] = str(shot.relative_to(report_dir))
                rows.append(row)
                page.close()
        finally:
            browser.close()
    titles = [r["title"] for r in rows]
    for row in rows:
        problems = []
        if row["broken_images"]:
            problems.append(f"{row['broken_images']} broken image(s)")
        if row["external_requests"]:
            problems.append(f"{len(row['external_requests'])} request(s) left the machine")
        if not row["has_nav"]:
            problems.append("no navigation bar")
        if not row["title"] or row["title"].strip().lower() == "notebook" or titles.count(row["title"]) > 1:
            problems.append(f"title {row['title']!r} is not the page's own")
        if row["scroll_width"] > WIDTH or row["wide_elements"]:
            problems.append(f"wider than {WIDTH} px (scrollWidth {row['scroll_width']}; {row['wide_elements']})")
        if row["page"] in ("index.html", "audit.html") and row["sentences"] == 0:
            problems.append("no summary sentences")
        row["problems"] = problems
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    report_dir = Path(argv[0] if argv else Path(__file__).resolve().parents[1] / "reports")
    rows = check(report_dir)
    for row in rows:
        flag = "ok" if not row["problems"] else "PROBLEM"
        print(f"{flag:8s} {row['page']:48s} {row['title'][:50]!r:54s} -> {row.get('screenshot', '')}")
        for problem in row["problems"]:
            print(f"         {problem}")
    (report_dir / "screenshots" / "check.json").write_text(json.dumps(rows, indent=2))
    if not rows:
        print(f"no pages found in {report_dir}")
        return 1
    return 1 if any(r["problems"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
