"""Complaints: filing from every channel, references, deadlines, the handling lifecycle, figures."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta

import pytest
from factories import make_venue

from server.accounts.models import StaffUser
from server.clock import LOCAL_TZ
from server.supervision import credit, service
from server.supervision import errors as refusals
from server.supervision.models import Complaint, ComplaintStatus, CreditRecord
from supervision.factories import CIPHER, make_entity

# A Friday morning: five working days later is the next Friday.
FRIDAY = datetime(2026, 11, 27, 9, 30, tzinfo=LOCAL_TZ)


_handlers = itertools.count(1)


async def make_handler(role: str = "supervisor") -> StaffUser:
    """An active staff account that may take complaints."""
    username = f"handler-{next(_handlers)}"
    return await StaffUser.create(username=username, password_hash="x", role=role)


async def test_a_complaint_gets_a_daily_reference_and_the_legal_deadlines(database):
    first = await service.file_complaint(text="导游强迫购物", channel="chat", now=FRIDAY)
    second = await service.file_complaint(text="景区排队太久", channel="miniapp", now=FRIDAY)
    next_day = await service.file_complaint(
        text="酒店卫生差", channel="phone", now=FRIDAY + timedelta(days=1)
    )
    assert (first.reference, second.reference) == ("TS20261127-0001", "TS20261127-0002")
    assert next_day.reference == "TS20261128-0001"
    assert first.status == ComplaintStatus.OPEN
    # 5 working days skip the weekend: Friday -> next Friday; then 60 days to handle.
    assert first.accept_by == FRIDAY + timedelta(days=7)
    assert first.deadline == FRIDAY + timedelta(days=67)


async def test_concurrent_filings_on_one_day_get_distinct_references(database, monkeypatch):
    async def file_many() -> list:
        return await asyncio.gather(
            *(
                service.file_complaint(text=f"投诉{n}", channel="chat", now=FRIDAY)
                for n in range(12)
            ),
            return_exceptions=True,
        )

    filed = await file_many()
    references = [c.reference for c in filed]
    assert len(set(references)) == 12
    assert sorted(references)[-1] == "TS20261127-0012"
    # Canary: without the retry on a taken reference, the same race loses filings.
    monkeypatch.setattr(service, "REFERENCE_ATTEMPTS", 1)
    again = await file_many()
    assert any(isinstance(outcome, Exception) for outcome in again)


async def test_a_venue_complaint_links_the_venues_entity(database):
    venue = await make_venue()
    entity = await make_entity(kind="scenic_area", venue_id=venue.id, name="江心屿景区测试")
    complaint = await service.file_complaint(
        text="索道停运未告知", channel="miniapp", venue_id=venue.id
    )
    assert complaint.entity_id == entity.id


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"text": " "}, refusals.ComplaintTextInvalid, "text"),
        ({"text": "x" * 2001}, refusals.ComplaintTextInvalid, "text"),
        ({"channel": "fax"}, refusals.UnknownComplaintChannel, "channel"),
        ({"venue_id": 999999}, refusals.ReferencedEntityNotFound, "venue_id"),
        ({"entity_id": 999999}, refusals.ReferencedEntityNotFound, "entity_id"),
        ({"occurred_at": FRIDAY + timedelta(days=1)}, refusals.OccurredAtInvalid, "occurred_at"),
    ],
)
async def test_bad_complaints_are_refused_naming_the_field(database, kwargs, error, field):
    values = {"text": "服务态度差", "channel": "chat", "now": FRIDAY, **kwargs}
    with pytest.raises(error) as refused:
        await service.file_complaint(**values)
    assert refused.value.extra()["field"] == field
    assert await Complaint.all().count() == 0


async def test_a_phone_complaint_keeps_the_callers_number_only_encrypted(database):
    complaint = await service.file_complaint(
        text="旅行社不退款", channel="phone", contact_phone="138 0577 1234", cipher=CIPHER
    )
    assert complaint.contact_phone_masked == "138****1234"
    assert "13805771234" not in complaint.contact_phone_encrypted
    assert CIPHER.decrypt(complaint.contact_phone_encrypted) == "13805771234"


async def test_lifecycle_assign_answer_close_and_upheld_feeds_credit(database):
    entity = await make_entity()
    handler = await make_handler()
    complaint = await service.file_complaint(
        text="导游中途甩团", channel="chat", entity_id=entity.id, now=FRIDAY
    )
    later = FRIDAY + timedelta(days=1)
    complaint = await service.assign_complaint(
        complaint_id=complaint.id, assignee_id=handler.id, now=later
    )
    assert complaint.status == ComplaintStatus.ASSIGNED and complaint.assigned_at == later
    with pytest.raises(refusals.ComplaintStateConflict):
        await service.close_complaint(complaint_id=complaint.id, now=later)
    complaint = await service.answer_complaint(
        complaint_id=complaint.id, answer="经查属实，已责令退赔", upheld=True,
        handler_id=handler.id, now=later,
    )  # fmt: skip
    assert complaint.status == ComplaintStatus.ANSWERED and complaint.upheld is True
    closed = await service.close_complaint(complaint_id=complaint.id, now=later)
    assert closed.status == ComplaintStatus.CLOSED and closed.closed_at == later
    record = await CreditRecord.get(source=f"complaint:{complaint.id}")
    assert (record.entity_id, record.points) == (entity.id, service.UPHELD_COMPLAINT_POINTS)
    standing = await credit.standing(entity.id, now=later)
    assert standing.score == 95.0
    with pytest.raises(refusals.ComplaintStateConflict):
        await service.answer_complaint(
            complaint_id=complaint.id, answer="再次答复", upheld=True, handler_id=handler.id,
            now=later,
        )  # fmt: skip


async def test_a_complaint_not_upheld_leaves_credit_alone(database):
    entity = await make_entity()
    handler = await make_handler()
    complaint = await service.file_complaint(text="价格偏高", channel="chat", entity_id=entity.id)
    await service.answer_complaint(
        complaint_id=complaint.id, answer="明码标价，不属违规", upheld=False,
        handler_id=handler.id, now=complaint.filed_at,
    )  # fmt: skip
    assert await CreditRecord.filter(entity_id=entity.id).count() == 0


async def test_only_supervisors_and_admins_take_complaints(database):
    complaint = await service.file_complaint(text="门票问题", channel="chat")
    gate = await StaffUser.create(username="gate-1", password_hash="x", role="venue_staff")
    for assignee in (gate.id, 987654):
        with pytest.raises(refusals.AssigneeInvalid):
            await service.assign_complaint(
                complaint_id=complaint.id, assignee_id=assignee, now=complaint.filed_at
            )


async def test_overdue_complaints_are_flagged_and_filtered(database):
    handler = await make_handler()
    unaccepted = await service.file_complaint(text="无人受理", channel="chat", now=FRIDAY)
    accepted = await service.file_complaint(text="已受理未办结", channel="chat", now=FRIDAY)
    await service.assign_complaint(complaint_id=accepted.id, assignee_id=handler.id, now=FRIDAY)
    accepted = await Complaint.get(id=accepted.id)
    after_accept_by = FRIDAY + timedelta(days=8)
    assert service.is_overdue(unaccepted, after_accept_by)
    assert not service.is_overdue(accepted, after_accept_by)
    total, rows = await service.list_complaints(now=after_accept_by, overdue=True)
    assert (total, [r.id for r in rows]) == (1, [unaccepted.id])
    total, rows = await service.list_complaints(now=after_accept_by, overdue=False)
    assert (total, [r.id for r in rows]) == (1, [accepted.id])
    after_deadline = FRIDAY + timedelta(days=68)
    total, _ = await service.list_complaints(now=after_deadline, overdue=True)
    assert total == 2
    await service.answer_complaint(
        complaint_id=accepted.id, answer="已办结", upheld=False, handler_id=handler.id,
        now=after_deadline,
    )  # fmt: skip
    total, _ = await service.list_complaints(now=after_deadline, overdue=True)
    assert total == 1


async def test_figures_count_by_status_overdue_and_day(database):
    handler = await make_handler()
    for day in (0, 0, 1):
        await service.file_complaint(
            text="投诉内容", channel="chat", now=FRIDAY + timedelta(days=day)
        )
    answered = await service.file_complaint(text="已答复", channel="staff", now=FRIDAY)
    await service.answer_complaint(
        complaint_id=answered.id, answer="答复", upheld=False, handler_id=handler.id, now=FRIDAY
    )
    await service.file_complaint(text="范围之外", channel="chat", now=FRIDAY + timedelta(days=5))
    figures = await service.complaint_figures(
        FRIDAY.date(), FRIDAY.date() + timedelta(days=1), now=FRIDAY + timedelta(days=9)
    )
    assert figures["total"] == 4
    assert figures["by_status"] == {"open": 3, "assigned": 0, "answered": 1, "closed": 0}
    assert figures["overdue"] == 3
    assert figures["by_day"] == [
        {"date": "2026-11-27", "count": 3},
        {"date": "2026-11-28", "count": 1},
    ]


async def test_visitors_see_only_their_own_complaints(database):
    from server.accounts.models import Visitor

    mine = await Visitor.create(openid="me")
    other = await Visitor.create(openid="other")
    await service.file_complaint(text="我的投诉", channel="miniapp", visitor_id=mine.id)
    await service.file_complaint(text="别人的投诉", channel="miniapp", visitor_id=other.id)
    own = await service.list_own_complaints(visitor_id=mine.id)
    assert [c.text for c in own] == ["我的投诉"]


async def test_two_handlers_answering_at_once_give_one_answer(database, monkeypatch):
    entity = await make_entity()
    handler = await make_handler()

    async def race() -> list:
        complaint = await service.file_complaint(
            text="同时处理", channel="chat", entity_id=entity.id, now=FRIDAY
        )
        return await asyncio.gather(
            *(
                service.answer_complaint(
                    complaint_id=complaint.id, answer=f"答复{n}", upheld=True,
                    handler_id=handler.id, now=FRIDAY,
                )
                for n in range(2)
            ),
            return_exceptions=True,
        )  # fmt: skip

    outcomes = await race()
    assert sum(isinstance(o, refusals.ComplaintStateConflict) for o in outcomes) == 1
    assert await CreditRecord.filter(entity_id=entity.id).count() == 1

    # Canary: a step that does not check the status it started from lets both answers through.
    async def unguarded(complaint_id, expected, changes):
        await Complaint.filter(id=complaint_id).update(**changes)

    monkeypatch.setattr(service, "_step", unguarded)
    assert not any(isinstance(o, Exception) for o in await race())
