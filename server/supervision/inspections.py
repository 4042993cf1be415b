"""双随机、一公开: random entities, random inspector pairs, public results.

The draw is a pure function of a seed and a snapshot (entities with their credit grades,
inspectors, declared conflicts), both stored with the plan, so anyone can redo it:
- entities are grouped by grade; each group's sample size is ceil(rate x size), lower grades
  having higher rates; within a group, entities are ranked by SHA-256("<seed>|entity|<id>")
  and the lowest ranks are drawn;
- for each drawn entity, the inspectors without a declared conflict with it are ranked by
  SHA-256("<seed>|pair|<entity id>|<inspector id>") and the two lowest inspect it.
Plain SHA-256 rather than a language's random module: the draw can be checked with any tool.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.personal_data import mask_name
from server.supervision import credit
from server.supervision import errors as refusals
from server.supervision.models import (
    CreditRecordKind,
    EntityKind,
    InspectionPlan,
    InspectionResult,
    InspectionTask,
    Inspector,
    InspectorConflict,
    MarketEntity,
)
from server.supervision.service import INDIVIDUAL_KINDS

GRADES = ("A", "B", "C", "D")
# Lower credit, closer watch: a D entity is always inspected, an A one rarely.
DEFAULT_RATES = {"A": 0.05, "B": 0.15, "C": 0.4, "D": 1.0}
INSPECTORS_PER_ENTITY = 2


@dataclass(frozen=True)
class DrawnTask:
    """One entity of a draw and its two inspectors."""

    entity_id: int
    inspector_a: int
    inspector_b: int


def _rank(seed: str, *parts: object) -> str:
    return hashlib.sha256("|".join([seed, *map(str, parts)]).encode()).hexdigest()


def compute_draw(seed: str, snapshot: dict, rates: dict[str, float]) -> list[DrawnTask]:
    """The draw that `seed` gives on `snapshot` (see the module docstring for the rule)."""
    by_grade: dict[str, list[int]] = defaultdict(list)
    for entity_id, grade in snapshot["entities"]:
        by_grade[grade].append(entity_id)
    drawn: list[int] = []
    for grade in GRADES:
        group = sorted(by_grade[grade], key=lambda entity_id: _rank(seed, "entity", entity_id))
        drawn.extend(sorted(group[: math.ceil(len(group) * rates.get(grade, 0.0))]))
    conflicts = {(inspector, entity) for inspector, entity in snapshot["conflicts"]}
    tasks = []
    for entity_id in drawn:
        eligible = [i for i in snapshot["inspectors"] if (i, entity_id) not in conflicts]
        if len(eligible) < INSPECTORS_PER_ENTITY:
            raise refusals.NotEnoughInspectors(entity_id=entity_id)
        pair = sorted(eligible, key=lambda i: _rank(seed, "pair", entity_id, i))[:2]
        tasks.append(DrawnTask(entity_id, pair[0], pair[1]))
    return tasks


async def take_snapshot(*, kinds: list[EntityKind], county: str, now: datetime) -> dict[str, list]:
    """The pool as it stands now: active entities with grades, inspectors, their conflicts."""
    query = MarketEntity.filter(active=True)
    if kinds:
        query = query.filter(kind__in=kinds)
    if county:
        query = query.filter(county=county)
    entity_ids = sorted(await query.values_list("id", flat=True))
    grades = await credit.standings(entity_ids, now=now)
    inspectors = sorted(await Inspector.filter(active=True).values_list("id", flat=True))
    conflicts = await InspectorConflict.filter(
        entity_id__in=entity_ids, inspector_id__in=inspectors
    ).values_list("inspector_id", "entity_id")
    return {
        "entities": [[entity_id, grades[entity_id].grade] for entity_id in entity_ids],
        "inspectors": inspectors,
        "conflicts": sorted([list(pair) for pair in conflicts]),
    }


async def draw(
    *,
    name: str,
    now: datetime,
    seed: str | None = None,
    rates: dict[str, float] | None = None,
    kinds: list[EntityKind] | None = None,
    county: str = "",
    drawn_by_id: int | None = None,
) -> InspectionPlan:
    """Draw entities and inspector pairs from the pool now, and store the plan with its seed."""
    seed = seed or secrets.token_hex(16)
    rates = {**DEFAULT_RATES, **(rates or {})}
    kinds = list(kinds or [])
    snapshot = await take_snapshot(kinds=kinds, county=county, now=now)
    if not snapshot["entities"]:
        raise refusals.EmptyInspectionPool()
    drawn = compute_draw(seed, snapshot, rates)
    async with in_transaction():
        plan = await InspectionPlan.create(
            name=name.strip(),
            seed=seed,
            rates=rates,
            snapshot=snapshot,
            kinds=[str(kind) for kind in kinds],
            county=county,
            drawn_at=now,
            drawn_by_id=drawn_by_id,
        )
        await InspectionTask.bulk_create(
            [
                InspectionTask(
                    plan=plan,
                    entity_id=task.entity_id,
                    inspector_a_id=task.inspector_a,
                    inspector_b_id=task.inspector_b,
                )
                for task in drawn
            ]
        )
    return plan


async def get_plan(*, plan_id: int) -> InspectionPlan:
    """One plan by id."""
    plan = await InspectionPlan.get_or_none(id=plan_id)
    if plan is None:
        raise refusals.InspectionPlanNotFound(plan_id=plan_id)
    return plan


async def list_plans(*, limit: int = 200) -> list[InspectionPlan]:
    """The latest plans, newest first."""
    return await InspectionPlan.all().order_by("-drawn_at", "-id").limit(limit)


async def plan_tasks(*, plan_id: int) -> list[InspectionTask]:
    """A plan's tasks with entities and inspectors loaded, by entity id."""
    return (
        await InspectionTask.filter(plan_id=plan_id)
        .order_by("entity_id")
        .prefetch_related("entity", "inspector_a", "inspector_b")
    )


