"""Real-browser test: notebook 05 served by Voilà, driven in Debian's chromium by Playwright.

Voilà listens on 127.0.0.1 only, on a free port, behind a random token. The test picks a
second user in the UserInspector's "user" dropdown, checks that the recommendation list
changes, saves screenshots under the test's output folder (``tests/_output/browser/``,
git-ignored) and shuts Voilà down (SIGTERM, then its process group if it lingers).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_interactive_inspection.ipynb"
OUTPUT = ROOT / "tests" / "_output" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.slow, pytest.mark.realdata]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until Voilà accepts connections (a plain connect: a GET would start a kernel)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"voila did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@contextmanager
def serve_voila(notebook: Path, workdir: Path, log: Path):
    """Serve ``notebook`` (copied into ``workdir/notebooks``) on 127.0.0.1 with a token; yield its URL."""
    nb_dir = workdir / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    target = nb_dir / notebook.name
    shutil.copy(notebook, target)  # relative outputs (../reports) land in workdir, not the repo
    port, token = _free_port(), secrets.token_hex(16)
    voila = Path(sys.executable).with_name("voila")
    cmd = [str(voila), str(target), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           f"--token={token}", "--show_tracebacks=True",
           "--VoilaExecutor.timeout=600"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", MPLBACKEND="Agg")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=nb_dir,
                                start_new_session=True)
    try:
        _wait_port(port, proc, timeout=90)
        yield f"http://127.0.0.1:{port}/?token={token}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # our own process group (voila and its kernel)
            proc.wait(timeout=10)


def _recommendations_text(page) -> str:
    return page.locator(".filmrec-recommendations").first.inner_text(timeout=5_000)


def test_voila_user_inspector_switches_user(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("voila")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium (make test does it)")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with serve_voila(NOTEBOOK, tmp_path, tmp_path / "voila.log") as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            external = []  # the test runs offline: anything not local is recorded and aborted

            def offline(route):
                external.append(route.request.url)
                route.abort()

            page.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]|data:|blob:|about:).*"), offline)
            page.goto(url, timeout=120_000)
            # Voilà executes the notebook before it shows the widgets
            page.wait_for_selector(".filmrec-recommendations table", timeout=480_000)
            user_select = page.locator(".widget-dropdown", has=page.locator("label", has_text=re.compile(r"^user$")))
            select = user_select.locator("select")
            selected = "s => s.options[s.selectedIndex].text"
            first_user = select.evaluate(selected)
            before = _recommendations_text(page)
            page.screenshot(path=str(OUTPUT / "voila_first_user.png"), full_page=True)

            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=1 if current != 1 else 0)  # a user other than the one shown
            second_user = select.evaluate(selected)
            page.wait_for_function(
                "prev => { const e = document.querySelector('.filmrec-recommendations');"
                " return e && e.querySelector('table') && e.innerText !== prev; }", arg=before, timeout=60_000)
            after = _recommendations_text(page)
            page.screenshot(path=str(OUTPUT / "voila_second_user.png"), full_page=True)
            error_text = page.locator(".filmrec-error").all_inner_texts()
        finally:
            browser.close()
    assert second_user != first_user
    assert after != before
    # the list is a real top-k table for the new user, and no callback error is shown
    assert after.count("\n") >= 5
    assert not error_text, error_text
    assert (OUTPUT / "voila_second_user.png").stat().st_size > 10_000
    # Voilà's own template asks a CDN for icon fonts (aborted here); no script may come from the network
    assert not [u for u in external if u.split("?")[0].endswith(".js")], external
