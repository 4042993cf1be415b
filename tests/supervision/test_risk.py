"""Risk warnings: feed import, matching venues by area and distance, the cockpit channel, the
visitor's venue answer."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import prepare_database
from factories import make_venue
from stubs.risk_feed import RiskFeedStub, risk_feed  # noqa: F401 (registers the fixture)

from server.cache import connect_redis
from server.clock import LOCAL_TZ, local_now
from server.config import Settings
from server.supervision import risk
from server.supervision.models import RiskWarning
from supervision.factories import staff_headers

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def settings(
    risk_feed: RiskFeedStub,  # noqa: F811
    tmp_path: Path,
    migrated_template: Path,
) -> Settings:
    """A fresh database and the app reading the feed stand-in (no background polling)."""
    return prepare_database(
        tmp_path, migrated_template, risk_feed_url=risk_feed.url, risk_feed_interval_seconds=0
    )


def item(external_id: str, **overrides) -> dict:
    values = {
        "id": external_id,
        "type": "weather",
        "level": "orange",
        "title": {"zh-CN": "台风橙色预警", "en": "Typhoon orange warning"},
        "description": {"zh-CN": "请暂停户外游览", "en": "Outdoor visits are suspended"},
        "starts_at": NOW.isoformat(),
        "ends_at": (NOW + timedelta(days=1)).isoformat(),
    }
    values.update(overrides)
    return values


async def three_venues():
    lucheng = await make_venue(
        county={"zh-CN": "鹿城区", "en": "Lucheng District"}, latitude=28.03, longitude=120.65
    )
    yongjia = await make_venue(
        county={"zh-CN": "永嘉县", "en": "Yongjia County"}, latitude=28.35, longitude=120.69
    )
    dongtou = await make_venue(
        county={"zh-CN": "洞头区", "en": "Dongtou District"}, latitude=27.84, longitude=121.15
    )
    return lucheng, yongjia, dongtou


async def test_items_reach_venues_by_county_name_by_distance_and_city_wide(database):
    lucheng, yongjia, dongtou = await three_venues()
    feed = risk.parse_feed(
        {
            "source": "wz-meteo",
            "items": [
                item("W1", areas=["鹿城区"]),
                item("W2", areas=["yongjia county"]),
                # 3 km around a point by the Dongtou venue (about 1 km away).
                item(
                    "T1",
                    type="traffic",
                    areas=[],
                    point={"lat": 27.85, "lng": 121.15},
                    radius_m=3000,
                ),
                item("W3", level="blue", areas=["温州市"]),
                item("W4", areas=["泰顺县"]),
            ],
        }
    )
    redis = connect_redis(database)
    summary = await risk.import_feed(feed, now=NOW, redis=redis)
    assert (summary["created"], summary["announced"]) == (5, 5)
    reached = {w["id"]: set(w["venue_ids"]) for w in summary["warnings"]}
    ids = {w.external_id: w.id for w in await RiskWarning.all()}
    assert reached[ids["W1"]] == {lucheng.id}
    assert reached[ids["W2"]] == {yongjia.id}
    assert reached[ids["T1"]] == {dongtou.id}
    assert reached[ids["W3"]] == {lucheng.id, yongjia.id, dongtou.id}
    assert reached[ids["W4"]] == set()
    await redis.aclose()


async def test_reimporting_announces_only_changes_and_the_cache_follows(database):
    lucheng, *_ = await three_venues()
    redis = connect_redis(database)
    pubsub = redis.pubsub()
    await pubsub.subscribe(risk.CHANNEL)
    await pubsub.get_message(timeout=1)  # the subscription confirmation
    document = {"source": "wz-meteo", "items": [item("W1", areas=["鹿城区"])]}
    await risk.import_feed(risk.parse_feed(document), now=NOW, redis=redis)
    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    announced = json.loads(message["data"])
    assert announced["type"] == "risk_warning" and announced["venue_ids"] == [lucheng.id]
    shown = await risk.venue_warnings([lucheng.id], redis=redis, now=NOW, language="en")
    assert [w["title"] for w in shown[lucheng.id]] == ["Typhoon orange warning"]
    again = await risk.import_feed(risk.parse_feed(document), now=NOW, redis=redis)
    assert (again["created"], again["updated"], again["announced"]) == (0, 0, 0)
    assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
    document["items"][0]["level"] = "red"
    changed = await risk.import_feed(risk.parse_feed(document), now=NOW, redis=redis)
    assert (changed["updated"], changed["announced"]) == (1, 1)
    shown = await risk.venue_warnings([lucheng.id], redis=redis, now=NOW, language="zh-CN")
    assert shown[lucheng.id][0]["level"] == "red"  # the import dropped the stale cache
    # An ended warning drops out at once, even from the cache.
    ended = await risk.venue_warnings(
        [lucheng.id], redis=redis, now=NOW + timedelta(days=2), language="en"
    )
    assert ended == {lucheng.id: []}
    await pubsub.aclose()
    await redis.aclose()


async def test_a_supervisor_imports_the_configured_feed_and_visitors_see_the_warning(
    server,
    risk_feed: RiskFeedStub,  # noqa: F811
):
    lucheng, yongjia, dongtou = await three_venues()
    now = local_now()
    risk_feed.document = {
        "source": "wz-traffic",
        "items": [
            item("T9", type="traffic", level="yellow", areas=["Lucheng District"],
                 title={"zh-CN": "瓯江路交通管制", "en": "Oujiang Road closed"},
                 starts_at=now.isoformat(), ends_at=(now + timedelta(hours=6)).isoformat()),
        ],
    }  # fmt: skip
    _, headers = await staff_headers(server.app, "supervisor")
    imported = await server.client.post("/api/v1/supervision/risk-warnings/import", headers=headers)
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == 1 and risk_feed.requests == 1
    venue = (await server.client.get(f"/api/v1/venues/{lucheng.id}?lang=en")).json()
    assert [(w["kind"], w["level"], w["title"]) for w in venue["risk_warnings"]] == [
        ("traffic", "yellow", "Oujiang Road closed")
    ]
    other = (await server.client.get(f"/api/v1/venues/{yongjia.id}")).json()
    assert other["risk_warnings"] == []
    listed = (await server.client.get("/api/v1/venues?lang=en")).json()
    assert {v["id"]: len(v["risk_warnings"]) for v in listed} == {
        lucheng.id: 1, yongjia.id: 0, dongtou.id: 0,
    }  # fmt: skip
    warnings = await server.client.get("/api/v1/supervision/risk-warnings", headers=headers)
    assert warnings.json()[0]["venue_ids"] == [lucheng.id]


async def test_bad_feeds_and_wrong_roles_are_refused_clearly(
    server,
    risk_feed: RiskFeedStub,  # noqa: F811
):
    _, headers = await staff_headers(server.app, "admin")
    url = "/api/v1/supervision/risk-warnings/import"
    risk_feed.document = "not json at all"
    answer = await server.client.post(url, headers=headers)
    assert answer.status_code == 502 and answer.json()["error"]["code"] == "risk_feed_unavailable"
    risk_feed.document = {"source": "x", "items": [{"id": "1", "type": "flood"}]}
    answer = await server.client.post(url, headers=headers)
    assert answer.status_code == 502 and "items.0.type" in answer.json()["error"]["message"]
    posted = {"source": "manual", "items": [item("M1", level="purple")]}
    answer = await server.client.post(url, json=posted, headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "items[0].level"
    backwards = {"source": "manual", "items": [item("M2", ends_at=NOW.isoformat())]}
    answer = await server.client.post(url, json=backwards, headers=headers)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "items[0]"
    for role in ("venue_manager", "venue_staff"):
        venue = await make_venue()
        _, wrong = await staff_headers(server.app, role, venue)
        assert (await server.client.post(url, json=posted, headers=wrong)).status_code == 403
    assert (await server.client.post(url, json=posted)).status_code == 401
    assert await RiskWarning.all().count() == 0


async def test_the_poller_imports_on_its_own(database, risk_feed):  # noqa: F811
    settings = database.model_copy(update={"risk_feed_interval_seconds": 1})
    redis = connect_redis(settings)
    risk_feed.document = {"source": "poll", "items": [item("P1", areas=["温州市"])]}
    poller = asyncio.create_task(risk.keep_feed_imported(settings, redis))
    try:
        for _ in range(50):
            if await RiskWarning.filter(source="poll").exists():
                break
            await asyncio.sleep(0.1)
        assert await RiskWarning.filter(source="poll").exists()
    finally:
        poller.cancel()
        await redis.aclose()
