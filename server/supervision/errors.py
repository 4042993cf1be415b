"""Refusals of the supervision domain, each with its own code.

Most are one of three kinds, named by their base: a bad input field (422, naming the field), a
record that does not exist (404), or a step the record's state does not allow (409).
"""

from __future__ import annotations

from server.errors import AppError


class _FieldRefusal(AppError):
    """A refusal about one input field, named in `field`."""

    status = 422
    shown = ("field",)


class _NotFound(AppError):
    """A record the request names does not exist."""

    status = 404


class _Conflict(AppError):
    """The step is not possible in the present state (of a record, the pool, the settings)."""

    status = 409


class ComplaintTextInvalid(_FieldRefusal):
    """The complaint text is empty or too long."""

    code = "complaint_text_invalid"


class OccurredAtInvalid(_FieldRefusal):
    """The time of the incident is in the future or has no time zone."""

    code = "complaint_occurred_at_invalid"


class UnknownComplaintChannel(_FieldRefusal):
    code = "complaint_channel_invalid"


class ComplaintNotFound(_NotFound):
    code = "complaint_not_found"


class ComplaintStateConflict(_Conflict):
    """The complaint is not in a state that allows this step (e.g. answering a closed one)."""

    code = "complaint_state_conflict"
    shown = ("status",)


class AssigneeInvalid(_FieldRefusal):
    """Complaints go only to active supervisors or admins."""

    code = "complaint_assignee_invalid"


class CreditRecordInvalid(_FieldRefusal):
    """The category does not belong to the kind of record, or the points are out of range."""

    code = "credit_record_invalid"


class EntityNotFound(_NotFound):
    code = "entity_not_found"


class ReferencedEntityNotFound(_FieldRefusal):
    """A venue or entity named in the request does not exist."""

    code = "referenced_not_found"


class ContactPhoneInvalid(_FieldRefusal):
    code = "contact_phone_invalid"


class InspectionAlreadyRecorded(_Conflict):
    code = "inspection_already_recorded"


class LicenceNumberTaken(_FieldRefusal):
    code = "licence_number_taken"
    status = 409


class ListEntryNotFound(_NotFound):
    code = "credit_list_entry_not_found"


class ListRemovalTooEarly(_Conflict):
    """Credit repair is possible only after the list's minimum period has passed."""

    code = "credit_list_removal_too_early"
    shown = ("earliest",)


class InspectorNotFound(_NotFound):
    code = "inspector_not_found"


class NotEnoughInspectors(_Conflict):
    """Fewer than two inspectors without a conflict of interest are left for an entity."""

    code = "not_enough_inspectors"
    shown = ("entity_id",)


class EmptyInspectionPool(_Conflict):
    code = "inspection_pool_empty"


class InspectionTaskNotFound(_NotFound):
    code = "inspection_task_not_found"


class InspectionPlanNotFound(_NotFound):
    code = "inspection_plan_not_found"


class RiskFeedUnavailable(AppError):
    """The configured feed could not be fetched or is not in the documented format."""

    code = "risk_feed_unavailable"
    status = 502


class RiskFeedNotConfigured(_Conflict):
    code = "risk_feed_not_configured"
