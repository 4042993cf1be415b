"""Numbered menus: a reply of just a number ("2", "第二个", "the first one") picks the entry of
the menu the bot has just shown, in Chinese and English: the main menu, slots, slots offered
when the chosen one filled up, and bookings to cancel."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from factories import make_id_number, make_reservable_venue, make_slot, make_visitor_token

from bots.dialogue import MENU
from bots.entities import parse_menu_pick
from server.clock import local_now
from server.reservations.models import Reservation, ReservationStatus, TimeSlot

from .test_conversations import ISLET, Chat, _islet_with_slots
from .test_wechat import WeChatServer, subscribe_event, text_message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        ("2.", 2),
        ("２", 2),
        ("第二个", 2),
        ("第 3 项", 3),
        ("选3", 3),
        ("十二", 12),
        ("option 4", 4),
        ("the first one", 1),
        ("second", 2),
        ("#5", 5),
        ("13", None),
        ("0", None),
        ("两个人", None),
        ("第二个景点怎么去", None),
        ("江心屿几点开门", None),
        ("no", None),
    ],
)
def test_a_menu_pick_is_the_whole_message(text: str, expected: int | None) -> None:
    assert parse_menu_pick(text, len(MENU)) == expected


async def test_a_number_after_the_chinese_menu_asks_that_question(server) -> None:
    await _islet_with_slots()
    chat = Chat(server.client, "session-menu-zh")
    menu = await chat.say("给我讲个笑话")
    assert menu["intent"] == "unknown" and "2. 开放时间" in menu["reply"]
    asked = await chat.say("2")
    assert asked["intent"] == "opening_hours" and "哪个场馆" in asked["reply"]
    hours = await chat.say("江心屿")
    assert hours["intent"] == "opening_hours" and "08:00-22:00" in hours["reply"]
    # Only right after the menu: the same number now is no pick.
    assert (await chat.say("2"))["intent"] == "unknown"


async def test_words_for_numbers_pick_from_the_english_menu(server) -> None:
    await _islet_with_slots()
    chat = Chat(server.client, "session-menu-en")
    menu = await chat.say("hello")
    assert menu["intent"] == "greeting" and "4. Live crowds" in menu["reply"]
    asked = await chat.say("the fourth one")
    assert asked["intent"] == "crowd_status" and "Which venue" in asked["reply"]
    crowd = await chat.say("Jiangxin Islet tomorrow")
    assert crowd["intent"] == "crowd_status" and "09:00-11:00: 20 left" in crowd["reply"]


async def test_menu_entries_that_need_a_login_or_staff(server) -> None:
    _, token = await make_visitor_token(server.app)
    anonymous = Chat(server.client, "session-menu-anon")
    await anonymous.say("你好")
    refused = await anonymous.say("第一个")
    assert refused["intent"] == "book" and "登录" in refused["reply"]
    visitor = Chat(server.client, "session-menu-visitor", token)
    await visitor.say("hi")
    booking = await visitor.say("1")
    assert booking["intent"] == "book" and "Which venue" in booking["reply"]
    await visitor.say("never mind")
    await visitor.say("hi")
    human = await visitor.say(str(MENU.index("human") + 1))
    assert human["intent"] == "human"


async def test_the_first_slot_is_picked_by_its_ordinal_in_chinese(server) -> None:
    _, morning, _ = await _islet_with_slots()
    _, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-slot-ordinal", token)
    offered = await chat.say("预约明天江心屿")
    assert "1. 09:00-11:00" in offered["reply"]
    picked = await chat.say("第一个")
    assert picked["slots"]["slot_id"] == morning.id and "几位" in picked["reply"]


async def test_a_slot_offered_when_the_chosen_one_filled_up_is_picked_with_its_day(
    server,
) -> None:
    venue = await make_reservable_venue(name=ISLET)
    tomorrow = local_now().date() + timedelta(days=1)
    wanted = await make_slot(venue, day=tomorrow, starts=time(14), ends=time(16), capacity=10)
    next_day = await make_slot(
        venue, day=tomorrow + timedelta(days=1), starts=time(14), ends=time(16), capacity=10
    )
    visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-slot-full", token)
    await chat.say("Book Jiangxin Islet tomorrow afternoon, just me")
    await chat.say(f"Li Lei {make_id_number(sequence=81)}")
    await TimeSlot.filter(id=wanted.id).update(booked=10)  # someone else took the last places
    full = await chat.say("yes")
    assert f"1. 14:00-16:00 (10 places left) ({next_day.date.isoformat()})" in full["reply"]
    confirm = await chat.say("1")
    assert confirm["slots"]["date"] == next_day.date.isoformat()
    assert confirm["slots"]["slot_id"] == next_day.id and "Please confirm" in confirm["reply"]
    done = await chat.say("yes")
    booked = await Reservation.get(id=done["slots"]["reservation_id"])
    assert (booked.visitor_id, booked.slot_id, booked.date) == (
        visitor.id,
        next_day.id,
        next_day.date,
    )


async def test_a_booking_to_cancel_is_picked_by_its_number_in_chinese(server) -> None:
    await _islet_with_slots()
    visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-cancel-pick", token)
    for part, sequence in (("上午", 91), ("下午", 92)):
        await chat.say(f"预约明天{part}江心屿 1位")
        await chat.say(f"张三 {make_id_number(sequence=sequence)}")
        await chat.say("确认")
    which = await chat.say("取消预约")
    assert "1. " in which["reply"] and "2. " in which["reply"]
    second = which["slots"]["options"][1]
    asked = await chat.say("第二个")
    assert asked["slots"] == {"reservation_id": second}
    await chat.say("确认")
    assert (await Reservation.get(id=second)).status == ReservationStatus.CANCELLED
    kept = Reservation.filter(visitor_id=visitor.id, status=ReservationStatus.CONFIRMED)
    assert await kept.count() == 1


async def test_a_new_wechat_follower_can_answer_the_menu_with_a_number(client) -> None:
    await _islet_with_slots()
    wechat = WeChatServer(client)
    greeting = wechat.read_reply(await wechat.post(subscribe_event()))
    assert "3. 门票价格" in greeting
    asked = wechat.read_reply(await wechat.post(text_message("3")))
    assert "哪个场馆" in asked
    price = wechat.read_reply(await wechat.post(text_message("江心屿")))
    assert "50元" in price
