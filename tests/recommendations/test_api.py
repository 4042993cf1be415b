"""The HTTP contract: /recommendations, /items/{id}/similar, /events, /me/interests, /healthz."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from conftest import prepare_database
from factories import make_staff_token, make_visitor_token

from recommend.vectors import ReindexReport
from recommendations.conftest import load_demo
from server.app import create_app
from server.clock import local_now

WUMA_STREET = {"lat": "28.0172", "lng": "120.6553"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def next_wednesday_morning() -> str:
    """A planned time when every demo venue is open, whatever day the tests run."""
    today = local_now().date()
    day = today + timedelta(days=(2 - today.weekday()) % 7 + 7)
    return f"{day.isoformat()}T10:30:00"


@pytest.fixture
async def token(server) -> str:
    """A visitor's token for the running server (whose database is empty)."""
    return (await make_visitor_token(server.app))[1]


@pytest.fixture
async def visitor(server, token, encoder) -> tuple[str, dict]:
    """The demo data indexed in the running server's database, and a visitor's token."""
    demo = await load_demo(encoder)
    return token, demo.ids


async def test_recommendations_need_a_visitors_token(client, server):
    assert (await client.get("/api/v1/recommendations")).status_code == 401
    _, staff = await make_staff_token(server.app, None, role="admin")
    answer = await client.get("/api/v1/recommendations", headers=bearer(staff))
    assert answer.status_code == 403


async def test_recommendations_answer_the_public_shape_in_the_callers_language(client, visitor):
    token, _ = visitor
    query = {**WUMA_STREET, "at": next_wednesday_morning(), "limit": "5", "lang": "en"}
    answer = await client.get("/api/v1/recommendations", params=query, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert len(found) == 5
    for entry in found:
        assert {"item", "score", "reason"} <= set(entry)
        assert {"id", "type", "name"} <= set(entry["item"])
        assert entry["item"]["id"].split(":")[0] == entry["item"]["type"]
        assert entry["reason"] and entry["item"]["distance_m"] is not None
    assert found[0]["reason"].startswith(("Near you", "Popular"))
    only = await client.get(
        "/api/v1/recommendations",
        params={"type": "restaurant", "limit": "3", "at": next_wednesday_morning()},
        headers=bearer(token),
    )
    assert [entry["item"]["type"] for entry in only.json()] == ["restaurant"] * 3
    assert "餐厅" in {entry["item"]["category"] for entry in only.json()}


@pytest.mark.parametrize(
    "params",
    [{"lat": "28.0"}, {"limit": "0"}, {"limit": "51"}, {"type": "spaceship"}, {"at": "soon"}],
)
async def test_bad_queries_are_refused_naming_the_field(client, token, params):
    answer = await client.get("/api/v1/recommendations", params=params, headers=bearer(token))
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_error"


async def test_events_are_accepted_and_steer_the_next_picks(client, visitor):
    token, ids = visitor
    yandang = ids["yandang-mountain"]
    answer = await client.post(
        "/api/v1/events", json={"item_id": yandang, "kind": "favourite"}, headers=bearer(token)
    )
    assert answer.status_code == 202
    assert answer.json() == {"item_id": yandang, "kind": "favourite", "recorded": True}
    view = {"item_id": ids["nanxi-river"], "kind": "view"}
    first = await client.post("/api/v1/events", json=view, headers=bearer(token))
    again = await client.post("/api/v1/events", json=view, headers=bearer(token))
    assert first.json()["recorded"] and not again.json()["recorded"]
    found = await client.get(
        "/api/v1/recommendations",
        params={"at": next_wednesday_morning(), "lang": "en", "limit": "5"},
        headers=bearer(token),
    )
    assert yandang not in {entry["item"]["id"] for entry in found.json()}
    assert any(e["reason"].startswith("Because you liked") for e in found.json())


async def test_a_favourite_counts_at_once_though_the_taste_was_read_a_moment_before(
    client, visitor
):
    token, ids = visitor
    params = {"at": next_wednesday_morning(), "lang": "en", "limit": "50"}
    before = await client.get("/api/v1/recommendations", params=params, headers=bearer(token))
    yandang = ids["yandang-mountain"]
    assert yandang in {entry["item"]["id"] for entry in before.json()}
    event = {"item_id": yandang, "kind": "favourite"}
    assert (await client.post("/api/v1/events", json=event, headers=bearer(token))).is_success
    after = await client.get("/api/v1/recommendations", params=params, headers=bearer(token))
    assert yandang not in {entry["item"]["id"] for entry in after.json()}  # on their list now


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        ({"item_id": "venue:999999", "kind": "view"}, 404, "item_not_found"),
        ({"item_id": "planet:1", "kind": "view"}, 422, "validation_error"),
        ({"item_id": "venue:1", "kind": "like"}, 422, "validation_error"),
        ({"item_id": "venue:1"}, 422, "validation_error"),
    ],
)
async def test_events_for_unknown_items_or_kinds_are_refused(client, token, event, status, code):
    answer = await client.post("/api/v1/events", json=event, headers=bearer(token))
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


