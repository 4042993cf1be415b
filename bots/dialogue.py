"""The conversation: one visitor message in, one answer out, from live data through the services.

A session's state (its language, an unfinished form such as a booking, the last venue talked
about, a handoff to staff) lives in Redis under a key bound to the caller, for SESSION_TTL. Forms
are filled over several turns: the bot asks for what is missing, offers choices, confirms, and
then acts through the same service functions as the mini-program. Personal data typed during a
booking (names, ID numbers) is kept in the state only encrypted, and shown only masked.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

import i18n
from bots import entities as parse
from bots import service
from bots.entities import Entities, TimeOfDay, catalogue_cache
from bots.intents import UNKNOWN, IntentClassifier
from bots.models import ChatChannel
from recommend import service as recommendations
from recommend.errors import ItemNotFound
from recommend.models import EventKind
from recommend.runtime import Recommender
from recommend.schemas import reason_text
from server import idempotency, personal_data
from server.card import service as cards
from server.clock import LOCAL_TZ
from server.errors import AppError
from server.food import service as food
from server.food.counties import county_names
from server.reservations import service as reservations
from server.reservations.errors import SlotFull
from server.reservations.models import ReservationStatus
from server.supervision import service as supervision
from server.tickets import service as tickets
from server.tours import service as tours
from server.venues import service as venues

log = logging.getLogger("etour.bots")

SESSION_TTL_SECONDS = 30 * 60
MAX_OPTIONS = 6
NEARBY_FOOD_RADIUS_M = 1500
ANSWER_LIMIT = 3
FORMS = ("book", "cancel_booking", "complaint")
# Intents that need a venue; asked for, then answered, when the message names none.
VENUE_QUESTIONS = ("opening_hours", "ticket_price", "crowd_status")
LOGIN_NEEDED = ("book", "cancel_booking", "my_bookings", "complaint")
# The menu shown with a greeting or an unclear message, in its order: a reply of just an entry's
# number ("2", "第二个", "the second one") asks for that entry.
MENU = (
    "book", "opening_hours", "ticket_price", "crowd_status", "food", "route_guide", "recommend",
    "my_bookings", "cancel_booking", "card_service", "complaint", "human",
)  # fmt: skip
_COMPLAINT_TRIGGERS = re.compile(
    r"我要|我想|投诉|举报|反映|一下|一个|问题|i want to|i'd like to|file|make|a complaint|complain|"
    r"about|report|[\s,，。.!！?？]"
)


@dataclass(frozen=True)
class Caller:
    """Who is chatting: a logged-in visitor or an anonymous session, and on which channel."""

    session_key: str  # already bound to the caller (bots.service.session_key)
    channel: ChatChannel
    visitor_id: int | None = None
    wechat_openid: str | None = None


@dataclass
class Tools:
    """What a conversation acts with: Redis, the field cipher, recommendations, the classifier."""

    redis: Redis
    cipher: personal_data.FieldCipher
    recommender: Recommender
    classifier: IntentClassifier


@dataclass
class Answer:
    """The bot's answer to one message."""

    reply: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    language: str = i18n.DEFAULT_LANGUAGE


@dataclass
class _Turn:
    """One message being answered: its text, what it names, the state it reads and changes."""

    tools: Tools
    caller: Caller
    text: str
    words: list[str]
    found: Entities
    state: dict[str, Any]
    now: datetime
    language: str

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def form(self) -> dict[str, Any]:
        return self.state.setdefault("form", {})

    def t(self, key: str, **params: object) -> str:
        return i18n.gettext(f"chat.{key}", self.language, **params)

    def name(self, texts: dict | None) -> str:
        return i18n.pick(texts, self.language)


# --- the entry point ---------------------------------------------------------------------------


async def respond(
    tools: Tools,
    caller: Caller,
    text: str,
    *,
    now: datetime,
    language_hint: str | None = None,
    serialise: bool = True,
) -> Answer:
    """Answer one message of a session, updating its state; record the turn's intent.

    Messages of one session are answered one at a time (a Redis lock): WeChat delivers a
    follower's quick messages in parallel, and two turns reading the same state would lose one
    turn's changes. `serialise=False` exists only for the test canary that shows the race.
    """
    if not serialise:
        return await _respond(tools, caller, text, now=now, language_hint=language_hint)
    async with service.session_lock(tools.redis, caller.session_key):
        return await _respond(tools, caller, text, now=now, language_hint=language_hint)


