"""Shared steps of the ticket-release tests."""

from __future__ import annotations

import asyncio

import httpx


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en", **headers}


async def book(
    client: httpx.AsyncClient, token: str, slot_id: int, visitors: list[dict], **extra: object
) -> httpx.Response:
    """POST a reservation; `headers` in `extra` go to the request, the rest into the body."""
    headers = extra.pop("headers", {})
    return await client.post(
        "/api/v1/reservations",
        json={"slot_id": slot_id, "visitors": visitors, **extra},
        headers=bearer(token, **headers),
    )


async def eventually(check, *, seconds: float = 10.0) -> None:
    """Wait until the async `check` holds (a loaded machine may take seconds); fail if never."""
    for _ in range(int(seconds / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {getattr(check, '__name__', check)}")
