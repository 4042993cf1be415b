"""What a request ranks from without reading it again: visitors' tastes and today's crowds."""

from __future__ import annotations

import asyncio

from recommend import service
from recommend.models import EventKind, VisitorEvent
from recommend.profiles import TasteCache
from recommend.runtime import CrowdSnapshot
from recommendations.factories import NOW, make_open_venue, make_visitor, set_inside


async def test_a_visitors_taste_is_remembered_until_they_do_something(database):
    tastes = TasteCache()
    visitor = await make_visitor()
    venue = await make_open_venue(("瓯窑青瓷馆", "Ou Kiln Celadon Hall"))
    item_id = f"venue:{venue.id}"
    assert await tastes.taste_of(visitor_id=visitor.id, now=NOW) == ([], [])
    # Written behind the cache's back (as another process would): not seen yet.
    await VisitorEvent.create(
        visitor_id=visitor.id, item_id=item_id, kind=EventKind.VIEW, created_at=NOW
    )
    assert (await tastes.taste_of(visitor_id=visitor.id, now=NOW))[0] == []
    # Recorded through the service: forgotten at once.
    await service.record_event(
        visitor_id=visitor.id, item_id=item_id, kind=EventKind.FAVOURITE, now=NOW, tastes=tastes
    )
    signals, _ = await tastes.taste_of(visitor_id=visitor.id, now=NOW)
    assert sorted(signal.kind for signal in signals) == ["favourite", "view"]
    await service.set_interests(visitor_id=visitor.id, interests=["museums"], tastes=tastes)
    assert (await tastes.taste_of(visitor_id=visitor.id, now=NOW))[1] == ["museums"]


async def test_a_taste_read_overlapping_an_event_is_not_kept(database, monkeypatch):
    tastes = TasteCache()
    visitor = await make_visitor()
    venue = await make_open_venue(("瓯窑青瓷馆", "Ou Kiln Celadon Hall"))
    read_started, finish_read = asyncio.Event(), asyncio.Event()
    from recommend import profiles

    real_read = profiles.read_taste

    async def slow_read(**kwargs):
        found = await real_read(**kwargs)  # read before the event below is recorded
        read_started.set()
        await finish_read.wait()
        return found

    monkeypatch.setattr(profiles, "read_taste", slow_read)
    reading = asyncio.create_task(tastes.taste_of(visitor_id=visitor.id, now=NOW))
    await read_started.wait()
    await service.record_event(
        visitor_id=visitor.id,
        item_id=f"venue:{venue.id}",
        kind=EventKind.FAVOURITE,
        now=NOW,
        tastes=tastes,
    )
    finish_read.set()
    assert (await reading)[0] == []  # that request began before the favourite
    monkeypatch.setattr(profiles, "read_taste", real_read)
    # The stale read was not remembered: the next request sees the favourite.
    signals, _ = await tastes.taste_of(visitor_id=visitor.id, now=NOW)
    assert [signal.kind for signal in signals] == ["favourite"]


async def test_the_crowd_snapshot_is_read_in_the_background_and_steers_picks(database, encoder):
    from recommend.catalogue import load_catalogue
    from recommend.vectors import reindex

    porcelain = (["瓷器", "青瓷", "博物馆"], ["porcelain", "celadon", "museum"])
    liked = await make_open_venue(("瓯窑青瓷馆", "Ou Kiln Celadon Hall"), tags=porcelain)
    full = await make_open_venue(
        ("瓯窑青瓷展览馆", "Ou Kiln Celadon Exhibition"), tags=porcelain, instant_capacity=100
    )
    await set_inside(full, NOW.date(), 100)
    snapshot = CrowdSnapshot()
    assert snapshot.levels(NOW.date()) is None  # nothing read yet: requests read their own
    await snapshot._reading
    assert snapshot.levels(NOW.date())[full.id] == "full"
    assert snapshot.levels(NOW.date())[liked.id] is None  # no cap, no slots: unmeasured

    await reindex(embedder=encoder)
    catalogue = await load_catalogue(model=encoder.model_name, now=NOW)
    visitor = await make_visitor()
    await service.record_event(
        visitor_id=visitor.id, item_id=f"venue:{liked.id}", kind=EventKind.VIEW, now=NOW
    )

    async def shown(crowds) -> set[str]:
        found = await service.recommend(
            catalogue=catalogue, visitor_id=visitor.id, now=NOW, crowds=crowds
        )
        return {r.item.id for r in found}

    assert f"venue:{full.id}" not in await shown(snapshot.levels(NOW.date()))
    # The snapshot is what counts: one seconds old that saw room lets it through.
    assert f"venue:{full.id}" in await shown({full.id: "comfortable"})


async def test_states_of_the_present_minute_are_kept_until_an_item_changes(database):
    from recommend import items
    from server.venues.models import Venue

    recent = items.RecentStates()
    venue = await make_open_venue(("瓯窑青瓷馆", "Ou Kiln Celadon Hall"))
    item_id = f"venue:{venue.id}"
    assert (await recent.states([item_id], at=NOW))[item_id].open_now
    # A bulk UPDATE (no model signal), as another process's change: seen after the seconds kept.
    await Venue.filter(id=venue.id).update(hidden=True)
    assert item_id in await recent.states([item_id], at=NOW)
    assert item_id not in await items.RecentStates(ttl_seconds=0).states([item_id], at=NOW)
    # A change saved in this process drops what was kept at once.
    await Venue.filter(id=venue.id).update(hidden=False)
    venue.hidden = True
    await venue.save()
    assert item_id not in await recent.states([item_id], at=NOW)
    # ... and the unavailable state is kept in turn (no read while kept).
    await Venue.filter(id=venue.id).update(hidden=False)
    assert item_id not in await recent.states([item_id], at=NOW)
    assert item_id in await recent.states([item_id], at=NOW.replace(minute=NOW.minute + 1))


async def test_states_read_while_an_item_changed_are_not_kept(database, monkeypatch):
    from recommend import items
    from server.venues.models import ClosingDay

    recent = items.RecentStates()
    venue = await make_open_venue(("瓯窑青瓷馆", "Ou Kiln Celadon Hall"))
    item_id = f"venue:{venue.id}"
    read, finish = asyncio.Event(), asyncio.Event()
    real_states = items.live_states

    async def slow_states(*args, **kwargs):
        found = await real_states(*args, **kwargs)  # read before the closing day is saved
        read.set()
        await finish.wait()
        return found

    monkeypatch.setattr(items, "live_states", slow_states)
    reading = asyncio.create_task(recent.states([item_id], at=NOW))
    await read.wait()
    await ClosingDay.create(venue=venue, date=NOW.date(), reason={"en": "typhoon"})
    await recent.states([], at=NOW)  # another request meanwhile: it saw the change
    finish.set()
    assert item_id in await reading  # that request began before the closing day
    monkeypatch.setattr(items, "live_states", real_states)
    assert item_id not in await recent.states([item_id], at=NOW)
