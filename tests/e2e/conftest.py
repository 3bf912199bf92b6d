"""Browser tests: Playwright drives Debian's chromium (never a downloaded browser)
against the live test server. Screenshots go to test-artifacts/screenshots/."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM
# calls are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def browser(live_server):
    # One browser per test, stopped before the test's database teardown: Playwright's
    # sync API keeps an event loop running in this thread, and while it runs Django
    # hands out another (context-local) connection, which has no serialized copy of
    # the migrated data to restore for the next test.
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"Browser tests need Debian's chromium at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# Playwright's init scripts and bindings bypass the page's CSP, so the listener itself
# is never blocked; it reports every violation on every page the test opens.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`);
});
"""


@pytest.fixture
def page(browser, live_server):
    """A browser tab; page.csp_violations lists every Content-Security-Policy violation
    its pages reported, and any left at the end fails the test."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
    violations = []
    context.expose_function("reportCspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.csp_violations = violations
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert violations == [], "Content-Security-Policy violations"


@pytest.fixture
def screenshot(page, request):
    """screenshot("name") saves a full-page PNG named after the test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def face_photo(tmp_path) -> Path:
    """scikit-image's astronaut: a real, public-domain portrait with one face, as a JPEG."""
    from PIL import Image
    from skimage import data as skimage_data

    path = tmp_path / "portrait.jpg"
    Image.fromarray(skimage_data.astronaut()).save(path, "JPEG", quality=92)
    return path
