"""Binding a card in the mini-program: each issuer answer, bad input, encryption, audit, unbind."""

from __future__ import annotations

import logging

import pytest
from stubs.card_issuer import EXPIRED, LOST, SECOND, UNKNOWN_NUMBER, VALID

from server.card.models import BoundCard, CardAccess, CardStatus

CARDS = "/api/v1/card/cards"


def refused(answer, status: int, code: str) -> dict:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    return error


async def test_a_valid_card_is_bound_and_shown_masked(holder):
    answer = await holder.bind(VALID)

    assert answer.status_code == 201, answer.text
    card = answer.json()
    assert card["card_number"] == "A3***0201"
    assert card["holder"] == "王**"
    assert card["id_number"] == "3303**********2184"
    assert (card["region"], card["status"]) == ("330302", "active")
    assert card["valid_until"] == "2035-12-31"
    listed = await holder.call("GET", CARDS)
    assert [c["id"] for c in listed.json()] == [card["id"]]


async def test_card_data_is_encrypted_at_rest_and_found_by_hash(server, holder):
    await holder.bind(VALID)
    row = await BoundCard.get(visitor_id=holder.visitor_id)
    cipher = server.app.ctx.cipher
    stored = " ".join(
        [row.card_number_encrypted, row.holder_name_encrypted, row.id_number_encrypted]
    )
    assert VALID.card_number not in stored and VALID.id_number not in stored
    assert cipher.decrypt(row.card_number_encrypted) == VALID.card_number
    assert cipher.decrypt(row.id_number_encrypted) == VALID.id_number
    assert row.card_number_hash == cipher.lookup_hash(VALID.card_number)


async def test_a_reader_style_number_with_spaces_and_lower_case_binds(holder):
    answer = await holder.bind(VALID, card_number=" a330 302-01 ")
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("card", "changes", "status", "code"),
    [
        (VALID, {"card_number": UNKNOWN_NUMBER}, 422, "card_unknown"),
        (VALID, {"region": "310101"}, 422, "card_unknown"),
        (VALID, {"name": "王大明"}, 422, "card_holder_mismatch"),
        (VALID, {"id_number": SECOND.id_number}, 422, "card_holder_mismatch"),
        (LOST, {}, 409, "card_lost"),
        (EXPIRED, {}, 409, "card_expired"),
    ],
)
async def test_each_issuer_refusal_has_its_own_answer(holder, card, changes, status, code):
    refused(await holder.bind(card, **changes), status, code)
    assert not await BoundCard.exists(visitor_id=holder.visitor_id)


async def test_every_binding_attempt_is_audited_without_the_number(holder):
    await holder.bind(LOST)
    await holder.bind(VALID)
    trail = await CardAccess.filter(actor_id=holder.visitor_id).order_by("id")
    assert [(a.action, a.outcome, a.actor_role) for a in trail] == [
        ("bind", "issuer_lost", "visitor"),
        ("bind", "bound", "visitor"),
    ]
    assert trail[1].card_number_masked == "A3***0201"
    assert all(VALID.card_number not in (a.card_number_masked + a.outcome) for a in trail)


async def test_a_card_bound_by_someone_is_not_bound_again(holder, make_holder):
    await holder.bound(VALID)
    other = await make_holder()
    refused(await other.bind(VALID), 409, "card_already_bound")
    refused(await holder.bind(VALID), 409, "card_already_bound")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("A3303020", "length"),
        ("A330302011", "length"),
        ("A3303020!", "characters"),
        ("A33030２0一", "characters"),
        (VALID.id_number, "id_number_given"),
        ("", "length"),
    ],
)
async def test_bad_card_numbers_get_a_clear_422(holder, card_issuer, number, reason):
    answer = await holder.bind(VALID, card_number=number)
    if number == "":
        refused(answer, 422, "validation_error")  # empty: the schema's length rule
        return
    error = refused(answer, 422, "invalid_card_number")
    assert (error["reason"], error["field"]) == (reason, "card_number")
    assert "9 letters and digits" in error["message"]
    assert number not in error["message"] or not number
    assert card_issuer.requests == []  # refused before asking the issuer


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"region": "110101"}, "validation_error", "region"),  # Beijing: not in the Delta
        ({"region": "33030"}, "validation_error", "region"),
        ({"id_number": "330302198503122185"}, "invalid_id_number", None),
    ],
)
async def test_bad_region_or_id_number_is_a_422(holder, changes, code, field):
    error = refused(await holder.bind(VALID, **changes), 422, code)
    if field:
        assert error["field"] == field


async def test_missing_or_extra_fields_are_422(holder):
    answer = await holder.call("POST", CARDS, json={"card_number": VALID.card_number})
    refused(answer, 422, "validation_error")
    answer = await holder.call("POST", CARDS, json={**_binding(), "pin": "1234"})
    refused(answer, 422, "validation_error")


def _binding() -> dict:
    from stubs.card_issuer import as_binding

    return as_binding(VALID)


@pytest.mark.parametrize("failure", ["http_500", "busy", "timeout"])
async def test_an_issuer_that_fails_or_is_slow_is_a_clear_503(holder, card_issuer, failure):
    if failure == "http_500":
        card_issuer.http_status = 500
    elif failure == "busy":
        card_issuer.busy = True
    else:
        card_issuer.delay_seconds = 1.5  # beyond the app's 1 s timeout
    error = refused(await holder.bind(VALID), 503, "card_issuer_unavailable")
    assert "issuer" in error["message"]
    assert not await BoundCard.exists(visitor_id=holder.visitor_id)


async def test_binding_needs_a_visitor_token(client):
    answer = await client.post(CARDS, json=_binding())
    refused(answer, 401, "auth_required")


async def test_card_and_id_numbers_never_reach_the_logs(holder, caplog):
    caplog.set_level(logging.DEBUG)
    await holder.bind(VALID)
    await holder.bind(LOST)
    await holder.bind(VALID, card_number="A3303020!")
    text = caplog.text
    assert VALID.card_number not in text and VALID.id_number not in text
    assert LOST.card_number not in text


async def test_unbinding_removes_the_card_and_is_audited(holder, make_holder):
    card = await holder.bound(VALID)
    other = await make_holder()
    refused(await other.call("DELETE", f"{CARDS}/{card.id}"), 404, "card_not_found")
    answer = await holder.call("DELETE", f"{CARDS}/{card.id}")
    assert answer.status_code == 204, answer.text
    assert not await BoundCard.exists(id=card.id)
    assert await CardAccess.filter(action="unbind", outcome="unbound").count() == 1
    # Free again: the same card can be bound by someone else now.
    assert (await other.bind(VALID)).status_code == 201


async def test_a_card_with_books_out_is_not_unbound(holder):
    card = await holder.bound(VALID)
    await BoundCard.filter(id=card.id).update(loans_open=1)
    refused(await holder.call("DELETE", f"{CARDS}/{card.id}"), 409, "card_has_loans")
    assert (await BoundCard.get(id=card.id)).status == CardStatus.ACTIVE


async def test_a_card_the_issuer_calls_valid_but_past_its_date_is_expired(world, monkeypatch):
    from datetime import date

    from server.card import errors
    from server.card.issuer import CardVerdict, IssuerAnswer

    async def lagging(**_: str) -> CardVerdict:  # a register that has not caught up
        return CardVerdict(IssuerAnswer.VALID, date(2025, 1, 31))

    monkeypatch.setattr(world.issuer, "verify", lagging)
    with pytest.raises(errors.CardExpired):
        await world.bind(VALID)
    assert await CardAccess.filter(outcome="issuer_expired").count() == 1
