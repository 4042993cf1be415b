"""Loading the demo supervision data (`etour seed-demo`): idempotent, run it as often as needed."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.personal_data import FieldCipher, FieldDecryptionError
from server.supervision import credit, inspections, service
from server.supervision.demo_data import (
    DEMO_CONFLICTS,
    DEMO_CREDIT_FACTS,
    DEMO_ENTITIES,
    DEMO_INSPECTORS,
)
from server.supervision.models import (
    CreditRecord,
    CreditRecordKind,
    EntityKind,
    Inspector,
    MarketEntity,
)
from server.venues import service as venues
from server.venues.errors import VenueNotFound

_PLAIN_FIELDS = ("name", "address", "county", "contact_name", "a_level", "venue_id")


async def _venue_id(code: str | None) -> int | None:
    if not code:
        return None
    try:
        return (await venues.get_venue_by_code(code)).id
    except VenueNotFound:
        return None  # the catalogue is not loaded: the entity stands alone


def _same_phone(entity: MarketEntity, phone: str, cipher: FieldCipher) -> bool:
    if entity.contact_phone_encrypted:
        try:
            return cipher.decrypt(entity.contact_phone_encrypted) == phone
        except FieldDecryptionError:
            return False
    return entity.contact_phone == phone


async def _upsert_entity(entry: dict, cipher: FieldCipher) -> bool:
    values = {
        "name": entry["name"],
        "address": entry.get("address", ""),
        "county": entry.get("county", ""),
        "contact_name": entry.get("contact_name", ""),
        "a_level": entry.get("a_level"),
        "venue_id": await _venue_id(entry.get("venue_code")),
    }
    entity = await MarketEntity.get_or_none(licence_number=entry["licence_number"])
    if entity is None:
        await service.create_entity(
            kind=EntityKind(entry["kind"]),
            licence_number=entry["licence_number"],
            contact_phone=entry.get("contact_phone", ""),
            cipher=cipher,
            **values,
        )
        return True
    changed = [name for name in _PLAIN_FIELDS if getattr(entity, name) != values[name]]
    if changed:
        entity.update_from_dict({name: values[name] for name in changed})
        await entity.save(update_fields=[*changed, "updated_at"])
    phone = entry.get("contact_phone", "")
    if not _same_phone(entity, phone, cipher):
        await service.change_contact_phone(entity=entity, phone=phone, cipher=cipher)
        return True
    return bool(changed)


async def load_demo_supervision(*, cipher: FieldCipher, now: datetime) -> dict[str, int]:
    """Entities, inspectors, declared conflicts and a few credit facts; what changed, counted."""
    entities_changed = sum([await _upsert_entity(entry, cipher) for entry in DEMO_ENTITIES])
    inspectors_added = 0
    for entry in DEMO_INSPECTORS:
        _, created = await Inspector.get_or_create(
            badge_number=entry["badge_number"], defaults={"name": entry["name"]}
        )
        inspectors_added += created
    for badge, licence, reason in DEMO_CONFLICTS:
        inspector = await Inspector.get(badge_number=badge)
        entity = await MarketEntity.get(licence_number=licence)
        await inspections.declare_conflict(
            inspector_id=inspector.id, entity_id=entity.id, reason=reason, now=now
        )
    records_added = 0
    for number, (licence, kind, category, reason, days_ago) in enumerate(DEMO_CREDIT_FACTS, 1):
        source = f"demo:{number}"
        if await CreditRecord.filter(source=source).exists():
            continue
        entity = await MarketEntity.get(licence_number=licence)
        await credit.add_record(
            entity_id=entity.id,
            kind=CreditRecordKind(kind),
            category=category,
            reason=reason,
            occurred_on=(now - timedelta(days=days_ago)).date(),
            source=source,
            now=now,
        )
        records_added += 1
    return {
        "entities_changed": entities_changed,
        "inspectors_added": inspectors_added,
        "credit_records_added": records_added,
    }
