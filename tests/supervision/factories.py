"""Small factories of supervision rows for tests."""

from __future__ import annotations

import itertools
from typing import Any

from conftest import TEST_SECRET
from factories import make_staff_token, make_visitor_token

from server.personal_data import FieldCipher
from server.supervision import service
from server.supervision.models import EntityKind, Inspector, MarketEntity

_serial = itertools.count(1)
CIPHER = FieldCipher(TEST_SECRET.encode())


async def make_entity(**overrides: Any) -> MarketEntity:
    """A travel agency in Lucheng with a unique licence number; keywords replace any field."""
    number = next(_serial)
    values: dict[str, Any] = {
        "kind": EntityKind.TRAVEL_AGENCY,
        "licence_number": f"L-ZJ-T{number:05d}",
        "name": f"测试旅行社{number}",
        "county": "鹿城区",
        "cipher": CIPHER,
    }
    values.update(overrides)
    return await service.create_entity(**values)


async def make_inspector(**overrides: Any) -> Inspector:
    """An active inspector with a unique badge number."""
    number = next(_serial)
    values: dict[str, Any] = {"name": f"检查员{number}", "badge_number": f"ZF-{number:05d}"}
    values.update(overrides)
    return await Inspector.create(**values)


async def staff_headers(app: Any, role: str, venue: Any = None) -> tuple[Any, dict[str, str]]:
    """A staff account of `role` and the headers carrying its token (answers in English)."""
    staff, token = await make_staff_token(app, venue, role=role)
    return staff, {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


async def visitor_headers(app: Any) -> tuple[Any, dict[str, str]]:
    """A visitor and the headers carrying their token (answers in English)."""
    visitor, token = await make_visitor_token(app)
    return visitor, {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
