"""The domain's vocabulary: roles, data types, statuses, journey steps and actions.

Status names follow the vendor's public vocabulary (connection and dataset statuses)
so that people who know the product recognise them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RM = "rm"
    ADMIN = "admin"
    SUPPORT = "support"


class DataType(StrEnum):
    FINANCIALS = "financials"
    SPEND_ANALYSIS = "spend_analysis"


class Delivery(StrEnum):
    EMAIL = "email"
    LINK = "link"


class Feature(StrEnum):
    COPY_LINK = "copy_link"
    MANUAL_UPLOAD = "manual_upload"
    MULTI_ENTITY = "multi_entity"


class ConnectionStatus(StrEnum):
    PENDING_AUTH = "PendingAuth"
    LINKED = "Linked"
    UNLINKED = "Unlinked"
    DEAUTHORIZED = "Deauthorized"


class PullStatus(StrEnum):
    QUEUED = "Queued"
    FETCHING = "Fetching"
    COMPLETE = "Complete"
    FETCH_ERROR = "FetchError"
    AUTH_ERROR = "AuthError"

    @property
    def finished(self) -> bool:
        return self in (PullStatus.COMPLETE, PullStatus.FETCH_ERROR, PullStatus.AUTH_ERROR)

    @property
    def failed(self) -> bool:
        return self in (PullStatus.FETCH_ERROR, PullStatus.AUTH_ERROR)


class UploadStatus(StrEnum):
    PROCESSING = "Processing"
    PROCESSED = "Processed"


class ReportStatus(StrEnum):
    AVAILABLE = "Available"
    GENERATING = "Generating"
    UNAVAILABLE = "Unavailable"
    FAILED = "Failed"


class ReportKind(StrEnum):
    PROFIT_AND_LOSS = "profit_and_loss"
    BALANCE_SHEET = "balance_sheet"
    SPEND_ANALYSIS = "spend_analysis"


REPORTS_FOR_DATA_TYPE: dict[DataType, tuple[ReportKind, ...]] = {
    DataType.FINANCIALS: (ReportKind.PROFIT_AND_LOSS, ReportKind.BALANCE_SHEET),
    DataType.SPEND_ANALYSIS: (ReportKind.SPEND_ANALYSIS,),
}


class CompanyStatus(StrEnum):
    """The Status column of the portal. ``NONE`` is a company never asked for data."""

    NONE = "None"
    REQUESTED = "Requested"
    IN_PROGRESS = "In progress"
    UPLOADED = "Uploaded"
    AVAILABLE = "Available"
    WARNING = "Warning"
    ERROR = "Error"
    DEAUTHORIZED = "Deauthorized"
    EXPIRED = "Expired"


class RequestState(StrEnum):
    """Where an information request stands as a whole (the customer's summary shows it)."""

    SENT = "Sent"
    OPENED = "Opened"
    COMPLETE = "Complete"
    EXPIRED = "Expired"
    CANCELLED = "Cancelled"


class Step(StrEnum):
    EMAIL = "email"
    CHOOSE_METHOD = "choose_method"
    MANUAL_UPLOAD = "manual_upload"
    ENTITY_COUNT = "entity_count"
    ENTITY_NAME = "entity_name"
    SHARE_ACCOUNTING = "share_accounting"
    SELECT_PLATFORM = "select_platform"
    CONSENT = "consent"
    PLATFORM_SIGNIN = "platform_signin"
    ENTITIES = "entities"
    COMPLETE = "complete"
    SUMMARY = "summary"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Action(StrEnum):
    VIEW_REQUEST = "view_request"
    CHOOSE_METHOD = "choose_method"
    UPLOAD = "upload"
    CHOOSE_ENTITIES = "choose_entities"
    NAME_ENTITY = "name_entity"
    CONNECT = "connect"
    SELECT_PLATFORM = "select_platform"
    CONSENT = "consent"
    AUTHORIZE = "authorize"
    DENY = "deny"
    ADD_ENTITY = "add_entity"
    FINISH = "finish"
    BACK = "back"
    CLOSE = "close"
    RESUME = "resume"


ENTITY_NAME_MAX = 100

# How long what an RM types may be, in characters: the service refuses longer, and the
# portal's fields hold no more (a paste is cut to fit, with a notice).
COMPANY_NAME_MAX = 200
DESCRIPTION_MAX = 500
CONTACT_NAME_MAX = 200
EMAIL_MAX = 254  # the longest address SMTP carries (RFC 5321)
USERS_MAX = 50
SEARCH_MAX = 200  # a search of the company list (``q``)