async def _respond(
    tools: Tools, caller: Caller, text: str, *, now: datetime, language_hint: str | None
) -> Answer:
    state = await service.load_state(tools.redis, caller.session_key)
    language = parse.language_of_text(
        text,
        fallback=state.get("lang")
        or i18n.normalize_language(language_hint)
        or i18n.DEFAULT_LANGUAGE,
    )
    state["lang"] = language
    words = catalogue_cache.cut(text)
    turn = _Turn(
        tools=tools,
        caller=caller,
        text=text.strip(),
        words=words,
        found=await parse.extract(text, today=now.astimezone(LOCAL_TZ).date(), words=words),
        state=state,
        now=now.astimezone(LOCAL_TZ),
        language=language,
    )
    answer = await _answer(turn)
    answer.language = language
    answer.reply = service.staff_messages_first(
        await service.take_outbox(tools.redis, caller.session_key), answer.reply
    )
    await service.save_state(tools.redis, caller.session_key, state, SESSION_TTL_SECONDS)
    await service.record_turn(
        intent=answer.intent,
        language=language,
        channel=caller.channel,
        logged_in=caller.visitor_id is not None,
        now=turn.now,
    )
    return answer


async def _answer(turn: _Turn) -> Answer:
    menu_shown = turn.state.pop("menu", False)  # a number picks from the menu right after it only
    if turn.state.get("handoff"):
        await service.queue_for_staff(turn.tools.redis, turn.caller, turn.text, turn.language)
        return Answer(turn.t("handoff.waiting"), "human")
    form_intent = turn.form.get("intent")
    if menu_shown and not form_intent:
        pick = parse.parse_menu_pick(turn.text, len(MENU))
        if pick:
            return await _start(turn, MENU[pick - 1])
    classified = turn.tools.classifier.classify(turn.text, turn.words)
    if classified.intent == "human" and classified.evidence:
        # Only words such as 人工 / human hand a session over: "两个人" is not a request for one.
        return await _hand_off(turn)
    if form_intent:
        if parse.is_quit(turn.text):
            turn.state["form"] = {}
            return Answer(turn.t("form.stopped"), form_intent)
        # Another intent takes over only with its own keyword evidence: "张三" typed where a
        # name was asked must not end the booking because it looks a little like something.
        switching = (
            classified.intent not in (form_intent, UNKNOWN, "greeting")
            and classified.evidence
            and not _continues_form(turn)
        )
        if not switching:
            return await _FORM_HANDLERS[form_intent](turn)
        turn.state["form"] = {}
    return await _start(turn, UNKNOWN if classified.intent == "human" else classified.intent)


async def _start(turn: _Turn, intent: str) -> Answer:
    """Answer a question, or open a form, for an intent understood or picked from the menu."""
    if intent == "human":
        return await _hand_off(turn)
    if intent in VENUE_QUESTIONS and turn.found.venue_id is None and turn.state.get("venue_id"):
        # "几点开门" right after talking about 江心屿 is about 江心屿.
        turn.found = _with_venue(turn.found, turn.state["venue_id"])
    if intent in LOGIN_NEEDED and turn.caller.visitor_id is None:
        return Answer(turn.t("login_needed"), intent)
    if intent in FORMS:
        turn.state["form"] = {"intent": intent}
        return await _FORM_HANDLERS[intent](turn)
    return await _QUESTION_HANDLERS[intent](turn)


def _continues_form(turn: _Turn) -> bool:
    """True when the message answers what the form asked (a date, a number, a name and ID...)."""
    awaiting = turn.form.get("awaiting")
    found = turn.found
    if awaiting == "what":
        return True
    if parse.parse_yes_no(turn.text) is not None:
        return True
    if awaiting in ("slot", "reservation") and parse.parse_choice(
        turn.text, len(turn.form.get("options", []))
    ):
        return True
    return bool(
        (awaiting == "venue" and found.venue_id)
        or (awaiting == "date" and found.day)
        or (awaiting == "slot" and (found.time_of_day or found.day))
        or (awaiting == "party" and _party_answer(turn.text))
        or (awaiting == "person" and parse.parse_person(turn.text))
        or awaiting in ("where", "when")
    )


def _with_venue(found: Entities, venue_id: int) -> Entities:
    return Entities(
        venue_id=venue_id,
        day=found.day,
        time_of_day=found.time_of_day,
        party_size=found.party_size,
        dish_id=found.dish_id,
        county=found.county,
    )


def _party_answer(text: str) -> int | None:
    party = parse.parse_party_size(text)
    if party is None and re.fullmatch(r"\s*\d{1,2}\s*", text):
        party = int(text)
    return party


async def _venue(turn: _Turn, venue_id: int | None) -> Any | None:
    if venue_id is None:
        return None
    # Catalogue data (names, hours, prices) from the process's cache, seconds old at most.
    venue = await catalogue_cache.venue(venue_id)
    if venue is None:
        return None
    newly_mentioned = turn.state.get("venue_id") != venue.id
    turn.state["venue_id"] = venue.id
    if turn.caller.visitor_id is not None and newly_mentioned:
        # The chat tells recommendations what the visitor is interested in, once per venue
        # talked about: every turn of a booking is not one more sign of interest.
        try:
            await recommendations.record_event(
                visitor_id=turn.caller.visitor_id,
                item_id=f"venue:{venue.id}",
                kind=EventKind.CHAT_INTEREST,
                now=turn.now,
            )
        except (ItemNotFound, AppError):
            log.debug("chat interest not recorded")
    return venue