async def test_similar_items_are_public_and_an_unknown_item_is_404(client, visitor):
    _, ids = visitor
    museum = ids["wenzhou-museum"]
    answer = await client.get(f"/api/v1/items/{museum}/similar", params={"limit": "3"})
    assert answer.status_code == 200
    found = answer.json()
    assert len(found) == 3 and all(entry["item"]["type"] == "venue" for entry in found)
    # Before the museum opens (local night and morning) the reason adds " · 09:00开放".
    assert found[0]["reason"].split(" · ")[0] == "与温州博物馆相似"
    missing = await client.get("/api/v1/items/venue:999999/similar")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "item_not_found"
    assert (await client.get("/api/v1/items/nonsense/similar")).status_code == 404


async def test_onboarding_interests_are_chosen_and_read_back(client, token):
    empty = await client.get("/api/v1/me/interests", headers=bearer(token))
    assert empty.json()["interests"] == [] and len(empty.json()["options"]) >= 10
    chosen = await client.put(
        "/api/v1/me/interests",
        json={"interests": ["history", "food", "history"]},
        headers=bearer(token),
        params={"lang": "en"},
    )
    assert chosen.status_code == 200 and chosen.json()["interests"] == ["history", "food"]
    labels = {option["code"]: option["label"] for option in chosen.json()["options"]}
    assert labels["history"] == "History and culture"
    read = await client.get("/api/v1/me/interests", headers=bearer(token))
    assert read.json()["interests"] == ["history", "food"]
    unknown = await client.put(
        "/api/v1/me/interests", json={"interests": ["golf"]}, headers=bearer(token)
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_interest"


@asynccontextmanager
async def serving(settings) -> AsyncIterator[httpx.AsyncClient]:
    """A real server on loopback for `settings` (as the suite's `server` fixture starts one)."""
    app = create_app(settings, name=f"etour_recommend_{id(settings)}")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    running = await app.create_server(sock=listener, return_asyncio_server=True, access_log=False)
    await running.startup()
    await running.before_start()
    await running.after_start()
    port = running.server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        await running.before_stop()
        await running.close()
        await running.after_stop()


async def _embeddings_state(client: httpx.AsyncClient, wanted: str) -> httpx.Response:
    for _ in range(200):
        answer = await client.get("/healthz")
        if answer.json().get("embeddings") == wanted:
            return answer
        await asyncio.sleep(0.05)
    raise AssertionError(f"/healthz never said embeddings {wanted}: {answer.json()}")


@pytest.mark.parametrize("outcome", ["ready", "failed"])
def test_healthz_says_embeddings_are_warming_and_stays_up(
    tmp_path, migrated_template, model_load, monkeypatch, outcome
):
    # Outside the test environment the server warms the model up after it starts.
    settings = prepare_database(tmp_path, migrated_template, env="development")

    async def check() -> None:
        release = asyncio.Event()

        async def slow_reindex(**_) -> ReindexReport:
            await release.wait()
            if outcome == "failed":
                raise RuntimeError("the model broke")
            return ReindexReport("m", items=0, encoded=0, removed=0, seconds=0, encode_seconds=0)

        monkeypatch.setattr("recommend.runtime.reindex", slow_reindex)
        async with serving(settings) as client:
            warming = await _embeddings_state(client, "warming")
            assert warming.status_code == 200 and warming.json()["status"] == "ok"
            release.set()
            done = await _embeddings_state(client, outcome)
            assert done.status_code == 200 and done.json()["status"] == "ok"

    asyncio.run(check())


def test_a_served_app_warms_up_on_stored_vectors_and_recommends(
    tmp_path, migrated_template, encoder
):
    from server import db

    settings = prepare_database(tmp_path, migrated_template, env="development")

    async def seed() -> dict[str, str]:
        await db.open_database(settings)
        try:
            return (await load_demo(encoder)).ids
        finally:
            await db.close_database()

    ids = asyncio.run(seed())

    async def check() -> None:
        async with serving(settings) as client:
            await _embeddings_state(client, "ready")  # nothing new to encode: no model needed
            museum = ids["wenzhou-museum"]
            similar = await client.get(f"/api/v1/items/{museum}/similar", params={"lang": "en"})
            assert similar.status_code == 200 and len(similar.json()) == 10
            reason = similar.json()[0]["reason"]  # " · opens at 09:00" before it opens
            assert reason.split(" · ")[0] == "Similar to Wenzhou Museum"

    asyncio.run(check())
