"""Credit: grades follow from records with decay; list entry, expiry and credit repair."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from server.clock import LOCAL_TZ
from server.supervision import credit
from server.supervision import errors as refusals
from server.supervision.models import CreditListEntry, CreditListKind, CreditRecordKind
from supervision.factories import make_entity

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=LOCAL_TZ)
TODAY = NOW.date()


async def add(entity, kind, category, *, days_ago=0, now=NOW, **extra):
    return await credit.add_record(
        entity_id=entity.id,
        kind=CreditRecordKind(kind),
        category=category,
        reason=f"{category} test",
        occurred_on=(now - timedelta(days=days_ago)).date(),
        now=now,
        **extra,
    )


def test_a_record_weighs_half_after_a_year_and_nothing_after_three():
    assert credit.decay_weight(TODAY, TODAY) == 1.0
    assert credit.decay_weight(TODAY - timedelta(days=365), TODAY) == pytest.approx(0.5)
    assert credit.decay_weight(TODAY - timedelta(days=730), TODAY) == pytest.approx(0.25)
    assert credit.decay_weight(TODAY - timedelta(days=3 * 365 + 1), TODAY) == 0.0


@pytest.mark.parametrize(
    ("records", "score", "grade"),
    [
        ([], 100.0, "A"),
        ([(-10, 0)], 90.0, "A"),
        ([(-10, 0), (-5, 0)], 85.0, "B"),
        ([(-30, 0)], 70.0, "C"),
        ([(-30, 365)], 85.0, "B"),  # the same penalty a year ago weighs half
        ([(-45, 0)], 55.0, "D"),
        ([(-45, 730)], 88.8, "B"),
        ([(-45, 0), (10, 0)], 65.0, "C"),  # a commendation lifts the score
        ([(50, 0), (50, 0)], 120.0, "A"),  # capped
    ],
)
def test_score_and_grade_follow_from_points_and_age(records, score, grade):
    points = [(p, TODAY - timedelta(days=age)) for p, age in records]
    assert credit.score_of(points, TODAY) == score
    assert credit.grade_of(score) == grade


def test_lists_cap_the_grade():
    assert credit.grade_of(100.0, (CreditListKind.KEY_SUPERVISION,)) == "C"
    assert credit.grade_of(100.0, (CreditListKind.SERIOUS_DISHONESTY,)) == "D"
    assert credit.grade_of(50.0, (CreditListKind.KEY_SUPERVISION,)) == "D"


async def test_standing_is_computed_from_stored_records_with_decay(database):
    entity = await make_entity()
    await add(entity, "administrative_penalty", "fine", days_ago=365)
    await add(entity, "inspection_result", "rectify", days_ago=0)
    await add(entity, "commendation", "commendation", days_ago=0)
    standing = await credit.standing(entity.id, now=NOW)
    assert standing.score == 95.0  # 100 - 10*0.5 - 5 + 5
    assert standing.grade == "A" and standing.lists == ()
    a_year_on = await credit.standing(entity.id, now=NOW + timedelta(days=365))
    assert a_year_on.score == pytest.approx(100 - 2.5 - 2.5 + 2.5, abs=0.1)


async def test_a_revoked_licence_puts_the_entity_on_the_serious_list_for_three_years(database):
    entity = await make_entity()
    record = await add(entity, "administrative_penalty", "licence_revoked")
    entry = await CreditListEntry.get(entity_id=entity.id)
    assert entry.list_kind == CreditListKind.SERIOUS_DISHONESTY
    assert entry.basis == "licence_revoked" and entry.source_record_id == record.id
    assert entry.expires_at == NOW + timedelta(days=3 * 365)
    assert (await credit.standing(entity.id, now=NOW)).grade == "D"


async def test_a_large_fine_means_the_key_list_and_a_second_one_the_serious_list(database):
    entity = await make_entity()
    await add(entity, "administrative_penalty", "large_fine")
    standing = await credit.standing(entity.id, now=NOW)
    assert standing.lists == (CreditListKind.KEY_SUPERVISION,) and standing.grade == "C"
    # Still on the key list: a second large fine does not enter it twice.
    await add(entity, "administrative_penalty", "large_fine", days_ago=0)
    assert await CreditListEntry.filter(entity_id=entity.id).count() == 1
    # Repaired after four months, then fined again within the year: serious list.
    entry = await CreditListEntry.get(entity_id=entity.id)
    later = NOW + timedelta(days=120)
    await credit.remove_entry(
        entry_id=entry.id, reason="整改到位，信用修复", removed_by_id=None, now=later
    )
    await add(entity, "administrative_penalty", "suspension", now=later)
    kinds = await CreditListEntry.filter(entity_id=entity.id).values_list("list_kind", flat=True)
    assert sorted(kinds) == ["key_supervision", "key_supervision", "serious_dishonesty"]


async def test_three_upheld_complaints_in_a_year_mean_the_key_list(database):
    entity = await make_entity()
    for n, days_ago in enumerate((300, 100)):
        await add(entity, "complaint_upheld", "complaint_upheld", days_ago=days_ago, source=f"c{n}")
    assert not await CreditListEntry.filter(entity_id=entity.id).exists()
    await add(entity, "complaint_upheld", "complaint_upheld", source="c3")
    entry = await CreditListEntry.get(entity_id=entity.id)
    assert (entry.list_kind, entry.basis) == ("key_supervision", "repeated_complaints")


async def test_a_record_from_the_same_source_counts_once(database):
    entity = await make_entity()
    first = await add(entity, "complaint_upheld", "complaint_upheld", source="complaint:1")
    again = await add(entity, "complaint_upheld", "complaint_upheld", source="complaint:1")
    assert first.id == again.id
    assert (await credit.standing(entity.id, now=NOW)).score == 95.0


async def test_expiry_and_early_removal_are_recorded_with_reasons_and_dates(database):
    entity = await make_entity()
    await add(entity, "administrative_penalty", "large_fine")
    entry = await CreditListEntry.get(entity_id=entity.id)
    with pytest.raises(refusals.ListRemovalTooEarly):
        await credit.remove_entry(
            entry_id=entry.id, reason="申请修复", removed_by_id=None, now=NOW + timedelta(days=30)
        )
    after_term = NOW + timedelta(days=366)
    active = await credit.list_entries(list_kind=None, active_only=True, now=after_term)
    assert active == []
    history = await credit.list_entries(
        list_kind=CreditListKind.KEY_SUPERVISION, active_only=False, now=after_term
    )
    assert [(e.removal_reason, e.removed_at) for e in history] == [("expired", after_term)]
    with pytest.raises(refusals.ListEntryNotFound):
        await credit.remove_entry(
            entry_id=entry.id, reason="再移出", removed_by_id=None, now=after_term
        )


async def test_a_category_must_belong_to_its_kind(database):
    entity = await make_entity()
    with pytest.raises(refusals.CreditRecordInvalid) as refused:
        await add(entity, "commendation", "licence_revoked")
    assert refused.value.extra()["field"] == "category"
    with pytest.raises(refusals.EntityNotFound):
        await credit.add_record(
            entity_id=999999, kind=CreditRecordKind.COMMENDATION, category="commendation",
            reason="x", occurred_on=date(2026, 1, 1), now=NOW,
        )  # fmt: skip
