"""The gate's rules judged at chosen moments: slot tolerance, the 60 s window, thresholds."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import fakeredis
import pytest
from factories import make_reservable_venue, make_slot, make_staff_token, make_ticket

from server.clock import LOCAL_TZ
from server.config import ConfigError, load_settings
from server.signing import TokenSigner
from server.tickets import service
from server.tickets.models import ScanDirection

SIGNER = TokenSigner(b"service-test-secret-that-is-long-enough-0123456789")
SLOT_DAY = datetime.now(LOCAL_TZ).date() + timedelta(days=2)
# What issue_session_token reads from an app, for making staff accounts without a server.
_App = SimpleNamespace(
    ctx=SimpleNamespace(signer=SIGNER, settings=SimpleNamespace(token_ttl_seconds=3600))
)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(SLOT_DAY, time(hour, minute, second), LOCAL_TZ)


async def _scan(ticket, venue, staff_id: int, moment: datetime, *, signed_at=None) -> str:
    qr, _ = service.qr_text(SIGNER, ticket, now=(signed_at or moment).timestamp())
    outcome = await service.scan_ticket(
        venue_id=venue.id,
        staff_id=staff_id,
        qr=qr,
        direction=ScanDirection.ENTRY,
        now=moment,
        signer=SIGNER,
        redis=fakeredis.FakeAsyncRedis(),
        thresholds=(80, 100),
    )
    return outcome.reason


@pytest.mark.parametrize(
    ("moment", "reason"),
    [
        (at(9, 29, 59), "too_early"),
        (at(9, 30), "admitted"),
        (at(12, 30), "admitted"),
        (at(12, 30, 1), "too_late"),
    ],
)
async def test_entry_is_allowed_from_early_tolerance_before_to_late_tolerance_after(
    database, moment, reason
):
    venue = await make_reservable_venue(entry_early_minutes=30, entry_late_minutes=30)
    slot = await make_slot(venue, day=SLOT_DAY, starts=time(10), ends=time(12))
    ticket = await make_ticket(venue, slot=slot)
    staff, _ = await make_staff_token(_App, venue)
    assert await _scan(ticket, venue, staff.id, moment) == reason


@pytest.mark.parametrize(("age", "reason"), [(59, "admitted"), (60, "expired"), (600, "expired")])
async def test_a_code_is_good_for_sixty_seconds_from_signing(database, age, reason):
    venue = await make_reservable_venue()
    slot = await make_slot(venue, day=SLOT_DAY)
    ticket = await make_ticket(venue, slot=slot)
    staff, _ = await make_staff_token(_App, venue)
    moment = at(10, 30)
    signed = moment - timedelta(seconds=age)
    assert await _scan(ticket, venue, staff.id, moment, signed_at=signed) == reason


@pytest.mark.parametrize(
    ("before", "after", "capacity", "crossed"),
    [
        (7, 8, 10, [80]),
        (8, 9, 10, []),
        (9, 10, 10, [100]),
        (10, 11, 10, []),
        (0, 1, 1, [80, 100]),
        (3, 4, 5, [80]),
        (3, 4, None, []),
        (8, 7, 10, []),
        (79, 80, 100, [80]),
    ],
)
def test_a_threshold_is_crossed_only_on_the_way_up_across_it(before, after, capacity, crossed):
    assert (
        service.thresholds_crossed(
            before=before, after=after, capacity=capacity, thresholds=(80, 100)
        )
        == crossed
    )


@pytest.mark.parametrize(
    ("count", "capacity", "level"),
    [(0, 10, "comfortable"), (4, 10, "comfortable"), (5, 10, "busy"), (7, 10, "busy"),
     (8, 10, "crowded"), (9, 10, "crowded"), (10, 10, "full"), (12, 10, "full"), (0, 0, "full")],
)  # fmt: skip
def test_crowd_levels_are_cut_at_50_80_and_100_percent(count, capacity, level):
    assert service.crowd_level(count, capacity) == level


@pytest.mark.parametrize("text", ["", "hello", "etk1.abc", "ETK1", "https://example.com/ETK1.x"])
def test_texts_without_our_prefix_are_unknown_codes(text):
    with pytest.raises(service.ScanRefused) as refused:
        service.read_qr(SIGNER, text)
    assert refused.value.reason == "unknown_code"


def test_warning_thresholds_come_from_the_environment_as_percentages(tmp_path, monkeypatch):
    assert load_settings(data_dir=tmp_path).warning_thresholds == (80, 100)
    monkeypatch.setenv("ETOUR_WARNING_THRESHOLDS", "95, 70,95")
    assert load_settings(data_dir=tmp_path).warning_thresholds == (70, 95)
    for bad in ("eighty", "0,100", ""):
        monkeypatch.setenv("ETOUR_WARNING_THRESHOLDS", bad)
        with pytest.raises(ConfigError, match="ETOUR_WARNING_THRESHOLDS"):
            load_settings(data_dir=tmp_path)
