"""A real browser: `meanfolio lab` on a free localhost port driven by headless Chromium (Playwright).

Chromium is the system one (Debian's package; `.ci/run` installs it when
absent); set MEANFOLIO_CHROMIUM to use another executable. The test skips,
saying why, only when no Chromium exists. Screenshots go to the test's
temporary folder (and to MEANFOLIO_SCREENSHOTS if set).
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def chromium() -> str | None:
    env = os.environ.get("MEANFOLIO_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab_url():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "meanfolio.cli", "lab", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://localhost:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"meanfolio lab did not start on port {port}: {out[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_lab_in_a_real_browser(lab_url, tmp_path):
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium found (install Debian's chromium or set MEANFOLIO_CHROMIUM)")
    from playwright.sync_api import expect, sync_playwright

    shots = [tmp_path / "lab_mfg.png", tmp_path / "lab_optimizer.png"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.goto(lab_url)
        page.get_by_role("button", name="Solve").click()
        expect(page.get_by_text("mass error")).to_be_visible(timeout=120_000)
        expect(page.get_by_text("Set the game and press Solve.")).to_have_count(0)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots[0]), full_page=True)
        page.get_by_text("Optimizer", exact=True).click()
        expect(page.get_by_role("button", name="Run")).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("best value")).to_be_visible(timeout=120_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(shots[1]), full_page=True)
        # a long kinetic run stops on the Stop button and the page stays usable
        page.get_by_text("Kinetic market", exact=True).click()
        steps = page.get_by_label("steps")
        steps.fill("2000000")
        steps.press("Enter")
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("step ", exact=False).first).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Stop").click()
        expect(page.get_by_text("Pick a preset and press Run.")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Traceback")).to_have_count(0)
        browser.close()
    for shot in shots:
        assert shot.stat().st_size > 20_000
    target = os.environ.get("MEANFOLIO_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, Path(target) / shot.name)
