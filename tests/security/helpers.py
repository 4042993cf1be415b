"""What the security tests share: a booked visitor, and the operations of the live document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from factories import make_reservable_venue, make_slot, make_visitor_token, people

from server.venues.models import Venue

STAFF_PATHS = re.compile(r"^/api/v1/(admin|gate|supervision)/")
# Staff endpoints anyone may call: signing in, and the public key gates verify codes with.
PUBLIC_STAFF_OPERATIONS = {("post", "/api/v1/admin/login"), ("get", "/api/v1/gate/keys")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


@dataclass(frozen=True)
class BookedVisitor:
    """A visitor with a token and a confirmed reservation of two people (IDs in plain text)."""

    token: str
    venue: Venue
    reservation: dict[str, Any]
    party: list[dict]

    @property
    def ticket_ids(self) -> list[int]:
        return [ticket["id"] for ticket in self.reservation["tickets"]]


async def booked_visitor(server: Any, venue: Venue | None = None) -> BookedVisitor:
    """A new visitor who booked two named people into a new slot, over HTTP."""
    venue = venue or await make_reservable_venue()
    slot = await make_slot(venue, capacity=10)
    _, token = await make_visitor_token(server.app)
    party = people(2, first_sequence=slot.id * 10 % 900)
    answer = await server.client.post(
        "/api/v1/reservations",
        json={"slot_id": slot.id, "visitors": party},
        headers=bearer(token),
    )
    assert answer.status_code == 201, answer.text
    return BookedVisitor(token, venue, answer.json(), party)


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document."""

    method: str
    path: str
    spec: dict[str, Any]

    @property
    def secured(self) -> bool:
        return bool(self.spec.get("security"))

    @property
    def for_staff(self) -> bool:
        return bool(STAFF_PATHS.match(self.path))

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    def url(self, value: int = 1) -> str:
        """The path with every integer parameter set to `value`, the others to a valid example."""
        declared = {
            parameter["name"]: parameter.get("schema", {})
            for parameter in self.spec.get("parameters", [])
            if parameter.get("in") == "path"
        }

        def example(match: re.Match) -> str:
            schema = declared.get(match.group(1), {})
            if schema.get("type") == "integer":
                return str(value)
            if schema.get("format") == "date" or match.group(1) in ("day", "date"):
                return "2030-01-01"
            return str(value)

        return re.sub(r"{(\w+)}", example, self.path)


async def operations(client: httpx.AsyncClient) -> list[Operation]:
    """Every operation the running app documents (other domains' new ones included)."""
    document = (await client.get("/openapi.json")).json()
    return [
        Operation(method, path, spec)
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
