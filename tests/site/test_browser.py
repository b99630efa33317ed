"""The site in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

Pages must load without console errors, every link must resolve over HTTP, the badge must render,
and screenshots at phone and desktop width are written to `test-output/screenshots/` for people to
look at. Without the browser or the Playwright client these tests skip, saying which is missing.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from bot.site import SiteSummary

playwright = pytest.importorskip("playwright.async_api", reason="the Playwright client is not installed")
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p and Path(p).is_file()), None)
if CHROMIUM is None:
    pytest.skip("no Chromium on this machine (apt-get install chromium)", allow_module_level=True)

SHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are checked by the browser's listeners, not logged."""


@pytest.fixture
def served(site: SiteSummary) -> Iterator[str]:
    """The site over HTTP on loopback, as a store would host it."""
    handler = functools.partial(Quiet, directory=str(site.out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def visit(browser: object, url: str, viewport: dict[str, int]) -> tuple[object, list[str]]:
    page = await browser.new_page(viewport=viewport)  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))
    page.on("response", lambda resp: problems.append(f"{resp.status}: {resp.url}") if resp.status >= 400 else None)
    await page.goto(url, wait_until="load")
    return page, problems


async def test_every_page_loads_cleanly_and_every_link_resolves(browser: object, served: str,
                                                                site: SiteSummary) -> None:
    seen: set[str] = set()
    queue = [urljoin(served, "index.html")]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        page, problems = await visit(browser, url, PHONE)
        assert not problems, (url, problems)
        for href in await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            if href.startswith(served) and href.endswith(".html"):
                queue.append(href)
        await page.close()
    assert len(seen) == len(list(site.out.rglob("*.html")))  # every page is reachable from the index


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_product_page_renders_its_badge_and_reads_at_phone_and_desktop_width(
    browser: object, served: str, lang: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page, problems = await visit(browser, urljoin(served, f"{lang}/product/SHAMPOO-001.html"), viewport)
        assert not problems
        width = await page.eval_on_selector("img.badge", "img => img.complete ? img.naturalWidth : 0")
        assert width == 220
        # Nothing wider than the screen: a phone never scrolls sideways.
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= viewport["width"]
        await page.screenshot(path=str(SHOTS / f"product-{lang}-{name}.png"), full_page=True)
        await page.close()
    page, problems = await visit(browser, urljoin(served, "badge/SHAMPOO-001.svg"), {"width": 240, "height": 60})
    assert not problems
    await page.screenshot(path=str(SHOTS / "badge.png"))
    await page.close()
