"""Open every page of ``reports/`` in headless chromium with the network cut, and check it.

For each HTML page: every ``<img>`` must have loaded (``naturalWidth > 0``), no request may
leave the machine (anything but ``file:``/``data:`` is aborted and listed), and a
full-page screenshot is written next to the report (``reports/screenshots/<page>.png``).
Exit status 1 if a page has a broken image or tried to reach the network.

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


def check(report_dir: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    pages = sorted([report_dir / "index.html", report_dir / "audit.html", *(report_dir / "html").glob("*.html")])
    pages = [p for p in pages if p.exists()]
    shots = report_dir / "screenshots"
    shots.mkdir(exist_ok=True)
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for path in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                external: list[str] = []

                def block(route, external=external):
                    external.append(route.request.url)
                    route.abort()

                page.route(lambda url: not url.startswith(("file:", "data:", "about:", "blob:")), block)
                page.goto(path.resolve().as_uri(), wait_until="load")
                images = page.evaluate(
                    "() => Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.alt || ''])")
                shot = shots / f"{path.stem}.png"
                page.screenshot(path=str(shot), full_page=True)
                rows.append({"page": str(path.relative_to(report_dir)), "images": len(images),
                             "broken_images": sum(not ok for ok, _ in images), "external_requests": external,
                             "screenshot": str(shot)})
                page.close()
        finally:
            browser.close()
    return rows


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    report_dir = Path(argv[0] if argv else Path(__file__).resolve().parents[1] / "reports")
    rows = check(report_dir)
    bad = False
    for row in rows:
        flag = "ok" if not row["broken_images"] and not row["external_requests"] else "PROBLEM"
        bad |= flag != "ok"
        print(f"{flag:8s} {row['page']:50s} images {row['images']:3d} broken {row['broken_images']} "
              f"external {len(row['external_requests'])} -> {row['screenshot']}")
        for url in row["external_requests"][:5]:
            print(f"         blocked: {url}")
    (report_dir / "screenshots" / "check.json").write_text(json.dumps(rows, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