def _day_label(turn: _Turn, day: date) -> str:
    if day == turn.today:
        return turn.t("day.today", date=_date_text(turn, day))
    if day == turn.today + timedelta(days=1):
        return turn.t("day.tomorrow", date=_date_text(turn, day))
    return _date_text(turn, day)


def _date_text(turn: _Turn, day: date) -> str:
    weekday = turn.t(f"weekday.{day.weekday()}")
    if turn.language == "en":
        return f"{weekday} {day.strftime('%b')} {day.day}"
    return f"{day.month}月{day.day}日（{weekday}）"


def _yuan(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}"


async def _ask_venue(turn: _Turn, intent: str, *, reservable_only: bool = False) -> Answer:
    listed = await catalogue_cache.visible_venues()
    names = [turn.name(v.name) for v in listed if v.reservable or not reservable_only]
    turn.form.setdefault("intent", intent)
    turn.form["awaiting"] = "venue"
    return Answer(turn.t("ask.venue", venues="、".join(names[:8])), intent)


# --- questions answered from live data ---------------------------------------------------------


def menu_text(language: str) -> str:
    """The numbered menu of what the bot does, in `language`."""
    lines = [i18n.gettext("chat.menu.header", language)]
    lines += [
        f"{n}. " + i18n.gettext(f"chat.menu.{intent}", language)
        for n, intent in enumerate(MENU, start=1)
    ]
    return "\n".join(lines)


async def welcome(redis: Redis, caller: Caller, *, language: str) -> str:
    """The greeting and the menu for a new follower; their session then takes a menu number."""
    async with service.session_lock(redis, caller.session_key):
        state = await service.load_state(redis, caller.session_key)
        state.update(lang=language, menu=True)
        await service.save_state(redis, caller.session_key, state, SESSION_TTL_SECONDS)
    return i18n.gettext("chat.greeting", language) + "\n" + menu_text(language)


async def _greeting(turn: _Turn) -> Answer:
    turn.state["menu"] = True
    return Answer(turn.t("greeting") + "\n" + menu_text(turn.language), "greeting")


async def _unknown(turn: _Turn) -> Answer:
    turn.state["menu"] = True
    return Answer(turn.t("unknown") + "\n" + menu_text(turn.language), UNKNOWN)


async def _venue_question(turn: _Turn, intent: str) -> tuple[Any | None, Answer | None]:
    venue = await _venue(turn, turn.found.venue_id)
    if venue is None:
        turn.state["form"] = {"intent": intent, "awaiting": "venue", "question": True}
        return None, await _ask_venue(turn, intent)
    turn.state["form"] = {}
    return venue, None


async def _opening_hours(turn: _Turn) -> Answer:
    venue, asked = await _venue_question(turn, "opening_hours")
    if asked:
        return asked
    day = turn.found.day or turn.today
    hours = venues.hours_on(venue, day)
    slots = {"venue_id": venue.id, "venue": turn.name(venue.name), "date": day.isoformat()}
    if not hours.is_open_day:
        reason = turn.name(hours.closing_reason) if hours.closing_reason else ""
        reply = turn.t("hours.closed", venue=slots["venue"], day=_day_label(turn, day))
        return Answer(reply + (f" ({reason})" if reason else ""), "opening_hours", slots)
    reply = turn.t(
        "hours.open",
        venue=slots["venue"],
        day=_day_label(turn, day),
        opens=hours.opens_at.strftime("%H:%M"),
        closes=hours.closes_at.strftime("%H:%M"),
    )
    if hours.last_entry_at:
        reply += turn.t("hours.last_entry", last=hours.last_entry_at.strftime("%H:%M"))
    if day == turn.today:
        now_open = hours.is_open_at(turn.now.time())
        reply += turn.t("hours.now_open" if now_open else "hours.now_closed")
    return Answer(reply, "opening_hours", slots)


async def _ticket_price(turn: _Turn) -> Answer:
    venue, asked = await _venue_question(turn, "ticket_price")
    if asked:
        return asked
    name = turn.name(venue.name)
    lines = []
    for price in venue.prices:
        if price["price_cents"] == 0:
            lines.append(turn.t("price.free_line", name=turn.name(price.get("name"))))
        else:
            lines.append(
                turn.t(
                    "price.line",
                    name=turn.name(price.get("name")),
                    yuan=_yuan(price["price_cents"]),
                )
            )
    if not lines:
        lines.append(turn.t("price.none"))
    rules = [turn.name(rule.get("note")) for rule in venue.free_rules if rule.get("note")]
    reply = turn.t("price.header", venue=name) + "\n" + "\n".join(lines)
    if rules:
        reply += "\n" + turn.t("price.rules") + "\n" + "\n".join(f"· {rule}" for rule in rules)
    if venue.reservable:
        reply += "\n" + turn.t("price.reservable")
    slots = {"venue_id": venue.id, "venue": name, "prices": venue.prices}
    return Answer(reply, "ticket_price", slots)


