"""The card over HTTP: the gate's card endpoint, the library desk, the visitor's loans, benefits."""

from __future__ import annotations

from datetime import time

from factories import make_reservable_venue, make_slot, make_ticket, make_venue
from stubs.card_issuer import SECOND, VALID

from server.card.models import Book, BookCopy, CardBenefit
from server.card.service import book_search_text
from server.clock import local_now
from server.venues.models import OpeningHours, VenueKind

GATE = "/api/v1/gate/card"


async def test_the_gate_admits_a_reservation_by_card_and_refuses_with_reasons(
    server, holder, staff_of
):
    await holder.bound(VALID)
    venue = await make_reservable_venue(entry_early_minutes=3 * 24 * 60)
    slot = await make_slot(venue, day=local_now().date(), starts=time(0), ends=time(23, 59))
    cipher = server.app.ctx.cipher
    await make_ticket(
        venue, slot=slot, id_number=VALID.id_number,
        id_number_hash=cipher.lookup_hash(VALID.id_number),
    )  # fmt: skip
    gate = await staff_of(venue)

    admitted = await gate.card_entry(card_number=VALID.card_number, gate="north-1")
    again = await gate.card_entry(card_number=VALID.card_number)
    unbound = await gate.card_entry(card_number=SECOND.card_number)
    by_qr = await gate.card_entry(qr="ESSC1.eyJjIjoxfQ.bm90LWEtc2lnbmF0dXJl")

    assert (admitted["admitted"], admitted["reason"], admitted["walk_in"]) == (
        True, "admitted", False,
    )  # fmt: skip
    assert admitted["card"] == "A3***0201" and admitted["holder"] == "王**"
    assert admitted["ticket"]["id_number"] == "3303**********2184"
    assert admitted["occupancy"]["inside"] == 1
    assert (again["reason"], again["message"]) == (
        "already_used", "Ticket already used: no second entry.",
    )  # fmt: skip
    assert (unbound["admitted"], unbound["reason"]) == (False, "card_not_bound")
    assert "bind" in unbound["message"]
    assert (by_qr["admitted"], by_qr["reason"]) == (False, "forged")
    assert VALID.card_number not in str([admitted, again])


async def test_bad_card_input_at_the_gate_is_a_clear_4xx(holder, staff_of):
    venue = await make_venue()
    gate = await staff_of(venue)
    cases = [
        ({"card_number": "A3303020"}, 422, "invalid_card_number"),
        ({"card_number": VALID.id_number}, 422, "invalid_card_number"),
        ({"card_number": VALID.card_number, "qr": "ESSC1.a.b"}, 422, "validation_error"),
        ({}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        answer = await gate.call("POST", GATE, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error"]["code"] == code
    visitor = await holder.call("POST", GATE, json={"card_number": VALID.card_number})
    assert (visitor.status_code, visitor.json()["error"]["code"]) == (403, "forbidden")


async def test_a_walk_in_venue_admits_by_card_over_http(holder, staff_of):
    await holder.bound(VALID)
    venue = await make_venue(kind=VenueKind.LIBRARY)
    await OpeningHours.bulk_create(
        [OpeningHours(venue=venue, weekday=d, opens_at=time(0), closes_at=time(23, 59, 59))
         for d in range(7)]
    )  # fmt: skip
    await CardBenefit.create(venue=venue, walk_in=True)
    gate = await staff_of(venue)
    first = await gate.card_entry(card_number=VALID.card_number)
    second = await gate.card_entry(card_number=VALID.card_number)
    assert (first["admitted"], first["walk_in"], first["ticket"]) == (True, True, None)
    assert (second["reason"], second["message"]) == (
        "walked_in_today", "This card has already walked in here today.",
    )  # fmt: skip


async def test_library_desk_and_visitor_loans_over_http(holder, staff_of):
    card = await holder.bound(VALID)
    library = await make_venue(kind=VenueKind.LIBRARY)
    title, author = {"zh-CN": "南戏", "en": "Nanxi"}, {"zh-CN": "徐宏图", "en": "Xu Hongtu"}
    book = await Book.create(
        venue=library, isbn="9787101045673", title=title, author=author,
        search_text=book_search_text(isbn="9787101045673", title=title, author=author),
    )  # fmt: skip
    for barcode in ("B-1", "B-2"):
        await BookCopy.create(book=book, venue=library, barcode=barcode)
    desk = await staff_of(library)

    books = await holder.call("GET", f"/api/v1/card/libraries/{library.id}/books?q=nanxi")
    assert (await holder.call("GET", f"/api/v1/card/libraries/{library.id}/books?q=南")).json()
    assert [(b["title"], b["copies"], b["available"]) for b in books.json()] == [("Nanxi", 2, 2)]

    lent = await desk.call("POST", "/api/v1/library/loans",
                           json={"card_number": VALID.card_number, "barcode": "B-1"})  # fmt: skip
    assert lent.status_code == 201, lent.text
    assert (lent.json()["title"], lent.json()["card"]) == ("Nanxi", "A3***0201")
    self_service = await holder.call("POST", "/api/v1/card/loans",
                                     json={"card_id": card.id, "barcode": "B-2"})  # fmt: skip
    assert self_service.status_code == 201, self_service.text
    taken = await holder.call("POST", "/api/v1/card/loans",
                              json={"card_id": card.id, "barcode": "B-2"})  # fmt: skip
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "copy_on_loan")

    renewed = await holder.call("POST", f"/api/v1/card/loans/{self_service.json()['id']}/renew")
    assert renewed.json()["renewals_left"] == 1
    mine = await holder.call("GET", "/api/v1/card/loans")
    assert sorted(loan["barcode"] for loan in mine.json()) == ["B-1", "B-2"]
    back = await desk.call("POST", "/api/v1/library/returns", json={"barcode": "B-1"})
    assert back.status_code == 200 and back.json()["returned_at"]
    returned = await holder.call("POST", f"/api/v1/card/loans/{self_service.json()['id']}/return")
    assert returned.status_code == 200 and returned.json()["returned_at"]
    overdue = await desk.call("GET", "/api/v1/library/overdue")
    assert overdue.json() == []
    unbound = await desk.call(
        "POST", "/api/v1/library/loans", json={"card_number": SECOND.card_number, "barcode": "B-1"}
    )
    assert (unbound.status_code, unbound.json()["error"]["code"]) == (404, "card_not_bound")

    museum_desk = await staff_of(await make_venue())
    refused = await museum_desk.call("GET", "/api/v1/library/overdue")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_a_library")


async def test_benefits_are_listed_for_the_mini_program(client):
    venue = await make_reservable_venue()
    await CardBenefit.create(
        venue=venue, discount_percent=20, note={"zh-CN": "八折", "en": "20% off"}
    )
    answer = await client.get("/api/v1/card/benefits?lang=en")
    assert answer.status_code == 200
    assert answer.json() == [
        {"venue_id": venue.id, "venue_name": venue.name["en"], "walk_in": False,
         "free_entry": False, "discount_percent": 20, "priority_percent": 0, "note": "20% off"},
    ]  # fmt: skip


async def test_card_endpoints_are_in_the_openapi_document(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/gate/card", "/api/v1/card/cards", "/api/v1/card/loans",
        "/api/v1/library/loans", "/api/v1/library/returns", "/api/v1/library/overdue",
    ):  # fmt: skip
        assert path in paths, path
    assert "card_number" in str(paths["/api/v1/gate/card"])
