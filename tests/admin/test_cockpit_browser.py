"""The cockpit page in headless Chromium: sign in, see the venues, watch a gate scan arrive live.

Debian's chromium (installed by scripts/setup.sh) driven by Playwright; nothing is downloaded.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from factories import make_reservable_venue, make_staff_token, make_ticket
from playwright import async_api as playwright_api

from server.accounts import service as accounts
from server.tickets import service as tickets

CHROMIUM = Path("/usr/bin/chromium")
WIDE_OPEN_MINUTES = 3 * 24 * 60  # tomorrow's default slot may be scanned now, at any hour


@pytest.fixture(autouse=True)
def chromium_is_installed() -> None:
    # Failing, not skipping: a set-up that lost the browser must not pass unnoticed.
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/setup.sh (it installs Debian's chromium)")


async def test_the_cockpit_shows_a_scan_live_and_raises_a_warning_banner(server, tmp_path):
    venue = await make_reservable_venue(
        instant_capacity=1, entry_early_minutes=WIDE_OPEN_MINUTES, name={"zh-CN": "温州博物馆"}
    )
    ticket = await make_ticket(venue)
    _, gate_token = await make_staff_token(server.app, venue, "venue_staff")
    await accounts.create_staff_user(
        username="cockpit.admin", password="cockpit-password-1", role="admin"
    )

    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{server.url}/admin/")
            await page.fill("#username", "cockpit.admin")
            await page.fill("#password", "cockpit-password-1")
            await page.click("#login-form button[type=submit]")

            row = page.locator(f'tr[data-venue-id="{venue.id}"]')
            await row.locator(".inside").wait_for()
            assert await row.locator(".name").inner_text() == "温州博物馆"
            assert await row.locator(".inside").inner_text() == "0"
            await page.wait_for_selector('body[data-stream="live"]', timeout=15_000)
            await page.wait_for_function("document.querySelector('#chart-hourly canvas') !== null")

            qr, _ = tickets.qr_text(server.app.ctx.signer, ticket, now=time.time())
            scan = await server.client.post(
                "/api/v1/gate/scan",
                json={"qr": qr},
                headers={"Authorization": f"Bearer {gate_token}"},
            )
            assert scan.json()["admitted"] is True

            # No reload: the number changes because the gate's event reached the page.
            await page.wait_for_function(
                "sel => document.querySelector(sel).textContent === '1'",
                arg=f'tr[data-venue-id="{venue.id}"] .inside',
                timeout=10_000,
            )
            assert await row.get_attribute("data-level") == "full"
            assert await row.locator(".percent").inner_text() == "100%"
            assert await page.locator('[data-kpi="kpi_inside"] .value').inner_text() == "1"
            banner = page.locator(f'.banner[data-venue-id="{venue.id}"]').first
            await banner.wait_for(timeout=10_000)
            assert "温州博物馆" in await banner.inner_text()

            screenshot = tmp_path / "cockpit.png"
            await page.screenshot(path=str(screenshot), full_page=True)
            assert screenshot.stat().st_size > 10_000
            assert errors == []
        finally:
            await browser.close()


async def test_a_venue_manager_is_told_the_cockpit_is_for_admins(server):
    venue = await make_reservable_venue()
    await accounts.create_staff_user(
        username="museum.manager",
        password="manager-password-1",
        role="venue_manager",
        venue_code=venue.code,
    )

    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{server.url}/admin/")
            await page.fill("#username", "museum.manager")
            await page.fill("#password", "manager-password-1")
            await page.click("#login-form button[type=submit]")
            await page.wait_for_function("document.querySelector('#login-error').textContent")
            assert "管理员" in await page.locator("#login-error").inner_text()
            assert await page.locator("#cockpit").is_hidden()
        finally:
            await browser.close()
