"""Every model of the app, for Django (which loads this module) and the migrations.
Each lives in its feature's package; this module only gathers them."""

from .files.models import (
    DeliveredFile,
    ManifestEntry,
    ProcessingStatus,
    Severity,
    StorageDeletion,
)
from .files.waivers import Waiver
from .partners.models import Membership, Organization, Preference
from .partners.roles import Role
from .people.models import Comment, Notification, NotificationSetting
from .previews.models import Preview, PreviewPart, SequencePreview
from .requests.errors import ActionRefused
from .requests.history import HistoryEntry
from .requests.models import (
    FILE_CHANGES_ALLOWED,
    DeliveryRequest,
    Redelivery,
    RedeliveryReason,
    Title,
)
from .requests.specs import DeliverySpec
from .requests.states import AssetType, Status
from .uploads.models import Upload

__all__ = [
    "FILE_CHANGES_ALLOWED",
    "ActionRefused",
    "AssetType",
    "Comment",
    "DeliveredFile",
    "DeliverySpec",
    "DeliveryRequest",
    "HistoryEntry",
    "ManifestEntry",
    "Membership",
    "Notification",
    "NotificationSetting",
    "Organization",
    "Preference",
    "Preview",
    "PreviewPart",
    "ProcessingStatus",
    "Redelivery",
    "RedeliveryReason",
    "Role",
    "SequencePreview",
    "Severity",
    "Status",
    "StorageDeletion",
    "Title",
    "Upload",
    "Waiver",
]
