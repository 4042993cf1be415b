"""Refusals of the supervision domain, each with its own code."""

from __future__ import annotations

from server.errors import AppError


class _FieldRefusal(AppError):
    """A refusal about one input field, named in `field`."""

    status = 422

    def extra(self) -> dict[str, object]:
        return {"field": self.params.get("field")}


class ComplaintTextInvalid(_FieldRefusal):
    """The complaint text is empty or too long."""

    code = "complaint_text_invalid"


class OccurredAtInvalid(_FieldRefusal):
    """The time of the incident is in the future or has no time zone."""

    code = "complaint_occurred_at_invalid"


class UnknownComplaintChannel(_FieldRefusal):
    code = "complaint_channel_invalid"


class ComplaintNotFound(AppError):
    code = "complaint_not_found"
    status = 404


class ComplaintStateConflict(AppError):
    """The complaint is not in a state that allows this step (e.g. answering a closed one)."""

    code = "complaint_state_conflict"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"status": self.params.get("status")}


class AssigneeInvalid(_FieldRefusal):
    """Complaints go only to active supervisors or admins."""

    code = "complaint_assignee_invalid"


class CreditRecordInvalid(_FieldRefusal):
    """The category does not belong to the kind of record, or the points are out of range."""

    code = "credit_record_invalid"


class EntityNotFound(AppError):
    code = "entity_not_found"
    status = 404


class ReferencedEntityNotFound(_FieldRefusal):
    """A venue or entity named in the request does not exist."""

    code = "referenced_not_found"


class ContactPhoneInvalid(_FieldRefusal):
    code = "contact_phone_invalid"


class InspectionAlreadyRecorded(AppError):
    code = "inspection_already_recorded"
    status = 409


class LicenceNumberTaken(_FieldRefusal):
    code = "licence_number_taken"
    status = 409


class ListEntryNotFound(AppError):
    code = "credit_list_entry_not_found"
    status = 404


class ListRemovalTooEarly(AppError):
    """Credit repair is possible only after the list's minimum period has passed."""

    code = "credit_list_removal_too_early"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"earliest": self.params.get("earliest")}


class InspectorNotFound(AppError):
    code = "inspector_not_found"
    status = 404


class NotEnoughInspectors(AppError):
    """Fewer than two inspectors without a conflict of interest are left for an entity."""

    code = "not_enough_inspectors"
    status = 409

    def extra(self) -> dict[str, object]:
        return {"entity_id": self.params.get("entity_id")}


class EmptyInspectionPool(AppError):
    code = "inspection_pool_empty"
    status = 409


class InspectionTaskNotFound(AppError):
    code = "inspection_task_not_found"
    status = 404


class InspectionPlanNotFound(AppError):
    code = "inspection_plan_not_found"
    status = 404


class RiskFeedUnavailable(AppError):
    """The configured feed could not be fetched or is not in the documented format."""

    code = "risk_feed_unavailable"
    status = 502


class RiskFeedNotConfigured(AppError):
    code = "risk_feed_not_configured"
    status = 409