async def _crowd_status(turn: _Turn) -> Answer:
    venue, asked = await _venue_question(turn, "crowd_status")
    if asked:
        return asked
    name = turn.name(venue.name)
    day = turn.found.day or turn.today
    parts = []
    if day == turn.today:
        crowd = (await tickets.crowd_by_venue(venues_shown=[venue], day=day))[venue.id]
        if crowd.level is not None:
            parts.append(turn.t("crowd.level", venue=name, level=turn.t(f"level.{crowd.level}")))
        if crowd.capacity:
            parts.append(turn.t("crowd.inside", inside=crowd.occupancy, capacity=crowd.capacity))
    open_slots = await _open_slots(turn, venue.id, day, party=1)
    slots: dict[str, Any] = {"venue_id": venue.id, "venue": name, "date": day.isoformat()}
    if venue.reservable:
        if open_slots:
            listed = "; ".join(
                turn.t("slot.option_short", start=s["start"], end=s["end"], left=s["remaining"])
                for s in open_slots[:MAX_OPTIONS]
            )
            parts.append(turn.t("crowd.slots", day=_day_label(turn, day), slots=listed))
        else:
            parts.append(turn.t("crowd.no_slots", day=_day_label(turn, day)))
        slots["slots"] = open_slots[:MAX_OPTIONS]
    if not parts:
        parts.append(turn.t("crowd.unknown", venue=name))
    return Answer("\n".join(parts), "crowd_status", slots)


async def _food(turn: _Turn) -> Answer:
    found = turn.found
    if found.dish_id is not None:
        dish = await food.get_dish(dish_id=found.dish_id)
        places = await food.best_restaurants_for(dish_id=dish.id, limit=ANSWER_LIMIT)
        slots = {"dish_id": dish.id, "dish": turn.name(dish.name)}
        if not places:
            return Answer(turn.t("food.dish_nowhere", dish=slots["dish"]), "food", slots)
        lines = [_restaurant_line(turn, r) for r in places]
        slots["restaurants"] = [r.id for r in places]
        return Answer(
            turn.t("food.dish", dish=slots["dish"]) + "\n" + "\n".join(lines), "food", slots
        )
    venue = await _venue(turn, found.venue_id or turn.state.get("venue_id"))
    if venue is not None:
        nearby = await food.nearby_restaurants(
            lat=venue.latitude,
            lng=venue.longitude,
            radius_m=NEARBY_FOOD_RADIUS_M,
            now=turn.now,
            limit=ANSWER_LIMIT,
        )
        slots = {"venue_id": venue.id, "venue": turn.name(venue.name)}
        if not nearby:
            return Answer(turn.t("food.none_near", venue=slots["venue"]), "food", slots)
        lines = [
            _restaurant_line(turn, n.restaurant)
            + turn.t("food.distance", metres=round(n.distance_m))
            for n in nearby
        ]
        slots["restaurants"] = [n.restaurant.id for n in nearby]
        return Answer(
            turn.t("food.near", venue=slots["venue"]) + "\n" + "\n".join(lines), "food", slots
        )
    if found.county is not None:
        dishes = await food.list_dishes(county=found.county)
        county = turn.name(county_names(found.county))
        slots = {"county": found.county}
        if not dishes:
            return Answer(turn.t("food.county_none", county=county), "food", slots)
        names = "、".join(turn.name(d.name) for d in dishes[:MAX_OPTIONS])
        return Answer(turn.t("food.county", county=county, dishes=names), "food", slots)
    dishes = await food.list_dishes()
    names = "、".join(turn.name(d.name) for d in dishes[:MAX_OPTIONS])
    return Answer(turn.t("food.ask", dishes=names or "-"), "food")


def _restaurant_line(turn: _Turn, restaurant: Any) -> str:
    line = f"· {turn.name(restaurant.name)}"
    if restaurant.certified:
        line += turn.t("food.certified")
    if restaurant.rating:
        line += turn.t("food.rating", rating=f"{restaurant.rating:.1f}")
    address = turn.name(restaurant.address)
    return line + (f" — {address}" if address else "")


async def _route_guide(turn: _Turn) -> Answer:
    venue = await _venue(turn, turn.found.venue_id)
    found_tours = await tours.list_tours(venue_id=venue.id if venue else None)
    lines = []
    slots: dict[str, Any] = {}
    if venue is not None:
        slots = {"venue_id": venue.id, "venue": turn.name(venue.name)}
        transport = turn.name(venue.transport)
        address = turn.name(venue.address)
        lines.append(turn.t("route.venue", venue=slots["venue"], address=address or "-"))
        if transport:
            lines.append(transport)
    if found_tours:
        lines.append(turn.t("route.tours"))
        for tour in found_tours[:ANSWER_LIMIT]:
            route = tours.route_of(tour, walking_speed_kmh=4.0)
            lines.append(
                turn.t(
                    "route.tour_line",
                    name=turn.name(tour.name),
                    stops=len(route.stops),
                    km=f"{route.distance_m / 1000:.1f}",
                    link=f"/api/v1/tours/{tour.id}/route.geojson",
                )
            )
        slots["tours"] = [tour.id for tour in found_tours[:ANSWER_LIMIT]]
    if not lines:
        return await _ask_venue(turn, "route_guide")
    return Answer("\n".join(lines), "route_guide", slots)