async def verify_plan(*, plan_id: int) -> bool:
    """True when redoing the draw from the stored seed and snapshot gives the stored tasks."""
    plan = await get_plan(plan_id=plan_id)
    redone = compute_draw(plan.seed, plan.snapshot, plan.rates)
    stored = await InspectionTask.filter(plan_id=plan_id).values_list(
        "entity_id", "inspector_a_id", "inspector_b_id"
    )
    return sorted(stored) == sorted((t.entity_id, t.inspector_a, t.inspector_b) for t in redone)


async def record_result(
    *,
    task_id: int,
    result: InspectionResult,
    findings: str,
    inspected_on: date,
    recorded_by_id: int | None,
    now: datetime,
) -> InspectionTask:
    """Record an inspection's result once; it goes into the entity's credit file."""
    task = await InspectionTask.get_or_none(id=task_id)
    if task is None:
        raise refusals.InspectionTaskNotFound(task_id=task_id)
    async with in_transaction():
        moved = await InspectionTask.filter(id=task_id, result__isnull=True).update(
            result=result, findings=findings.strip(), inspected_on=inspected_on, recorded_at=now
        )
        if not moved:
            raise refusals.InspectionAlreadyRecorded(task_id=task_id)
        await credit.add_record(
            entity_id=task.entity_id,
            kind=CreditRecordKind.INSPECTION_RESULT,
            category=result.value,
            reason=findings.strip() or result.value,
            occurred_on=inspected_on,
            source=f"inspection:{task_id}",
            recorded_by_id=recorded_by_id,
            now=now,
        )
    return (
        await InspectionTask.filter(id=task_id).prefetch_related(
            "entity", "inspector_a", "inspector_b"
        )
    )[0]


async def create_inspector(*, name: str, badge_number: str, staff_id: int | None) -> Inspector:
    """Add an officer to the inspector pool."""
    try:
        return await Inspector.create(
            name=name.strip(), badge_number=badge_number.strip().upper(), staff_id=staff_id
        )
    except IntegrityError:
        raise refusals.LicenceNumberTaken(field="badge_number") from None


async def declare_conflict(
    *, inspector_id: int, entity_id: int, reason: str, now: datetime
) -> InspectorConflict:
    """Record that an inspector must never inspect an entity (declaring twice changes nothing)."""
    if not await Inspector.filter(id=inspector_id).exists():
        raise refusals.InspectorNotFound(inspector_id=inspector_id)
    if not await MarketEntity.filter(id=entity_id).exists():
        raise refusals.ReferencedEntityNotFound(field="entity_id")
    conflict, _ = await InspectorConflict.get_or_create(
        inspector_id=inspector_id,
        entity_id=entity_id,
        defaults={"reason": reason.strip(), "declared_at": now},
    )
    return conflict


async def list_inspectors() -> list[Inspector]:
    """The inspector pool, with declared conflicts loaded."""
    return await Inspector.all().order_by("id").prefetch_related("conflicts")


def public_name(entity: MarketEntity) -> str:
    """An entity's name as published: a person's name masked."""
    return mask_name(entity.name) if entity.kind in INDIVIDUAL_KINDS else entity.name


def public_licence(entity: MarketEntity) -> str:
    """A licence number as published: a person's guide card number partly hidden."""
    number = entity.licence_number
    if entity.kind not in INDIVIDUAL_KINDS or len(number) <= 6:
        return number
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


async def published_results(*, limit: int, offset: int) -> tuple[int, list[InspectionTask]]:
    """Recorded inspection results, newest first, for the public page (一公开)."""
    query = InspectionTask.filter(result__isnull=False)
    total = await query.count()
    rows = (
        await query.order_by("-inspected_on", "-id")
        .offset(offset)
        .limit(limit)
        .prefetch_related("entity", "plan")
    )
    return total, rows
