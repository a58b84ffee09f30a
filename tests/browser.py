"""A real Streamlit server and headless Chromium, for browser tests and the bench."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does this)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(db_path: Path, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """Start `streamlit run server.py` (dashboard.py with the sign-in cookie's routes) on a free port,
    with the repository's Streamlit settings
    (.streamlit/config.toml: it listens on localhost); yields its base URL. Without sign-in
    (CRM_AUTH=none) unless `env` says otherwise. The server's output goes to `log` if given."""
    port = _free_port()
    env = {**os.environ, "CRM_AUTH": "none", "CRM_DB": str(db_path), **(env or {})}
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.headless", "true",
         "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    host = env.get("STREAMLIT_SERVER_ADDRESS", "127.0.0.1")
    base = f"http://{host}:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the app did not answer /_stcore/health within 60 s")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if log:
            output.close()


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000, guard: bool = True):
    """A page in headless Chromium. `guard`: every request passes through a check that refuses
    what would leave this machine (for tests). Timings use guard=False: routing requests through
    Playwright switches the browser's cache off, so each page load fetched Streamlit's 130 files
    again (1.6 s a screen-pop instead of 0.6), which no agent's browser does."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # A context of its own, so a test can open a second tab in the same browser
            # (page.context.new_page(): the same cookies, as an agent's screen-pop gets).
            context = browser.new_context(viewport={"width": width, "height": height})
            if guard:
                context.route(_leaves_this_machine, _refuse)  # whatever a page tries to send out stays here
            yield context.new_page()
        finally:
            browser.close()


REFUSED_REQUESTS: list[str] = []


def _leaves_this_machine(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return url.startswith(("http:", "https:", "ws:", "wss:")) and not (
        host == "localhost" or host == "::1" or host.startswith("127."))


def _refuse(route) -> None:
    REFUSED_REQUESTS.append(route.request.url)
    route.abort()


def search_and_wait(page, base: str, typed: str, expected_name: str, timeout_ms: int = 15_000) -> float:
    """Open /customer, type into the first text box, press Enter; seconds until the name shows."""
    page.goto(base + "/customer")
    box = page.locator("input[type='text']").first
    box.wait_for(timeout=timeout_ms)
    box.fill(typed)
    started = time.perf_counter()
    box.press("Enter")
    page.get_by_role("heading", name=expected_name).first.wait_for(timeout=timeout_ms)
    return time.perf_counter() - started