async def _recommend(turn: _Turn) -> Answer:
    catalogue = await turn.tools.recommender.catalogue()
    found = await recommendations.recommend(
        catalogue=catalogue,
        visitor_id=turn.caller.visitor_id,
        now=turn.now,
        at=datetime.combine(turn.found.day, turn.now.time(), LOCAL_TZ)
        if turn.found.day and turn.found.day != turn.today
        else None,
        limit=ANSWER_LIMIT,
    )
    if not found:
        return Answer(turn.t("recommend.none"), "recommend")
    lines = [
        f"{n}. {turn.name(r.live.name or r.item.name)} — {reason_text(r.reason, turn.language)}"
        for n, r in enumerate(found, start=1)
    ]
    slots = {"items": [r.item.id for r in found]}
    return Answer(turn.t("recommend.header") + "\n" + "\n".join(lines), "recommend", slots)


async def _card_service(turn: _Turn) -> Answer:
    lines = []
    if turn.caller.visitor_id is not None:
        own = await cards.own_cards(visitor_id=turn.caller.visitor_id)
        if own:
            lines.append(turn.t("card.own", cards="、".join(c.card_number_masked for c in own)))
        else:
            lines.append(turn.t("card.none_bound"))
    benefits = await cards.venue_benefits()
    if benefits:
        lines.append(turn.t("card.benefits"))
        for benefit in benefits[:MAX_OPTIONS]:
            perks = []
            if benefit.free_entry:
                perks.append(turn.t("card.free"))
            elif benefit.discount_percent:
                perks.append(turn.t("card.discount", percent=benefit.discount_percent))
            if benefit.walk_in:
                perks.append(turn.t("card.walk_in"))
            if benefit.priority_percent:
                perks.append(turn.t("card.priority", percent=benefit.priority_percent))
            lines.append(f"· {turn.name(benefit.venue.name)}: {', '.join(perks) or '-'}")
    else:
        lines.append(turn.t("card.no_benefits"))
    lines.append(turn.t("card.how"))
    return Answer("\n".join(lines), "card_service", {"benefits": len(benefits)})


async def _my_bookings(turn: _Turn) -> Answer:
    own = await reservations.list_own_reservations(visitor_id=turn.caller.visitor_id, limit=10)
    if not own:
        return Answer(turn.t("bookings.none"), "my_bookings", {"reservations": []})
    lines = [_reservation_line(turn, r) for r in own]
    slots = {"reservations": [r.id for r in own]}
    return Answer(turn.t("bookings.header") + "\n" + "\n".join(lines), "my_bookings", slots)


def _reservation_line(turn: _Turn, reservation: Any) -> str:
    return turn.t(
        "bookings.line",
        id=reservation.id,
        venue=turn.name(reservation.venue.name),
        day=_date_text(turn, reservation.date),
        start=reservation.slot.starts_at.strftime("%H:%M"),
        end=reservation.slot.ends_at.strftime("%H:%M"),
        party=reservation.party_size,
        status=turn.t(f"status.{reservation.status}"),
    )


async def _hand_off(turn: _Turn) -> Answer:
    turn.state["handoff"] = True
    turn.state["form"] = {}
    await service.queue_for_staff(turn.tools.redis, turn.caller, turn.text, turn.language)
    return Answer(turn.t("handoff.queued"), "human")


# --- the booking form --------------------------------------------------------------------------


async def _open_slots(turn: _Turn, venue_id: int, day: date, *, party: int) -> list[dict]:
    listed = await reservations.list_slots_with_alternatives(
        venue_id=venue_id, day=day, now=turn.now
    )
    return [
        {
            "slot_id": slot.id,
            "start": slot.starts_at.strftime("%H:%M"),
            "end": slot.ends_at.strftime("%H:%M"),
            "remaining": slot.capacity - slot.booked,
        }
        for slot, _ in listed
        if slot.capacity - slot.booked >= party
        and datetime.combine(slot.date, slot.ends_at, LOCAL_TZ) > turn.now
    ]


def _booking_slots(turn: _Turn) -> dict[str, Any]:
    form = turn.form
    shown = {
        key: form[key]
        for key in ("venue_id", "venue", "date", "slot_id", "start", "end", "party_size")
        if form.get(key) is not None
    }
    if form.get("people"):
        shown["visitors"] = [
            {"name": p["name_masked"], "id_number": p["id_masked"]} for p in form["people"]
        ]
    return shown


