"""Whole conversations over POST /api/v1/chat, in Chinese and English: booking, cancelling,
complaints, handoff to staff, live answers, and that one session never sees another's."""

from __future__ import annotations

from datetime import time, timedelta

import httpx
from factories import (
    make_id_number,
    make_reservable_venue,
    make_slot,
    make_staff_token,
    make_visitor_token,
)

from bots.models import ChatTurn
from bots.service import chat_figures
from server.admin.models import AuditEntry
from server.clock import local_now
from server.reservations.models import Reservation, ReservationStatus, TimeSlot
from server.supervision.models import Complaint

ISLET = {"zh-CN": "江心屿", "en": "Jiangxin Islet"}


class Chat:
    """One side of a chat session: says things, returns the bot's JSON answer."""

    def __init__(self, client: httpx.AsyncClient, session_id: str, token: str | None = None):
        self.client = client
        self.session_id = session_id
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def say(self, text: str) -> dict:
        answer = await self.client.post(
            "/api/v1/chat",
            json={"session_id": self.session_id, "text": text},
            headers=self.headers,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


async def _islet_with_slots():
    venue = await make_reservable_venue(name=ISLET)
    tomorrow = local_now().date() + timedelta(days=1)
    morning = await make_slot(venue, day=tomorrow, starts=time(9), ends=time(11), capacity=20)
    afternoon = await make_slot(
        venue, day=tomorrow, starts=time(14), ends=time(16), capacity=20, booked=18
    )
    return venue, morning, afternoon


async def test_a_booking_conversation_in_chinese_reserves_through_the_service(server) -> None:
    venue, morning, _ = await _islet_with_slots()
    visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-zh-booking", token)

    first = await chat.say("我想预约明天去江心屿")
    assert first["intent"] == "book"
    assert "09:00-11:00" in first["reply"] and "20" in first["reply"]
    assert first["slots"]["venue_id"] == venue.id
    picked = await chat.say("1")
    assert picked["slots"]["slot_id"] == morning.id and "几位" in picked["reply"]
    party = await chat.say("两个人")
    assert "1" in party["reply"] and party["slots"]["party_size"] == 2
    await chat.say(f"张三 {make_id_number(sequence=11)}")
    confirm = await chat.say(f"李四，{make_id_number(sequence=12)}")
    assert "确认" in confirm["reply"]
    assert make_id_number(sequence=11) not in str(confirm)  # only masked
    assert [v["name"] for v in confirm["slots"]["visitors"]] == ["张*", "李*"]

    done = await chat.say("确认")
    assert done["intent"] == "book"
    reservation = await Reservation.get(id=done["slots"]["reservation_id"])
    assert (reservation.visitor_id, reservation.slot_id) == (visitor.id, morning.id)
    assert reservation.party_size == 2
    assert (await TimeSlot.get(id=morning.id)).booked == 2
    assert f"/api/v1/tickets/{done['slots']['tickets'][0]['id']}/qr.png" in done["reply"]
    own = await server.client.get(
        "/api/v1/reservations", headers={"Authorization": f"Bearer {token}"}
    )
    assert [r["id"] for r in own.json()] == [reservation.id]
    # Saying yes again books nothing more: the form is over.
    await chat.say("确认")
    assert await Reservation.filter(visitor_id=visitor.id).count() == 1


async def test_a_booking_conversation_in_english_picks_the_slot_from_the_time_said(
    server,
) -> None:
    _, _, afternoon = await _islet_with_slots()
    visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-en-booking", token)

    first = await chat.say("Book Jiangxin Islet tomorrow afternoon for two of us")
    assert first["intent"] == "book"
    assert first["slots"]["slot_id"] == afternoon.id  # the only afternoon slot with 2 places
    assert "visitor 1 of 2" in first["reply"]
    await chat.say(f"Li Lei {make_id_number(sequence=21)}")
    confirm = await chat.say(f"Han Meimei {make_id_number(sequence=22)}")
    assert "14:00-16:00" in confirm["reply"] and "yes" in confirm["reply"]
    done = await chat.say("yes")
    assert done["reply"].startswith("Booked!")
    assert (await TimeSlot.get(id=afternoon.id)).booked == 20
    assert await Reservation.filter(visitor_id=visitor.id, slot_id=afternoon.id).count() == 1


async def test_a_bad_id_number_is_asked_again_and_never_echoed(server) -> None:
    await _islet_with_slots()
    _, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-bad-id", token)
    await chat.say("预约明天上午的江心屿，一个人")
    valid = make_id_number(sequence=31)
    wrong = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    answer = await chat.say(f"王五 {wrong}")
    assert "校验位" in answer["reply"] and wrong not in answer["reply"]
    assert answer["intent"] == "book"


async def test_anonymous_visitors_can_ask_but_must_log_in_to_book(server) -> None:
    await _islet_with_slots()
    chat = Chat(server.client, "anonymous-session")
    answer = await chat.say("我想预约明天去江心屿")
    assert answer["intent"] == "book"
    assert "登录" in answer["reply"]
    hours = await chat.say("江心屿几点开门")
    assert hours["intent"] == "opening_hours" and "08:00-22:00" in hours["reply"]


async def test_cancelling_in_chinese_returns_the_places(server) -> None:
    _, morning, _ = await _islet_with_slots()
    _visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-zh-cancel", token)
    await chat.say("预约明天上午江心屿 1位")
    await chat.say(f"张三 {make_id_number(sequence=41)}")
    booked = await chat.say("确认")
    reservation_id = booked["slots"]["reservation_id"]

    asked = await chat.say("我要取消预约")
    assert asked["intent"] == "cancel_booking"
    assert f"[{reservation_id}]" in asked["reply"]
    done = await chat.say("确认")
    assert done["slots"] == {"reservation_id": reservation_id, "status": "cancelled"}
    assert (await Reservation.get(id=reservation_id)).status == ReservationStatus.CANCELLED
    assert (await TimeSlot.get(id=morning.id)).booked == 0


async def test_cancelling_in_english_asks_which_booking(server) -> None:
    _venue, _morning, _afternoon = await _islet_with_slots()
    visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-en-cancel", token)
    for slot_time, sequence in (("morning", 51), ("afternoon", 52)):
        await chat.say(f"book Jiangxin Islet tomorrow {slot_time}, just me")
        await chat.say(f"Li Lei {make_id_number(sequence=sequence)}")
        await chat.say("yes")
    assert await Reservation.filter(visitor_id=visitor.id).count() == 2

    which = await chat.say("cancel my booking")
    assert which["intent"] == "cancel_booking" and len(which["slots"]["options"]) == 2
    picked = await chat.say("2")
    assert "Cancel this booking?" in picked["reply"]
    done = await chat.say("yes")
    cancelled = await Reservation.get(id=done["slots"]["reservation_id"])
    assert cancelled.status == ReservationStatus.CANCELLED
    assert (
        await Reservation.filter(visitor_id=visitor.id, status=ReservationStatus.CONFIRMED).count()
        == 1
    )


async def test_a_complaint_in_chinese_is_filed_with_a_reference(server) -> None:
    venue, _, _ = await _islet_with_slots()
    visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-zh-complaint", token)
    assert (await chat.say("我要投诉"))["intent"] == "complaint"
    where = await chat.say("工作人员态度很差，还推了我")
    assert "哪里" in where["reply"]
    when = await chat.say("江心屿码头")
    assert "什么时候" in when["reply"]
    confirm = await chat.say("昨天下午3点")
    assert "态度很差" in confirm["reply"]
    filed = await chat.say("确认")
    complaint = await Complaint.get(id=filed["slots"]["complaint_id"])
    assert filed["slots"]["reference"] == complaint.reference
    assert complaint.reference in filed["reply"]
    assert (complaint.visitor_id, complaint.venue_id) == (visitor.id, venue.id)
    assert str(complaint.channel) == "chat"
    assert complaint.occurred_at.date() == local_now().date() - timedelta(days=1)


async def test_a_complaint_in_english_takes_what_where_and_when_from_one_message(server) -> None:
    venue, _, _ = await _islet_with_slots()
    _visitor, token = await make_visitor_token(server.app)
    chat = Chat(server.client, "session-en-complaint", token)
    confirm = await chat.say(
        "I want to complain: a shop at Jiangxin Islet overcharged me yesterday"
    )
    assert confirm["intent"] == "complaint" and "Please confirm" in confirm["reply"]
    filed = await chat.say("yes")
    complaint = await Complaint.get(id=filed["slots"]["complaint_id"])
    assert complaint.venue_id == venue.id and "overcharged" in complaint.text
    assert filed["reply"].startswith("Your complaint is filed under reference")


async def test_a_session_never_sees_another_callers_state(server) -> None:
    await _islet_with_slots()
    _, alice = await make_visitor_token(server.app)
    _, bob = await make_visitor_token(server.app)
    shared = "same-session-id"
    started = await Chat(server.client, shared, alice).say("预约明天上午江心屿 两个人")
    assert started["slots"]["party_size"] == 2
    await Chat(server.client, shared, alice).say(f"张三 {make_id_number(sequence=61)}")
    for other in (Chat(server.client, shared, bob), Chat(server.client, shared)):
        answer = await other.say("确认")
        assert answer["intent"] != "book"
        assert "张" not in answer["reply"] and answer["slots"] == {}
    # Alice's form is untouched by them.
    resumed = await Chat(server.client, shared, alice).say(f"李四 {make_id_number(sequence=62)}")
    assert "张*" in resumed["reply"]


async def test_staff_tokens_and_malformed_messages_are_refused(server) -> None:
    _, staff = await make_staff_token(server.app, None, role="admin")
    refused = await server.client.post(
        "/api/v1/chat",
        json={"session_id": "staff-session", "text": "hi"},
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert refused.status_code == 403
    short = await server.client.post("/api/v1/chat", json={"session_id": "x", "text": "hi"})
    assert short.status_code == 422 and short.json()["error"]["field"] == "session_id"
    empty = await server.client.post("/api/v1/chat", json={"session_id": "session-ok", "text": ""})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "text"


async def test_handoff_pauses_the_bot_until_staff_hand_back(server) -> None:
    _, token = await make_visitor_token(server.app)
    _, admin = await make_staff_token(server.app, None, role="admin")
    staff_headers = {"Authorization": f"Bearer {admin}"}
    chat = Chat(server.client, "session-handoff", token)

    assert (await chat.say("转人工"))["intent"] == "human"
    waiting = await chat.say(f"我的票丢了，身份证 {make_id_number(sequence=71)}")
    assert waiting["intent"] == "human"
    visitor_headers = {"Authorization": f"Bearer {token}"}
    assert (
        await server.client.get("/api/v1/admin/chat/handoffs", headers=visitor_headers)
    ).status_code == 403
    queued = (await server.client.get("/api/v1/admin/chat/handoffs", headers=staff_headers)).json()
    assert len(queued) == 1
    texts = [m["text"] for m in queued[0]["messages"]]
    assert make_id_number(sequence=71) not in str(texts)  # masked for staff
    handle = queued[0]["id"]

    answered = await server.client.post(
        f"/api/v1/admin/chat/handoffs/{handle}/answer",
        json={"text": "您好，已为您查到预约"},
        headers=staff_headers,
    )
    assert answered.status_code == 200
    polled = await server.client.get(
        "/api/v1/chat/messages", params={"session_id": "session-handoff"}, headers=visitor_headers
    )
    assert polled.json() == {"messages": ["您好，已为您查到预约"]}
    back = await server.client.post(
        f"/api/v1/admin/chat/handoffs/{handle}/hand-back", headers=staff_headers
    )
    assert back.json()["status"] == "bot"
    assert (
        await server.client.get("/api/v1/admin/chat/handoffs", headers=staff_headers)
    ).json() == []
    again = await chat.say("你好")
    assert again["intent"] == "greeting" and "人工服务已结束" in again["reply"]
    audited = await AuditEntry.filter(target_type="chat", target_id=handle).order_by("id")
    assert [(entry.action, entry.actor_role) for entry in audited] == [
        ("chat.handoff.answer", "admin"),
        ("chat.handoff.hand_back", "admin"),
    ]
    assert "已为您查到预约" not in str([entry.after for entry in audited])


async def test_answers_come_from_live_data(server) -> None:
    _venue, morning, _ = await _islet_with_slots()
    chat = Chat(server.client, "session-live-data")
    price = await chat.say("江心屿门票多少钱")
    assert price["intent"] == "ticket_price" and "50元" in price["reply"]
    assert "65周岁" not in price["reply"]  # the factory's rules carry only English notes
    crowd = await chat.say("明天还有名额吗")  # the venue carries over from the last question
    assert crowd["intent"] == "crowd_status"
    assert "09:00-11:00 余20" in crowd["reply"] and "14:00-16:00 余2" in crowd["reply"]
    await TimeSlot.filter(id=morning.id).update(booked=15)
    again = await chat.say("how many places remain tomorrow at Jiangxin Islet")
    assert "09:00-11:00: 5 left" in again["reply"]


async def test_unclear_messages_get_the_menu_and_turns_are_counted(server) -> None:
    chat = Chat(server.client, "session-figures")
    unclear = await chat.say("给我讲个笑话")
    assert unclear["intent"] == "unknown" and "1. " in unclear["reply"]
    await chat.say("hello")
    today = local_now().date()
    figures = await chat_figures(today, today)
    assert figures["messages"] == 2 == await ChatTurn.all().count()
    assert figures["by_day"] == [{"day": today.isoformat(), "messages": 2}]
    assert {row["intent"] for row in figures["top_intents"]} == {"unknown", "greeting"}
    assert await chat_figures(today - timedelta(days=3), today - timedelta(days=1)) == {
        "messages": 0,
        "by_day": [],
        "top_intents": [],
    }


async def test_an_unknown_lang_falls_back_instead_of_failing(server) -> None:
    answer = await server.client.post(
        "/api/v1/chat", json={"session_id": "session-odd-lang", "text": "0", "lang": "0" * 15}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["intent"] == "unknown"
