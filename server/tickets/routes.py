"""The gate: scanning ticket QR codes in and out, and what gate devices need to work offline.

Gate endpoints take a venue_staff account, or the venue_manager of the venue (managers stand in
at the gate on busy days); both are bound to one venue, and scan for that venue only.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.accounts.models import Role
from server.auth import requires
from server.clock import local_now
from server.http import body, language_of, parse_body, parse_query, query
from server.tickets import service
from server.tickets.errors import NotAtAGate
from server.tickets.schemas import (
    GateKeysOut,
    OfflineScansIn,
    OfflineScansOut,
    RevocationsOut,
    RevocationsQuery,
    ScanIn,
    ScanOut,
    gate_keys_out,
    offline_scan_out,
    revocations_out,
    scan_out,
)

bp = Blueprint("gate", url_prefix="/api/v1/gate")
GATE_ROLES = (Role.VENUE_STAFF, Role.VENUE_MANAGER)


def _gate_venue(request: Request) -> int:
    venue_id = request.ctx.principal.venue_id
    if venue_id is None:
        raise NotAtAGate()
    return venue_id


@bp.post("/scan")
@openapi.summary("Scan a ticket QR at the gate: admit once, or record an exit")
@openapi.description(
    "A refusal is a normal 200 answer with admitted false and a reason code (unknown_code, "
    "forged, expired, wrong_venue, unknown_ticket, revoked, too_early, too_late, already_used, "
    "venue_full; for exits not_entered, already_exited); malformed input is a 4xx."
)
@openapi.response(200, {"application/json": ScanOut.model_json_schema()})
@body(ScanIn)
@requires(*GATE_ROLES)
async def scan(request: Request) -> HTTPResponse:
    wanted = parse_body(request, ScanIn)
    ctx = request.app.ctx
    outcome = await service.scan_ticket(
        venue_id=_gate_venue(request),
        staff_id=request.ctx.principal.user_id,
        qr=wanted.qr,
        direction=wanted.direction,
        gate=wanted.gate,
        now=local_now(),
        signer=ctx.signer,
        redis=ctx.redis,
        thresholds=ctx.settings.warning_thresholds,
    )
    # Serialised by pydantic straight to JSON: a gate scans often, and the dict in between cost.
    answer = scan_out(outcome, language_of(request)).model_dump_json()
    return HTTPResponse(answer, content_type="application/json")


@bp.get("/keys")
@openapi.summary("The public key gate devices verify ticket QR codes with, offline")
@openapi.response(200, {"application/json": GateKeysOut.model_json_schema()})
async def keys(request: Request) -> HTTPResponse:
    """The Ed25519 public key of ticket QR codes, open to anyone (it is public by nature).

    How a device verifies a QR text offline:
    1. it starts with `qr_prefix` ("ETK1."); the rest is `<payload>.<signature>`;
    2. `signature` (base64url, no padding) is an Ed25519 signature by `public_key` (base64url of
       the raw 32 bytes) over the ASCII bytes of `purpose` + "." + payload, i.e. "ticket.<payload>";
    3. `payload` (base64url, no padding) is JSON {"t": ticket id, "v": venue id, "s": slot id,
       "exp": epoch seconds}: refuse when exp <= the device's time, when v is not the device's
       venue, or when t is in the revocation list (GET /api/v1/gate/revocations);
    4. check the slot time and let the person in once, remembering t, then upload the scan with
       a fresh nonce (POST /api/v1/gate/offline-scans) as soon as the connection is back.
    """
    return json(gate_keys_out(request.app.ctx.signer).model_dump(mode="json"))


@bp.get("/revocations")
@openapi.summary("Tickets of the staff member's venue revoked since a moment")
@openapi.response(200, {"application/json": RevocationsOut.model_json_schema()})
@query(RevocationsQuery)
@requires(*GATE_ROLES)
async def revocations(request: Request) -> HTTPResponse:
    """Revoked ticket ids; pass the answer's `next_since` as `since` on the next poll."""
    wanted = parse_query(request, RevocationsQuery)
    revoked = await service.revoked_since(
        venue_id=_gate_venue(request), since=wanted.since, now=local_now()
    )
    return json(revocations_out(revoked).model_dump(mode="json"))


@bp.post("/offline-scans")
@openapi.summary("Upload scans a gate made offline (up to 500), deduplicated by nonce")
@openapi.response(200, {"application/json": OfflineScansOut.model_json_schema()})
@body(OfflineScansIn)
@requires(*GATE_ROLES)
async def offline_scans(request: Request) -> HTTPResponse:
    upload = parse_body(request, OfflineScansIn)
    ctx = request.app.ctx
    outcomes = await service.upload_offline_scans(
        venue_id=_gate_venue(request),
        staff_id=request.ctx.principal.user_id,
        scans=[scan.as_scan() for scan in upload.scans],
        now=local_now(),
        signer=ctx.signer,
        redis=ctx.redis,
        thresholds=ctx.settings.warning_thresholds,
    )
    language = language_of(request)
    answer = OfflineScansOut(results=[offline_scan_out(outcome, language) for outcome in outcomes])
    return json(answer.model_dump(mode="json"))
