"""The supervision desk of supervisors and admins: complaints, entities, credit, inspections, risks.

Every write is recorded in the audit log. The published inspection results are public.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext.extensions.openapi import openapi

from server.accounts.models import Role
from server.admin import audit
from server.auth import requires
from server.clock import local_now
from server.http import body, parse_body, parse_query, query
from server.supervision import credit, inspections, risk, service
from server.supervision.errors import RiskFeedNotConfigured
from server.supervision.schemas import (
    AnswerIn,
    AssignIn,
    ComplaintFiledOut,
    ComplaintOut,
    ComplaintsQuery,
    ConflictIn,
    CreditRecordIn,
    CreditRecordOut,
    DrawIn,
    EntitiesQuery,
    EntityIn,
    EntityOut,
    Feed,
    FiguresQuery,
    InspectorIn,
    InspectorOut,
    ListEntryOut,
    ListQuery,
    PageQuery,
    PlanOut,
    PublicResultOut,
    RemovalIn,
    ResultIn,
    StaffComplaintIn,
    WarningsQuery,
    complaint_out,
    credit_record_out,
    entity_out,
    inspector_out,
    list_entry_out,
    plan_out,
    risk_warning_out,
    task_out,
)

bp = Blueprint("supervision", url_prefix="/api/v1/supervision")
public_bp = Blueprint("supervision_public", url_prefix="/api/v1/public")
SUPERVISION_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def _answer(model: BaseModel, status: int = 200) -> HTTPResponse:
    return json(model.model_dump(mode="json"), status=status)


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": model.model_json_schema()}


def _page_schema(model: type[BaseModel]) -> dict[str, Any]:
    items = {"type": "array", "items": model.model_json_schema()}
    return {"application/json": {"type": "object", "properties": {"total": {}, "items": items}}}


# --- complaints ----------------------------------------------------------------------------


@bp.post("/complaints")
@openapi.summary("File a complaint taken by staff in person or on the phone")
@openapi.response(201, _schema(ComplaintFiledOut))
@body(StaffComplaintIn)
@requires(*SUPERVISION_ROLES)
async def file_staff_complaint(request: Request) -> HTTPResponse:
    complaint_in = parse_body(request, StaffComplaintIn)
    complaint = await service.file_complaint(
        text=complaint_in.text,
        channel=complaint_in.channel,
        venue_id=complaint_in.venue_id,
        entity_id=complaint_in.entity_id,
        occurred_at=complaint_in.occurred_at,
        category=complaint_in.category,
        contact_phone=complaint_in.contact_phone,
        cipher=request.app.ctx.cipher,
        now=local_now(),
    )
    after = complaint_out(complaint, local_now()).model_dump(mode="json")
    await audit.record(
        request.ctx.principal, "complaint.file", f"complaint:{complaint.id}", None, after
    )
    filed = ComplaintFiledOut(
        id=complaint.id, reference=complaint.reference, status=complaint.status
    )
    return _answer(filed, 201)


@bp.get("/complaints")
@openapi.summary("Complaints by status, overdue flag, venue, entity, handler and filing day")
@openapi.response(200, _page_schema(ComplaintOut))
@query(ComplaintsQuery)
@requires(*SUPERVISION_ROLES)
async def list_complaints(request: Request) -> HTTPResponse:
    wanted = parse_query(request, ComplaintsQuery)
    now = local_now()
    total, rows = await service.list_complaints(now=now, **wanted.model_dump())
    items = [complaint_out(row, now).model_dump(mode="json") for row in rows]
    return json({"total": total, "items": items})


@bp.get("/complaints/figures")
@openapi.summary("Complaint figures of a period: by status, overdue now, by day")
@query(FiguresQuery)
@requires(*SUPERVISION_ROLES)
async def complaint_figures(request: Request) -> HTTPResponse:
    wanted = parse_query(request, FiguresQuery)
    return json(await service.complaint_figures(wanted.start, wanted.end, now=local_now()))


@bp.get("/complaints/<complaint_id:int>")
@openapi.summary("One complaint")
@openapi.response(200, _schema(ComplaintOut))
@requires(*SUPERVISION_ROLES)
async def get_complaint(request: Request, complaint_id: int) -> HTTPResponse:
    complaint = await service.get_complaint(complaint_id=complaint_id)
    return _answer(complaint_out(complaint, local_now()))


async def _audited_step(
    request: Request, complaint_id: int, action: str, step: Any
) -> HTTPResponse:
    """Run a complaint step and record it with the state before and after."""
    now = local_now()
    before = complaint_out(await service.get_complaint(complaint_id=complaint_id), now)
    complaint = await step(now)
    return await audit.answer_recorded(
        request, action, f"complaint:{complaint_id}", complaint_out(complaint, now), before=before
    )


@bp.post("/complaints/<complaint_id:int>/assign")
@openapi.summary("Accept a complaint by assigning it to a supervisor or admin")
@openapi.response(200, _schema(ComplaintOut))
@body(AssignIn)
@requires(*SUPERVISION_ROLES)
async def assign_complaint(request: Request, complaint_id: int) -> HTTPResponse:
    assignment = parse_body(request, AssignIn)
    return await _audited_step(
        request,
        complaint_id,
        "complaint.assign",
        lambda now: service.assign_complaint(
            complaint_id=complaint_id, assignee_id=assignment.assignee_id, now=now
        ),
    )


@bp.post("/complaints/<complaint_id:int>/answer")
@openapi.summary("Answer a complaint; an upheld one counts against the entity's credit")
@openapi.response(200, _schema(ComplaintOut))
@body(AnswerIn)
@requires(*SUPERVISION_ROLES)
async def answer_complaint(request: Request, complaint_id: int) -> HTTPResponse:
    answer = parse_body(request, AnswerIn)
    return await _audited_step(
        request,
        complaint_id,
        "complaint.answer",
        lambda now: service.answer_complaint(
            complaint_id=complaint_id,
            answer=answer.answer,
            upheld=answer.upheld,
            handler_id=request.ctx.principal.user_id,
            now=now,
        ),
    )


@bp.post("/complaints/<complaint_id:int>/close")
@openapi.summary("Close an answered complaint")
@openapi.response(200, _schema(ComplaintOut))
@requires(*SUPERVISION_ROLES)
async def close_complaint(request: Request, complaint_id: int) -> HTTPResponse:
    return await _audited_step(
        request,
        complaint_id,
        "complaint.close",
        lambda now: service.close_complaint(complaint_id=complaint_id, now=now),
    )


# --- market entities and credit ------------------------------------------------------------


@bp.get("/entities")
@openapi.summary("Market entities with their credit score, grade and lists")
@openapi.response(200, _page_schema(EntityOut))
@query(EntitiesQuery)
@requires(*SUPERVISION_ROLES)
async def list_entities(request: Request) -> HTTPResponse:
    wanted = parse_query(request, EntitiesQuery)
    total, rows = await service.list_entities(now=local_now(), **wanted.model_dump())
    items = [entity_out(entity, standing).model_dump(mode="json") for entity, standing in rows]
    return json({"total": total, "items": items})


@bp.post("/entities")
@openapi.summary("Register a market entity (a tour guide's phone is kept encrypted)")
@openapi.response(201, _schema(EntityOut))
@body(EntityIn)
@requires(*SUPERVISION_ROLES)
async def create_entity(request: Request) -> HTTPResponse:
    entity_in = parse_body(request, EntityIn)
    entity = await service.create_entity(cipher=request.app.ctx.cipher, **entity_in.model_dump())
    shaped = entity_out(entity, await credit.standing(entity.id, now=local_now()))
    return await audit.answer_recorded(
        request, "entity.create", f"entity:{entity.id}", shaped, status=201
    )


@bp.get("/entities/<entity_id:int>")
@openapi.summary("One market entity with its credit standing")
@openapi.response(200, _schema(EntityOut))
@requires(*SUPERVISION_ROLES)
async def get_entity(request: Request, entity_id: int) -> HTTPResponse:
    entity = await service.get_entity(entity_id=entity_id)
    return _answer(entity_out(entity, await credit.standing(entity.id, now=local_now())))


@bp.get("/entities/<entity_id:int>/credit-records")
@openapi.summary("An entity's credit file, newest first")
@requires(*SUPERVISION_ROLES)
async def list_credit_records(request: Request, entity_id: int) -> HTTPResponse:
    await service.get_entity(entity_id=entity_id)
    records = await credit.records_of(entity_id=entity_id)
    return json([credit_record_out(r).model_dump(mode="json") for r in records])


@bp.post("/entities/<entity_id:int>/credit-records")
@openapi.summary("Add a penalty, inspection result or commendation to an entity's credit file")
@openapi.response(201, _schema(CreditRecordOut))
@body(CreditRecordIn)
@requires(*SUPERVISION_ROLES)
async def add_credit_record(request: Request, entity_id: int) -> HTTPResponse:
    record_in = parse_body(request, CreditRecordIn)
    now = local_now()
    before = await credit.standing(entity_id, now=now)
    record = await credit.add_record(
        entity_id=entity_id,
        recorded_by_id=request.ctx.principal.user_id,
        now=now,
        **record_in.model_dump(),
    )
    after = await credit.standing(entity_id, now=now)
    await audit.record(
        request.ctx.principal,
        "credit.record",
        f"entity:{entity_id}",
        {"credit": before.__dict__},
        {"credit": after.__dict__, "record": credit_record_out(record).model_dump(mode="json")},
    )
    return _answer(credit_record_out(record), 201)


@bp.get("/credit-lists")
@openapi.summary("The key supervision list and the serious dishonesty list, with their history")
@query(ListQuery)
@requires(*SUPERVISION_ROLES)
async def list_credit_lists(request: Request) -> HTTPResponse:
    wanted = parse_query(request, ListQuery)
    entries = await credit.list_entries(
        list_kind=wanted.list_kind, active_only=wanted.active, now=local_now()
    )
    return json([list_entry_out(entry).model_dump(mode="json") for entry in entries])


@bp.post("/credit-lists/<entry_id:int>/remove")
@openapi.summary("Take an entity off a list early by credit repair (after the minimum period)")
@openapi.response(200, _schema(ListEntryOut))
@body(RemovalIn)
@requires(*SUPERVISION_ROLES)
async def remove_from_list(request: Request, entry_id: int) -> HTTPResponse:
    removal = parse_body(request, RemovalIn)
    entry = await credit.remove_entry(
        entry_id=entry_id,
        reason=removal.reason,
        removed_by_id=request.ctx.principal.user_id,
        now=local_now(),
    )
    return await audit.answer_recorded(
        request,
        "credit_list.remove",
        f"credit_list_entry:{entry_id}",
        list_entry_out(entry),
        before={"removed_at": None},
    )


# --- 双随机、一公开 inspections --------------------------------------------------------------


@bp.get("/inspectors")
@openapi.summary("The inspector pool with each inspector's declared conflicts")
@requires(*SUPERVISION_ROLES)
async def list_inspectors(request: Request) -> HTTPResponse:
    pool = await inspections.list_inspectors()
    return json([inspector_out(inspector).model_dump(mode="json") for inspector in pool])


@bp.post("/inspectors")
@openapi.summary("Add an officer to the inspector pool")
@openapi.response(201, _schema(InspectorOut))
@body(InspectorIn)
@requires(*SUPERVISION_ROLES)
async def create_inspector(request: Request) -> HTTPResponse:
    inspector_in = parse_body(request, InspectorIn)
    inspector = await inspections.create_inspector(**inspector_in.model_dump())
    await inspector.fetch_related("conflicts")
    shaped = inspector_out(inspector)
    return await audit.answer_recorded(
        request, "inspector.create", f"inspector:{inspector.id}", shaped, status=201
    )


@bp.post("/inspectors/<inspector_id:int>/conflicts")
@openapi.summary("Declare that an inspector has a conflict of interest with an entity")
@body(ConflictIn)
@requires(*SUPERVISION_ROLES)
async def declare_conflict(request: Request, inspector_id: int) -> HTTPResponse:
    conflict_in = parse_body(request, ConflictIn)
    conflict = await inspections.declare_conflict(
        inspector_id=inspector_id, now=local_now(), **conflict_in.model_dump()
    )
    after = {"entity_id": conflict.entity_id, "reason": conflict.reason}
    await audit.record(
        request.ctx.principal, "inspector.conflict", f"inspector:{inspector_id}", None, after
    )
    return json({"inspector_id": inspector_id, **after}, status=201)


@bp.post("/inspection-plans")
@openapi.summary("Draw entities (rate by credit grade) and inspector pairs; the seed is kept")
@openapi.response(201, _schema(PlanOut))
@body(DrawIn)
@requires(*SUPERVISION_ROLES)
async def draw_plan(request: Request) -> HTTPResponse:
    draw_in = parse_body(request, DrawIn)
    plan = await inspections.draw(
        now=local_now(), drawn_by_id=request.ctx.principal.user_id, **draw_in.model_dump()
    )
    shaped = plan_out(plan, await inspections.plan_tasks(plan_id=plan.id))
    await audit.record(
        request.ctx.principal, "inspection.draw", f"inspection_plan:{plan.id}", None,
        {"seed": plan.seed, "rates": plan.rates, "snapshot": plan.snapshot,
         "tasks": [[t.entity_id, *(i.id for i in t.inspectors)] for t in shaped.tasks]},
    )  # fmt: skip
    return _answer(shaped, 201)


@bp.get("/inspection-plans")
@openapi.summary("The inspection plans drawn so far, newest first")
@requires(*SUPERVISION_ROLES)
async def list_plans(request: Request) -> HTTPResponse:
    plans = await inspections.list_plans()
    return json(
        [
            {"id": p.id, "name": p.name, "seed": p.seed, "drawn_at": p.drawn_at.isoformat()}
            for p in plans
        ]
    )


@bp.get("/inspection-plans/<plan_id:int>")
@openapi.summary("One plan with its drawn entities, inspectors and results")
@openapi.response(200, _schema(PlanOut))
@requires(*SUPERVISION_ROLES)
async def get_plan(request: Request, plan_id: int) -> HTTPResponse:
    plan = await inspections.get_plan(plan_id=plan_id)
    return _answer(plan_out(plan, await inspections.plan_tasks(plan_id=plan_id)))


@bp.get("/inspection-plans/<plan_id:int>/verify")
@openapi.summary("Redo the draw from the stored seed and snapshot and compare")
@requires(*SUPERVISION_ROLES)
async def verify_plan(request: Request, plan_id: int) -> HTTPResponse:
    return json(
        {"plan_id": plan_id, "reproducible": await inspections.verify_plan(plan_id=plan_id)}
    )


@bp.post("/inspection-tasks/<task_id:int>/result")
@openapi.summary("Record an inspection's result (once); it feeds the entity's credit")
@body(ResultIn)
@requires(*SUPERVISION_ROLES)
async def record_result(request: Request, task_id: int) -> HTTPResponse:
    result_in = parse_body(request, ResultIn)
    task = await inspections.record_result(
        task_id=task_id,
        recorded_by_id=request.ctx.principal.user_id,
        now=local_now(),
        **result_in.model_dump(),
    )
    return await audit.answer_recorded(
        request, "inspection.result", f"inspection_task:{task_id}", task_out(task)
    )


@public_bp.get("/inspections")
@openapi.summary("Published inspection results (双随机、一公开): no personal data")
@openapi.response(200, _page_schema(PublicResultOut))
@query(PageQuery)
async def published_inspections(request: Request) -> HTTPResponse:
    page = parse_query(request, PageQuery)
    total, tasks = await inspections.published_results(limit=page.limit, offset=page.offset)
    items = [
        PublicResultOut(
            plan=task.plan.name,
            drawn_at=task.plan.drawn_at,
            entity_kind=task.entity.kind,
            entity_name=inspections.public_name(task.entity),
            licence_number=inspections.public_licence(task.entity),
            county=task.entity.county,
            result=task.result,
            inspected_on=task.inspected_on,
        ).model_dump(mode="json")
        for task in tasks
    ]
    return json({"total": total, "items": items})


# --- risk warnings -------------------------------------------------------------------------


@bp.post("/risk-warnings/import")
@openapi.summary("Import the risk feed: the posted document, or the configured feed when empty")
@requires(*SUPERVISION_ROLES)
async def import_risk_feed(request: Request) -> HTTPResponse:
    settings = request.app.ctx.settings
    if request.body:
        payload = parse_body(request, Feed)
    elif settings.risk_feed_url:
        payload = await risk.fetch_feed(
            settings.risk_feed_url, timeout_seconds=risk.FETCH_TIMEOUT_SECONDS
        )
    else:
        raise RiskFeedNotConfigured()
    summary = await risk.import_feed(payload, now=local_now(), redis=request.app.ctx.redis)
    await audit.record(
        request.ctx.principal, "risk.import", f"risk_feed:{payload.source}", None,
        {key: value for key, value in summary.items() if key != "warnings"},
    )  # fmt: skip
    return json(summary)


@bp.get("/risk-warnings")
@openapi.summary("Risk warnings with the venues they reach (current ones unless include_ended)")
@query(WarningsQuery)
@requires(*SUPERVISION_ROLES)
async def list_risk_warnings(request: Request) -> HTTPResponse:
    wanted = parse_query(request, WarningsQuery)
    warnings = await risk.list_warnings(now=local_now(), include_ended=wanted.include_ended)
    return json([risk_warning_out(w).model_dump(mode="json") for w in warnings])