async def _book(turn: _Turn) -> Answer:
    form, found = turn.form, turn.found
    form.setdefault("key", uuid.uuid4().hex)
    awaiting = form.get("awaiting")
    if awaiting == "confirm":
        decision = parse.parse_yes_no(turn.text)
        if decision is True:
            return await _reserve(turn)
        if decision is False:
            turn.state["form"] = {}
            return Answer(turn.t("book.dropped"), "book")
    if awaiting == "person" and (given := parse.parse_person(turn.text)):
        problem = _add_person(turn, given)
        if problem:
            return Answer(problem, "book", _booking_slots(turn))
    # What this message names fills (or changes) the form.
    if found.venue_id and found.venue_id != form.get("venue_id"):
        form.update(venue_id=found.venue_id, slot_id=None)
    if found.day and found.day.isoformat() != form.get("date"):
        form.update(date=found.day.isoformat(), slot_id=None)
    if found.time_of_day:
        form["time"] = {"part": found.time_of_day.part, "hour": found.time_of_day.hour}
        form["slot_id"] = None
    party = found.party_size or (_party_answer(turn.text) if awaiting == "party" else None)
    if party:
        if not 1 <= party <= reservations.MAX_PARTY:
            form["awaiting"] = "party"
            return Answer(turn.t("book.party_range", most=reservations.MAX_PARTY), "book")
        form["party_size"] = party
        form["people"] = form.get("people", [])[:party]
    if awaiting == "slot" and not form.get("slot_id"):
        pick = parse.parse_choice(turn.text, len(form.get("options", [])))
        if pick:
            _choose_slot(form, form["options"][pick - 1])
    return await _next_booking_step(turn)


def _add_person(turn: _Turn, given: parse.PersonGiven) -> str | None:
    form = turn.form
    try:
        id_number = personal_data.validate_id_number(given.id_number, today=turn.today)
    except personal_data.InvalidIdNumber as problem:
        return turn.t("book.bad_id", reason=turn.t(f"id_reason.{problem.params['reason']}"))
    cipher = turn.tools.cipher
    id_hash = cipher.lookup_hash(id_number)
    if any(p["id_hash"] == id_hash for p in form.get("people", [])):
        return turn.t("book.duplicate_person")
    form.setdefault("people", []).append(
        {
            "name": cipher.encrypt(given.name),
            "id_number": cipher.encrypt(id_number),
            "id_hash": id_hash,
            "name_masked": personal_data.mask_name(given.name),
            "id_masked": personal_data.mask_id_number(id_number),
        }
    )
    return None


def _choose_slot(form: dict[str, Any], option: dict[str, Any]) -> None:
    form.update(slot_id=option["slot_id"], start=option["start"], end=option["end"])
    if option.get("date"):
        # A slot offered when the chosen one filled up may be on the next day.
        form["date"] = option["date"]


async def _next_booking_step(turn: _Turn) -> Answer:
    form = turn.form
    venue = await _venue(turn, form.get("venue_id"))
    if venue is None:
        form["venue_id"] = None
        return await _ask_venue(turn, "book", reservable_only=True)
    form["venue"] = turn.name(venue.name)
    if not venue.reservable:
        turn.state["form"] = {}
        return Answer(turn.t("book.walk_in", venue=form["venue"]), "book", {"venue_id": venue.id})
    if not form.get("date"):
        form["awaiting"] = "date"
        return Answer(turn.t("ask.date", venue=form["venue"]), "book", _booking_slots(turn))
    day = date.fromisoformat(form["date"])
    if not form.get("slot_id"):
        options = await _open_slots(turn, venue.id, day, party=form.get("party_size") or 1)
        wanted = form.get("time")
        if wanted:
            fitting = [
                o
                for o in options
                if TimeOfDay(**wanted).matches(int(o["start"][:2]), int(o["end"][:2]))
            ]
            if len(fitting) == 1:
                _choose_slot(form, fitting[0])
            elif fitting:
                options = fitting
        if not form.get("slot_id"):
            if not options:
                form["date"] = None
                form["awaiting"] = "date"
                return Answer(
                    turn.t("book.no_slots", venue=form["venue"], day=_day_label(turn, day)),
                    "book",
                    _booking_slots(turn),
                )
            form["options"] = options[:MAX_OPTIONS]
            form["awaiting"] = "slot"
            listed = "\n".join(
                f"{n}. "
                + turn.t("slot.option", start=o["start"], end=o["end"], left=o["remaining"])
                for n, o in enumerate(form["options"], start=1)
            )
            reply = turn.t("ask.slot", venue=form["venue"], day=_day_label(turn, day))
            slots = {**_booking_slots(turn), "options": form["options"]}
            return Answer(reply + "\n" + listed, "book", slots)
    if not form.get("party_size"):
        form["awaiting"] = "party"
        return Answer(
            turn.t("ask.party", most=reservations.MAX_PARTY), "book", _booking_slots(turn)
        )
    people = form.get("people", [])
    if len(people) < form["party_size"]:
        form["awaiting"] = "person"
        return Answer(
            turn.t("ask.person", number=len(people) + 1, total=form["party_size"]),
            "book",
            _booking_slots(turn),
        )
    form["awaiting"] = "confirm"
    names = "、".join(p["name_masked"] for p in people)
    reply = turn.t(
        "book.confirm",
        venue=form["venue"],
        day=_day_label(turn, day),
        start=form["start"],
        end=form["end"],
        party=form["party_size"],
        names=names,
    )
    return Answer(reply, "book", _booking_slots(turn))


