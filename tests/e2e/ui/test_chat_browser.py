"""The web chat in a real browser (Debian's Chromium through Playwright) against `smart0dte ui --demo`.

1. log in, see the SPY 0DTE chain as a table, stage a paper iron condor, click Confirm, see the fill
   and the position (and the buttons gone, so the click cannot be replayed);
2. typing "confirm" does nothing; clicking Cancel places nothing;
3. with a 5-second ticket TTL, a click after expiry is refused by the engine.
"""

from __future__ import annotations

import re

import pytest

from engine.settings import load_settings
from tests.e2e.ui.conftest import ALICE_PASSWORD
from tests.e2e.ui.helpers import login, scroll_to, send, shot, ticket_id

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

IRON_CONDOR = "Paper-sell a 5-wide SPY iron condor at 20 delta at market"


def _stage(page) -> str:
    send(page, IRON_CONDOR)
    page.get_by_role("button", name="Confirm").wait_for()
    scroll_to(page.get_by_text("Only your click sends this order").last)
    return ticket_id(page)


def test_chain_table_then_confirmed_iron_condor_fills(servers, page):
    server = servers["default"]
    login(page, server.url)
    assert page.locator("#smart0dte-mode-banner").inner_text() == "PAPER TRADING"
    for starter in ("SPY 0DTE chain", "Paper iron condor", "Backtest", "Portfolio this week", "Wash sales this year"):
        page.get_by_text(starter, exact=True).first.wait_for()
    page.locator("#chat-input").wait_for(state="visible")
    page.wait_for_timeout(1_000)  # only for the picture: the welcome screen fades in
    shot(page, "1-logged-in")

    send(page, "Show me the SPY 0DTE chain near the money")
    page.locator("#step-chain").wait_for()
    header = page.locator("th", has_text="Call bid").first
    header.wait_for()
    for col in ("Strike", "Put ask", "Call IV", "Put Δ"):
        assert page.locator("th", has_text=col).count() >= 1, col
    assert page.locator("td", has_text=re.compile(r"^650\.00$")).count() == 1  # the ATM strike row
    scroll_to(header)
    shot(page, "1-chain-table")

    ticket = _stage(page)
    for part in ("Max loss", "Breakevens", "Fees", "price_collar", "buying_power"):
        assert page.get_by_text(part).count() >= 1, part
    shot(page, "1-ticket-preview")

    page.get_by_role("button", name="Confirm").click()
    done = page.get_by_text(re.compile(rf"Order `?{ticket}`? FILLED"))
    done.wait_for()
    page.get_by_text("Positions now").wait_for()
    positions = page.locator("td", has_text=re.compile(r"^SPY261120[CP]00\d{6}$"))
    positions.first.wait_for()
    assert positions.count() >= 4  # the four legs of the condor
    assert page.get_by_role("button", name="Confirm").count() == 0  # gone: the click cannot be replayed
    scroll_to(page.get_by_text("Positions now"))
    shot(page, "1-filled-and-position")


def test_typing_confirm_does_nothing_and_cancel_places_nothing(servers, page):
    server = servers["default"]
    login(page, server.url)
    ticket = _stage(page)

    send(page, "confirm")
    assert page.get_by_role("button", name="Confirm").count() == 1  # still pending: words confirm nothing
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text(re.compile(rf"Cancelled ticket `?{ticket}`?")).wait_for()
    assert page.get_by_role("button", name="Confirm").count() == 0
    shot(page, "2-cancelled")

    send(page, "show my orders")
    page.locator("#step-orders").last.wait_for()
    page.get_by_text(re.compile(r"No .*orders|Order")).last.wait_for()
    orders_step = page.locator("#step-orders").last.locator("xpath=ancestor::div[1]/..")
    assert ticket not in orders_step.inner_text()
    assert not page.get_by_text(re.compile(rf"Order `?{ticket}`? ")).count()
    shot(page, "2-nothing-placed")


def test_expired_ticket_is_refused(servers, page):
    server = servers["ttl5"]
    login(page, server.url)
    ticket = _stage(page)
    assert page.get_by_text("expires 5 s after staging").count() >= 1
    page.wait_for_timeout(6_500)  # the point of the test: let the 5-second ticket run out
    page.get_by_role("button", name="Confirm").click()
    refused = page.get_by_text(re.compile(r"Not sent:.*expire", re.I))
    refused.wait_for()
    assert ticket  # the refused ticket was a real one
    assert page.get_by_text(re.compile(rf"Order `?{ticket}`? FILLED")).count() == 0
    scroll_to(refused)
    shot(page, "3-expired-refused")


def _switch(page, mode: str, typed: str = "") -> None:
    page.click("#chat-settings-open-modal")
    page.click("#mode")
    page.get_by_role("option", name=mode, exact=True).click()
    page.fill("#typed", typed)
    if typed == "LIVE":
        shot(page, "4-settings-panel")
    page.click("#confirm")


