"""A real browser: `meanfolio lab` on a free localhost port driven by headless Chromium (Playwright).

Checked besides the pages: every request the browser makes goes to the lab's own server (the lab works
offline and leaks nothing), values outside an input's bounds are refused, Stop interrupts a long run and no
stale result is shown after it, and the server ends with the test (no orphan keeps the port).

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


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


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
        yield url, proc.pid
    finally:
        proc.terminate()  # `meanfolio lab` is the server itself (exec): SIGTERM ends it
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        assert code is not None, "the lab ignored SIGTERM"
        deadline = time.time() + 10
        while port_in_use(port) and time.time() < deadline:
            time.sleep(0.2)
        assert not port_in_use(port), f"port {port} is still served after the lab ended: an orphan server"


def _rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def test_lab_in_a_real_browser(lab_url, tmp_path):
    import psutil

    lab_url, pid = lab_url
    exe = chromium()
    if exe is None:
        pytest.skip("no Chromium found (install Debian's chromium or set MEANFOLIO_CHROMIUM)")
    from playwright.sync_api import expect, sync_playwright

    shots = [tmp_path / "lab_mfg.png", tmp_path / "lab_optimizer.png"]
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        page.on("request", lambda request: requests.append(request.url))
        page.goto(lab_url)
        # bounds: a grid far above the page's limit is refused by the input, the estimate keeps the old grid
        expect(page.get_by_text("estimate: 5,000 cells")).to_be_visible(timeout=60_000)
        nx = page.get_by_role("spinbutton", name="space points per axis")
        nx.fill("10000000")
        nx.press("Enter")
        page.wait_for_timeout(1500)
        expect(page.get_by_text("estimate: 5,000 cells")).to_be_visible()
        # Stop cancels a long solve and frees its memory: the server's CPU and RSS go back to idle
        nt = page.get_by_role("spinbutton", name="time points")
        for widget, value in ((nx, "2000"), (nt, "2000")):
            widget.fill(value)
            widget.press("Enter")
            page.wait_for_timeout(800)
        expect(page.get_by_text("estimate: 4,000,000 cells")).to_be_visible()
        before = _rss_mb(pid)
        page.get_by_role("button", name="Solve").click()
        expect(page.get_by_text("iteration ", exact=False).first).to_be_visible(timeout=120_000)
        during = _rss_mb(pid)
        page.get_by_role("button", name="Stop").click()
        # the run ends at its next iteration: its progress line goes, the hint comes back, no result is shown
        expect(page.get_by_text("iteration ", exact=False)).to_have_count(0, timeout=120_000)
        expect(page.get_by_text("Set the game and press Solve.")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("mass error")).to_have_count(0)
        deadline = time.time() + 15
        while _rss_mb(pid) > before + 0.25 * (during - before) and time.time() < deadline:
            time.sleep(0.5)
        after = _rss_mb(pid)
        assert during - before > 200, (before, during)  # the solve was running and large
        assert after < before + 0.25 * (during - before), (before, during, after)
        assert psutil.Process(pid).cpu_percent(1.0) < 30  # nothing keeps computing after Stop
        nx.fill("100")
        nx.press("Enter")
        nt.fill("50")
        nt.press("Enter")
        page.wait_for_timeout(800)
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
        # Stop: a finished short run, then a long one stopped: the page shows no stale result and stays usable
        page.get_by_text("Kinetic market", exact=True).click()
        steps = page.get_by_role("spinbutton", name="steps")
        steps.fill("200")
        steps.press("Enter")
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("steps done")).to_be_visible(timeout=120_000)
        steps.fill("2000000")
        steps.press("Enter")
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("step ", exact=False).first).to_be_visible(timeout=60_000)
        page.get_by_role("button", name="Stop").click()
        expect(page.get_by_text("Pick a preset and press Run.")).to_be_visible(timeout=30_000)
        expect(page.get_by_text("steps done")).to_have_count(0)
        expect(page.get_by_text("Traceback")).to_have_count(0)
        browser.close()
    outside = sorted({url for url in requests if not url.startswith((lab_url, "data:", "blob:"))})
    assert requests and not outside, f"the lab made requests outside {lab_url}: {outside}"
    for shot in shots:
        assert shot.stat().st_size > 20_000
    target = os.environ.get("MEANFOLIO_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copyfile(shot, Path(target) / shot.name)