async def _reserve(turn: _Turn) -> Answer:
    form = turn.form
    cipher = turn.tools.cipher
    visitor_id = turn.caller.visitor_id
    people = [
        reservations.Person(cipher.decrypt(p["name"]), cipher.decrypt(p["id_number"]))
        for p in form["people"]
    ]
    request = {
        "slot_id": form["slot_id"],
        "visitors": [{"name": p.name, "id_number": p.id_number} for p in people],
    }

    async def book() -> tuple[int, dict]:
        reservation = await reservations.reserve(
            visitor_id=visitor_id,
            slot_id=form["slot_id"],
            people=people,
            now=turn.now,
            cipher=cipher,
        )
        return 201, {
            "id": reservation.id,
            "tickets": [ticket.id for ticket in reservation.tickets],
        }

    try:
        # The same idempotency record as the mini-program's: a retried confirmation (WeChat
        # sends a message again when we are slow) gets the first booking, not a second one.
        _, booked = await idempotency.answer_once(
            turn.tools.redis,
            scope=f"reserve:{visitor_id}",
            key=f"chat-{form['key']}",
            request_fingerprint=idempotency.fingerprint(request),
            work=book,
        )
    except SlotFull as full:
        form.update(slot_id=None, options=full.params["suggestions"], awaiting="slot")
        reply = i18n.gettext("error.slot_full", turn.language, **full.params)
        if full.params["suggestions"]:
            reply += "\n" + "\n".join(
                f"{n}. "
                + turn.t("slot.option", start=o["start"], end=o["end"], left=o["remaining"])
                + f" ({o['date']})"
                for n, o in enumerate(full.params["suggestions"], start=1)
            )
        return Answer(reply, "book", _booking_slots(turn))
    except AppError as refusal:
        turn.state["form"] = {}
        return Answer(
            i18n.gettext(f"error.{refusal.code}", turn.language, **refusal.params), "book"
        )
    turn.state["form"] = {}
    links = [f"/api/v1/tickets/{ticket_id}/qr.png" for ticket_id in booked["tickets"]]
    reply = turn.t(
        "book.done",
        id=booked["id"],
        venue=form["venue"],
        day=_day_label(turn, date.fromisoformat(form["date"])),
        start=form["start"],
        end=form["end"],
    )
    reply += "\n" + "\n".join(links)
    slots = {
        "reservation_id": booked["id"],
        "venue_id": form["venue_id"],
        "date": form["date"],
        "slot_id": form["slot_id"],
        "tickets": [
            {"id": t, "qr_url": link} for t, link in zip(booked["tickets"], links, strict=True)
        ],
    }
    return Answer(reply, "book", slots)


# --- cancelling --------------------------------------------------------------------------------


async def _cancel(turn: _Turn) -> Answer:
    form = turn.form
    visitor_id = turn.caller.visitor_id
    awaiting = form.get("awaiting")
    if awaiting == "confirm":
        decision = parse.parse_yes_no(turn.text)
        if decision is False:
            turn.state["form"] = {}
            return Answer(turn.t("cancel.kept"), "cancel_booking")
        if decision is True:
            turn.state["form"] = {}
            try:
                cancelled = await reservations.cancel(
                    visitor_id=visitor_id, reservation_id=form["reservation_id"], now=turn.now
                )
            except AppError as refusal:
                return Answer(
                    i18n.gettext(f"error.{refusal.code}", turn.language, **refusal.params),
                    "cancel_booking",
                )
            slots = {"reservation_id": cancelled.id, "status": str(cancelled.status)}
            return Answer(turn.t("cancel.done", id=cancelled.id), "cancel_booking", slots)
    if awaiting == "reservation":
        pick = parse.parse_choice(turn.text, len(form.get("options", [])))
        if pick:
            return await _confirm_cancel(turn, form["options"][pick - 1])
    own = await reservations.list_own_reservations(visitor_id=visitor_id)
    upcoming = [
        r
        for r in own
        if r.status == ReservationStatus.CONFIRMED
        and reservations.slot_starts(r.slot) > turn.now
        and (turn.found.venue_id is None or r.venue_id == turn.found.venue_id)
        and (turn.found.day is None or r.date == turn.found.day)
    ]
    if not upcoming:
        turn.state["form"] = {}
        return Answer(turn.t("cancel.none"), "cancel_booking")
    if len(upcoming) == 1:
        return await _confirm_cancel(turn, upcoming[0].id, upcoming)
    form.update(awaiting="reservation", options=[r.id for r in upcoming[:MAX_OPTIONS]])
    lines = [f"{n}. {_reservation_line(turn, r)}" for n, r in enumerate(upcoming[:MAX_OPTIONS], 1)]
    slots = {"options": form["options"]}
    return Answer(turn.t("cancel.which") + "\n" + "\n".join(lines), "cancel_booking", slots)


