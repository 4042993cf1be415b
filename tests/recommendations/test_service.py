"""Recommendations on the demo data and on small made-up worlds, through the service."""

from __future__ import annotations

from datetime import timedelta

from recommend import service
from recommend.catalogue import load_catalogue
from recommend.models import EventKind
from recommend.schemas import recommendation_out
from recommend.vectors import reindex
from recommendations.factories import NOW, make_open_venue, make_visitor, set_inside
from server.venues.models import ClosingDay, Venue, VenueKind

WUMA_STREET = (28.0172, 120.6553)


async def test_a_museums_nearest_neighbours_are_museums_and_heritage_not_restaurants(demo):
    museum = demo.item_id("wenzhou-museum")
    found = await service.similar_items(catalogue=demo.catalogue, item_id=museum, now=NOW, limit=3)
    assert len(found) == 3
    assert {r.item.type for r in found} == {"venue"}
    kinds = {r.item.kind for r in found}
    assert kinds <= {"museum", "library", "heritage_site", "theatre"}
    assert kinds & {"library", "heritage_site"}
    assert found[0].reason.code == "similar_to"
    assert recommendation_out(found[0], "en").reason == "Similar to Wenzhou Museum"


async def test_a_dishs_neighbours_are_food(demo):
    found = await service.similar_items(
        catalogue=demo.catalogue, item_id=demo.item_id("wenzhou-fish-balls"), now=NOW, limit=4
    )
    assert {r.item.type for r in found} <= {"dish", "restaurant"}


async def test_cold_start_offers_popular_places_and_nearby_ones_first(demo):
    visitor = await make_visitor()
    anywhere = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, limit=10
    )
    assert len(anywhere) == 10
    assert {r.reason.code for r in anywhere} == {"popular"}
    assert len({r.item.kind for r in anywhere}) >= 3  # not ten of a kind
    nearby = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, position=WUMA_STREET, limit=5
    )
    assert all(r.distance_m is not None and r.distance_m < 3000 for r in nearby[:3])
    assert nearby[0].reason.code == "nearby"
    assert recommendation_out(nearby[0], "zh-CN").reason.startswith("离您约")


async def test_onboarding_interests_lead_a_new_visitors_first_picks(demo):
    visitor = await make_visitor()
    await service.set_interests(visitor_id=visitor.id, interests=["hiking", "nature"])
    found = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, limit=5
    )
    assert {r.item.kind for r in found[:3]} <= {"scenic_area", "tour", "night_tour"}
    assert found[0].reason.code == "matches_interest"
    outdoors = {demo.item_id(code) for code in ("yandang-mountain", "nanxi-river", "baizhangji")}
    assert outdoors & {r.item.id for r in found[:3]}


async def test_a_favourite_brings_its_kin_and_is_not_offered_again(demo):
    visitor = await make_visitor()
    yandang = demo.item_id("yandang-mountain")
    await service.record_event(
        visitor_id=visitor.id, item_id=yandang, kind=EventKind.FAVOURITE, now=NOW
    )
    found = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, limit=5
    )
    assert yandang not in {r.item.id for r in found}
    assert found[0].reason.code == "because_you_liked"
    assert recommendation_out(found[0], "en").reason.startswith(
        "Because you liked Yandang Mountain"
    )
    assert {r.item.kind for r in found[:2]} <= {"scenic_area", "tour", "night_tour"}


async def test_bookings_and_entries_count_and_are_not_offered_again(demo):
    from factories import make_slot, make_ticket

    from server.tickets.models import TicketStatus

    visitor = await make_visitor()
    islet = await Venue.get(code="jiangxin-islet")
    slot = await make_slot(islet, day=NOW.date() - timedelta(days=3))
    await make_ticket(
        islet,
        slot=slot,
        visitor=visitor,
        status=TicketStatus.USED,
        admitted_at=NOW - timedelta(days=3),
    )
    found = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, limit=5
    )
    assert demo.item_id("jiangxin-islet") not in {r.item.id for r in found}
    reasons = {recommendation_out(r, "en").reason for r in found}
    assert any(reason.startswith("Because you liked Jiangxin Islet") for reason in reasons)


async def test_closed_hidden_and_finished_for_the_day_items_are_never_recommended(demo):
    visitor = await make_visitor()
    await service.set_interests(
        visitor_id=visitor.id, interests=["museums", "reading", "history", "food"]
    )
    museum = await Venue.get(code="wenzhou-museum")
    await ClosingDay.create(venue=museum, date=NOW.date(), reason={"en": "typhoon"})
    await Venue.filter(code="wenzhou-library").update(hidden=True)  # after the catalogue loaded
    afternoon = NOW.replace(hour=15)
    found = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, at=afternoon, limit=50
    )
    shown = {r.item.id for r in found}
    never = {
        demo.item_id(code)
        for code in (
            "wenzhou-museum",
            "wenzhou-library",
            "jiefang-offal-noodles",
            "chanjie-sticky-rice",
        )
    }
    assert len(found) >= 20 and not shown & never
    assert all(r.live.open_now or r.live.opens_at for r in found)
    similar = await service.similar_items(
        catalogue=demo.catalogue, item_id=demo.item_id("liu-bowen-hometown"), now=NOW, limit=20
    )
    assert not {r.item.id for r in similar} & never


