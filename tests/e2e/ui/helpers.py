"""Browser helpers shared by the UI tests: log in, send a message, take a screenshot, read a ticket id."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "tests" / "artifacts" / "ui"


def scroll_to(locator) -> None:
    """Bring ``locator`` into view for a screenshot; the chat re-renders while streaming, so retry."""
    for _ in range(5):
        try:
            locator.scroll_into_view_if_needed(timeout=5_000)
            return
        except Exception:  # detached by a re-render: find it again
            locator.page.wait_for_timeout(200)


def shot(page, name: str) -> None:
    """Save a screenshot of what a person sees now."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def login(page, url: str, user: str = "demo", password: str = "demo") -> None:
    page.goto(url + "/login")
    page.fill("#email", user)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#chat-input")
    page.get_by_text("SPY 0DTE chain").first.wait_for()  # starters shown: the chat session is connected


def send(page, text: str) -> None:
    """Type a message and send it; waits until it shows as the person's message."""
    before = page.get_by_text(text, exact=True).count()
    page.fill("#chat-input", text)
    page.locator("#chat-submit").click()
    page.wait_for_function(
        "([t, n]) => [...document.querySelectorAll('body *')].filter(e => e.childElementCount === 0 && "
        "e.textContent.trim() === t).length > n", arg=[text, before])


def ticket_id(page) -> str:
    """The id of the newest staged ticket shown on the page."""
    text = page.get_by_text(re.compile(r"PAPER ticket")).last.inner_text()
    found = re.findall(r"T[0-9A-F]{12}", text)
    assert found, f"no ticket id in {text!r}"
    return found[-1]