async def _confirm_cancel(turn: _Turn, reservation_id: int, known: list | None = None) -> Answer:
    reservation = next((r for r in known or [] if r.id == reservation_id), None)
    if reservation is None:
        reservation = await reservations.get_own_reservation(
            visitor_id=turn.caller.visitor_id, reservation_id=reservation_id
        )
    turn.state["form"] = {
        "intent": "cancel_booking",
        "awaiting": "confirm",
        "reservation_id": reservation.id,
    }
    reply = turn.t("cancel.confirm", line=_reservation_line(turn, reservation))
    return Answer(reply, "cancel_booking", {"reservation_id": reservation.id})


# --- complaints --------------------------------------------------------------------------------


def _complaint_detail(text: str) -> str:
    """What is left of a message once words like 我要投诉 / I want to complain are taken out."""
    return _COMPLAINT_TRIGGERS.sub("", parse.normalise(text))


async def _complaint(turn: _Turn) -> Answer:
    form = turn.form
    awaiting = form.get("awaiting")
    found = turn.found
    if awaiting == "confirm":
        decision = parse.parse_yes_no(turn.text)
        if decision is True:
            return await _file_complaint(turn)
        if decision is False:
            turn.state["form"] = {}
            return Answer(turn.t("complaint.dropped"), "complaint")
    elif awaiting in (None, "what"):
        if awaiting == "what" or len(_complaint_detail(turn.text)) >= 4:
            form["what"] = turn.text[:500]
    elif awaiting == "where":
        form["where"] = turn.text[:120]
    elif awaiting == "when":
        form["when_text"] = turn.text[:60]
    if found.venue_id and not form.get("venue_id"):
        venue = await _venue(turn, found.venue_id)
        if venue is not None:
            form.update(venue_id=venue.id, where=turn.name(venue.name))
    if found.day and not form.get("day"):
        form["day"] = found.day.isoformat()
        if found.time_of_day and found.time_of_day.hour is not None:
            form["hour"] = found.time_of_day.hour
    if (
        awaiting == "when"
        and not form.get("day")
        and re.search(r"刚才|刚刚|just now|now", turn.text)
    ):
        form.update(day=turn.today.isoformat(), hour=turn.now.hour)
    if not form.get("what"):
        form["awaiting"] = "what"
        return Answer(turn.t("complaint.ask_what"), "complaint")
    if not form.get("where"):
        form["awaiting"] = "where"
        return Answer(turn.t("complaint.ask_where"), "complaint")
    if not form.get("day") and not form.get("when_text"):
        form["awaiting"] = "when"
        return Answer(turn.t("complaint.ask_when"), "complaint")
    form["awaiting"] = "confirm"
    when = _complaint_when(turn)
    reply = turn.t("complaint.confirm", what=form["what"], where=form["where"], when=when)
    return Answer(reply, "complaint", {"venue_id": form.get("venue_id")})


def _complaint_when(turn: _Turn) -> str:
    form = turn.form
    if form.get("day"):
        text = _date_text(turn, date.fromisoformat(form["day"]))
        return text + (f" {form['hour']:02d}:00" if form.get("hour") is not None else "")
    return form.get("when_text", "")


async def _file_complaint(turn: _Turn) -> Answer:
    form = turn.form
    occurred_at = None
    if form.get("day"):
        occurred_at = datetime.combine(
            date.fromisoformat(form["day"]), datetime.min.time(), LOCAL_TZ
        ) + timedelta(hours=form.get("hour") or 0)
        if occurred_at > turn.now:
            occurred_at = None
    text = turn.t(
        "complaint.record", what=form["what"], where=form["where"], when=_complaint_when(turn)
    )
    turn.state["form"] = {}
    try:
        complaint = await supervision.file_complaint(
            text=text,
            channel="chat",
            visitor_id=turn.caller.visitor_id,
            venue_id=form.get("venue_id"),
            occurred_at=occurred_at,
            now=turn.now,
        )
    except AppError as refusal:
        return Answer(
            i18n.gettext(f"error.{refusal.code}", turn.language, **refusal.params), "complaint"
        )
    slots = {"complaint_id": complaint.id, "reference": complaint.reference}
    return Answer(turn.t("complaint.filed", reference=complaint.reference), "complaint", slots)


# --- a venue asked for, then the question answered ---------------------------------------------


async def _answer_after_venue(turn: _Turn) -> Answer:
    intent = turn.form["intent"]
    return await _QUESTION_HANDLERS[intent](turn)


_QUESTION_HANDLERS = {
    "greeting": _greeting,
    UNKNOWN: _unknown,
    "opening_hours": _opening_hours,
    "ticket_price": _ticket_price,
    "crowd_status": _crowd_status,
    "food": _food,
    "route_guide": _route_guide,
    "recommend": _recommend,
    "card_service": _card_service,
    "my_bookings": _my_bookings,
}
_FORM_HANDLERS = {
    "book": _book,
    "cancel_booking": _cancel,
    "complaint": _complaint,
    **{intent: _answer_after_venue for intent in VENUE_QUESTIONS},
    "route_guide": _answer_after_venue,
}
