"""Request and response shapes of ticket QR codes and the gate, and the QR images themselves."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Literal

import qrcode
import qrcode.image.svg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

import i18n
from server.clock import LOCAL_TZ
from server.signing import TokenSigner
from server.tickets import service
from server.tickets.models import ScanDirection, Ticket

MAX_OFFLINE_SCANS = 500


def _local_if_naive(value: dt.datetime) -> dt.datetime:
    # Gate devices are in Wenzhou: a time without an offset is read as local time.
    return value if value.tzinfo is not None else value.replace(tzinfo=LOCAL_TZ)


GateTime = Annotated[dt.datetime, AfterValidator(_local_if_naive)]


# --- the visitor's QR code ---------------------------------------------------------------------


class QrOut(BaseModel):
    qr: str = Field(..., description="the exact text to encode in the QR image")
    expires_at: int = Field(..., description="epoch seconds after which gates refuse this text")
    expires_in: int = Field(..., description="seconds this text stays valid")
    refresh_after: int = Field(..., description="seconds after which to fetch and redraw a new one")


def qr_out(code: service.TicketQr) -> QrOut:
    """The QR text answer: redraw after `refresh_after` seconds, before the text goes stale."""
    return QrOut(
        qr=code.text,
        expires_at=code.expires_at,
        expires_in=code.ttl_seconds,
        refresh_after=code.refresh_after_seconds,
    )


def _qr_code(text: str) -> qrcode.QRCode:
    # Level M survives a scuffed or glare-struck phone screen and keeps the code small.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code


def qr_png(text: str) -> bytes:
    """`text` as a PNG QR image."""
    buffer = io.BytesIO()
    _qr_code(text).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(text: str) -> bytes:
    """`text` as an SVG QR image (one path, scales to any screen)."""
    buffer = io.BytesIO()
    _qr_code(text).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


# --- the gate ----------------------------------------------------------------------------------


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qr: str = Field(..., min_length=1, max_length=2048, description="the text the scanner read")
    direction: ScanDirection = Field(ScanDirection.ENTRY, description="entry or exit")
    gate: str | None = Field(None, max_length=64, description="which gate scanned, e.g. north-2")


class OfflineScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qr: str = Field(..., min_length=1, max_length=2048)
    nonce: str = Field(
        ...,
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="unique per scan, made by the device (a UUID): re-uploads count once",
    )
    scanned_at: GateTime = Field(..., description="when the device scanned, ISO 8601")
    direction: ScanDirection = ScanDirection.ENTRY
    gate: str | None = Field(None, max_length=64, description="which gate scanned, e.g. north-2")

    def as_scan(self) -> service.OfflineScan:
        """The scan as the service takes it."""
        return service.OfflineScan(
            qr=self.qr,
            nonce=self.nonce,
            scanned_at=self.scanned_at,
            direction=self.direction,
            gate=self.gate,
        )


class OfflineScansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scans: list[OfflineScanIn] = Field(..., min_length=1, max_length=MAX_OFFLINE_SCANS)


class RevocationsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: GateTime | None = Field(
        None, description="ISO 8601; the next_since of the previous answer"
    )


class FareAtGateOut(BaseModel):
    discount: str | None
    rule: str | None
    note: str
    price_cents: int


class TicketAtGateOut(BaseModel):
    id: int
    holder: str
    id_number: str
    fare: FareAtGateOut
    date: dt.date
    slot: dict[str, str]


class OccupancyOut(BaseModel):
    venue_id: int
    date: dt.date
    inside: int
    capacity: int | None
    percent: int | None
    level: str | None


class ScanOut(BaseModel):
    admitted: bool
    reason: str
    message: str
    direction: ScanDirection
    scanned_at: dt.datetime
    gate: str | None = Field(None, description="the gate that scanned, as the scan said")
    ticket: TicketAtGateOut | None
    occupancy: OccupancyOut


class OfflineScanOut(ScanOut):
    nonce: str
    duplicate: bool


class OfflineScansOut(BaseModel):
    results: list[OfflineScanOut]


class RevocationsOut(BaseModel):
    revoked: list[int]
    server_time: dt.datetime
    next_since: dt.datetime


class GateKeyOut(BaseModel):
    kid: str
    alg: Literal["Ed25519"]
    public_key: str


class GateKeysOut(BaseModel):
    keys: list[GateKeyOut]
    qr_prefix: str
    purpose: str
    ttl_seconds: int


def ticket_at_gate_out(ticket: Ticket | service.TicketAtGate, language: str) -> TicketAtGateOut:
    """What the gate shows of a ticket: masked holder and ID number, the fare to check."""
    fare = ticket.fare or {}
    slot = ticket.slot
    return TicketAtGateOut(
        id=ticket.id,
        holder=ticket.holder_name_masked,
        id_number=ticket.id_number_masked,
        fare=FareAtGateOut(
            discount=fare.get("discount"),
            rule=fare.get("rule"),
            note=i18n.pick(fare.get("note"), language),
            price_cents=fare.get("price_cents", ticket.price_cents),
        ),
        date=ticket.date,
        slot={"start": slot.starts_at.strftime("%H:%M"), "end": slot.ends_at.strftime("%H:%M")},
    )


def occupancy_out(occupancy: service.Occupancy) -> OccupancyOut:
    """People inside now, against the instantaneous cap when the venue has one."""
    return OccupancyOut(
        venue_id=occupancy.venue_id,
        date=occupancy.day,
        inside=occupancy.inside,
        capacity=occupancy.capacity,
        percent=occupancy.percent,
        level=occupancy.level,
    )


def scan_out(outcome: service.ScanOutcome, language: str) -> ScanOut:
    """The gate's answer: the verdict, a message in the staff's language, who, how full."""
    return ScanOut(
        admitted=outcome.admitted,
        reason=outcome.reason,
        message=i18n.gettext(f"gate.{outcome.reason}", language),
        direction=outcome.direction,
        scanned_at=outcome.scanned_at,
        gate=outcome.gate,
        ticket=None if outcome.ticket is None else ticket_at_gate_out(outcome.ticket, language),
        occupancy=occupancy_out(outcome.occupancy),
    )


def offline_scan_out(outcome: service.ScanOutcome, language: str) -> OfflineScanOut:
    """One result of an offline upload, with its nonce and whether it was uploaded before."""
    return OfflineScanOut(
        **scan_out(outcome, language).model_dump(),
        nonce=outcome.nonce or "",
        duplicate=outcome.duplicate,
    )


def gate_keys_out(signer: TokenSigner) -> GateKeysOut:
    """The public key(s) a gate device verifies ticket QR codes with, and the QR format."""
    return GateKeysOut(
        keys=[GateKeyOut(kid=signer.key_id, alg="Ed25519", public_key=signer.public_key_b64)],
        qr_prefix=service.QR_PREFIX,
        purpose=service.QR_PURPOSE,
        ttl_seconds=service.QR_TTL_SECONDS,
    )


def revocations_out(revocations: service.Revocations) -> RevocationsOut:
    """Revoked ticket ids and the moment to ask from next time."""
    return RevocationsOut(
        revoked=revocations.ticket_ids,
        server_time=revocations.server_time,
        next_since=revocations.next_since,
    )