def test_switching_to_live_is_a_persons_typed_action(servers, page):
    server = servers["ttl5"]  # started with live trading armed and a live broker named
    login(page, server.url)
    send(page, "switch to live trading")  # words ask nothing of the engine: the model cannot switch modes
    page.get_by_text(re.compile(r"can.t switch", re.I)).first.wait_for()
    assert page.locator("#smart0dte-mode-banner").inner_text() == "PAPER TRADING"

    _switch(page, "live", "live")  # not the word LIVE
    refused = page.get_by_text(re.compile(r"Trading mode unchanged"))
    refused.wait_for()
    why = refused.locator("xpath=..").inner_text()
    assert "(PAPER)" in why and "typed confirmation LIVE" in why, why

    _switch(page, "live", "LIVE")
    page.get_by_text(re.compile(r"Trading mode is now")).first.wait_for()
    page.wait_for_function("document.getElementById('smart0dte-mode-banner').dataset.mode === 'LIVE'")
    assert page.locator("#smart0dte-mode-banner").inner_text().startswith("LIVE TRADING")
    shot(page, "4-live-mode")

    _switch(page, "paper")
    page.get_by_text(re.compile(r"Trading mode is now")).nth(1).wait_for()
    page.wait_for_function("document.getElementById('smart0dte-mode-banner').dataset.mode === 'PAPER'")

    from engine.store.audit import AuditLog
    from engine.store.db import Database

    db = Database(load_settings(home=server.home))  # the server's own audit log, read from outside
    try:
        switches = [(r["actor"], r["data"]["to"]) for r in AuditLog(db).tail(200, kind="mode.switch")]
    finally:
        db.dispose()
    assert switches[-2:] == [("person:demo@web", "live"), ("person:demo@web", "paper")], switches


def test_history_resumes_with_its_chart_and_delete_removes_it(servers, page):
    server = servers["ttl5"]
    login(page, server.url)
    question = "payoff of a 5-wide SPY iron condor at 20 delta"
    send(page, question)
    page.locator("#step-strategy_payoff").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    thread_url = page.url
    assert "/thread/" in thread_url
    page.locator("#thread-history").get_by_text(question[:20]).first.wait_for()  # saved before we leave

    page.click("#new-chat-button")
    page.get_by_text("SPY 0DTE chain").first.wait_for()
    page.locator("#thread-history").get_by_text(question[:20]).first.click()
    page.wait_for_url(thread_url)
    page.locator("#step-strategy_payoff").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the figure comes back from our database
    scroll_to(page.locator(".js-plotly-plot").first)
    shot(page, "5-resumed-thread-with-payoff")

    entry = page.locator("#thread-history").get_by_text(question[:20]).first
    entry.hover()
    page.click("#thread-options")
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Confirm").click()
    page.locator("#thread-history").get_by_text(question[:20]).wait_for(state="detached")
    shot(page, "5-thread-deleted")
    page.goto(thread_url)  # the old address no longer opens the conversation
    page.get_by_text(re.compile(r"Couldn.t resume chat|Could not reach")).first.wait_for()
    assert page.locator("#step-strategy_payoff").count() == 0
    assert page.locator("#thread-history").get_by_text(question[:20]).count() == 0


def test_threads_are_per_person(servers, page, browser):
    server = servers["default"]
    login(page, server.url)
    send(page, "What did I lose to wash sales this year?")
    page.locator("#step-tax_summary").wait_for()
    page.locator("#thread-history").get_by_text("What did I lose").first.wait_for()
    other = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US", color_scheme="light")
    try:
        alice = other.new_page()
        alice.set_default_timeout(90_000)
        login(alice, server.url, "alice", ALICE_PASSWORD)
        alice.get_by_text("No threads found").wait_for()
        send(alice, "What's my P&L this week?")
        alice.locator("#step-pnl").wait_for()
        alice.locator("#thread-history").get_by_text("What's my P&L").first.wait_for()
        ids = alice.eval_on_selector_all("#thread-history [id^='thread-']", "els => els.map(e => e.id)")
        assert len([i for i in ids if re.fullmatch(r"thread-[0-9a-f-]{36}", i)]) == 1, ids  # only her own
        shot(alice, "6-alice-own-threads")
    finally:
        other.close()
    page.reload()
    page.locator("#thread-history").get_by_text("What did I lose").first.wait_for()
    assert page.locator("#thread-history").get_by_text("What's my P&L").count() == 0


def test_a_failing_tool_shows_one_clear_line_not_a_stack_trace(servers, page):
    server = servers["ttl5"]
    login(page, server.url)
    send(page, "backtest SPY iron condor over the last 30 days")  # no imported bars in a fresh home
    page.locator("#step-backtest").first.wait_for()
    error = page.get_by_text(re.compile(r"Error:")).first
    error.wait_for()
    assert "minute bars" in error.locator("xpath=..").inner_text()
    body = page.inner_text("body")
    assert "Traceback" not in body and 'File "' not in body
    scroll_to(error)
    shot(page, "7-tool-error")
