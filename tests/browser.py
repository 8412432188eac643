"""Headless Chromium for tests that look at pages the way a person would.

Chromium and its driver come from the system packages (Debian: ``chromium`` and ``chromium-driver``;
``.ci/run`` installs them). Selenium is given the driver's path, so it never tries to download one.
Tests that need a browser use the ``browser`` fixture, which skips with a clear reason when the
system packages are missing. ``chromium(offline=True)`` is a browser without a network: every request
to a host other than the loopback fails (the resolver knows no name but localhost, and every other
request goes to a proxy that is not there), and the DevTools log records every request.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver",)
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1600")
# no network but the loopback: names do not resolve, and IP addresses go to a proxy on a closed port
# (Chromium never sends loopback requests through a proxy)
OFFLINE_FLAGS = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9")


def find_browser() -> tuple[str, str] | None:
    chromium = next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None) or shutil.which("chromium")
    driver = next((p for p in DRIVER_CANDIDATES if Path(p).exists()), None) or shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@contextmanager
def chromium(offline: bool = False):
    """A headless Chromium WebDriver with a fresh profile; quit on exit. ``offline``: without a network
    (:data:`OFFLINE_FLAGS`), with DevTools' network events and the console kept for ``get_log``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError("Chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    binary, driver_path = found
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (*FLAGS, *(OFFLINE_FLAGS if offline else ()), f"--user-data-dir={profile}"):
        options.add_argument(flag)
    if offline:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