async def test_in_the_evening_night_places_come_up_and_day_places_are_gone(demo):
    visitor = await make_visitor()
    evening = NOW.replace(hour=20)
    found = await service.recommend(
        catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, at=evening, limit=10
    )
    shown = {r.item.id: r for r in found}
    assert demo.item_id("wenzhou-museum") not in shown  # closed at 17:00
    night_out = {demo.item_id(code) for code in ("tanghe-night-cruise", "oujiang-night-walk")}
    assert night_out & set(shown)
    assert all(r.live.open_now for r in found)
    assert "evening" in {r.reason.code for r in found}


async def test_a_venue_near_its_limit_gives_way_to_a_quiet_twin_and_a_full_one_is_left_out(
    database, encoder
):
    porcelain = (["瓷器", "青瓷", "博物馆"], ["porcelain", "celadon", "museum"])
    liked = await make_open_venue(("瓯窑青瓷馆", "Ou Kiln Celadon Hall"), tags=porcelain)
    crowded = await make_open_venue(
        ("瓯窑青瓷博物馆", "Ou Kiln Celadon Museum"), tags=porcelain, instant_capacity=100
    )
    quiet = await make_open_venue(
        ("瓯窑青瓷陈列馆", "Ou Kiln Celadon Gallery"), tags=porcelain, instant_capacity=100
    )
    full = await make_open_venue(
        ("瓯窑青瓷展览馆", "Ou Kiln Celadon Exhibition"), tags=porcelain, instant_capacity=100
    )
    for name in (("雁荡山", "Yandang Mountain"), ("洞头海岛", "Dongtou Islands")):
        await make_open_venue(name, kind=VenueKind.SCENIC_AREA)
    await set_inside(crowded, NOW.date(), 95)
    await set_inside(quiet, NOW.date(), 10)
    await set_inside(full, NOW.date(), 100)
    await reindex(embedder=encoder)
    catalogue = await load_catalogue(model=encoder.model_name, now=NOW)
    visitor = await make_visitor()
    await service.record_event(
        visitor_id=visitor.id, item_id=f"venue:{liked.id}", kind=EventKind.FAVOURITE, now=NOW
    )
    found = await service.recommend(catalogue=catalogue, visitor_id=visitor.id, now=NOW)
    ids = [r.item.id for r in found]
    assert f"venue:{full.id}" not in ids
    assert ids.index(f"venue:{quiet.id}") < ids.index(f"venue:{crowded.id}")
    first = found[0]
    assert first.item.id == f"venue:{quiet.id}" and first.live.crowd_level == "comfortable"
    assert recommendation_out(first, "en").reason.endswith("less crowded now")
    assert recommendation_out(first, "zh-CN").reason.endswith("现在人少")


async def test_reindex_encodes_only_new_or_changed_items(demo):
    again = await reindex(embedder=demo.encoder)
    assert again.encoded == 0 and again.unchanged == again.items
    await Venue.filter(code="wenzhou-museum").update(
        description={"zh-CN": "新的介绍：瓯窑青瓷专题展。", "en": "New: an Ou kiln celadon show."}
    )
    changed = await reindex(embedder=demo.encoder)
    assert changed.encoded == 1
    assert (await reindex(embedder=demo.encoder, full=True)).encoded == changed.items


async def test_a_dish_is_recommended_only_while_one_of_its_places_is_open(demo):
    from server.food.models import Restaurant, RestaurantDish

    fish_balls = demo.item_id("wenzhou-fish-balls")
    number = int(fish_balls.partition(":")[2])
    visitor = await make_visitor()
    await service.set_interests(visitor_id=visitor.id, interests=["food", "seafood"])

    async def dishes_shown(at) -> set[str]:
        found = await service.recommend(
            catalogue=demo.catalogue, visitor_id=visitor.id, now=NOW, at=at, types={"dish"}
        )
        return {r.item.id for r in found}

    assert fish_balls in await dishes_shown(NOW)
    serving = RestaurantDish.filter(dish_id=number).values_list("restaurant_id", flat=True)
    await Restaurant.filter(id__in=list(await serving)).update(hidden=True)
    assert fish_balls not in await dishes_shown(NOW)  # its places are hidden: nowhere to eat it
