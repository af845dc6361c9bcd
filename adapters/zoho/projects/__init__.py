"""Zoho Projects V3 adapter: async client, typed views, errors and throttle budgets."""

from .client import DEFAULT_ATTACHMENT_CAP, ZohoProjectsClient
from .errors import ZohoProjectsError, projects_classifier, projects_error
from .throttle import Throttle, url_pattern
from .views import (
    Attachment,
    Comment,
    Milestone,
    Portal,
    Project,
    ProjectRef,
    RecordRef,
    Related,
    Status,
    TimeLog,
    User,
    WorkItem,
)

__all__ = [
    "DEFAULT_ATTACHMENT_CAP",
    "Attachment",
    "Comment",
    "Milestone",
    "Portal",
    "Project",
    "ProjectRef",
    "RecordRef",
    "Related",
    "Status",
    "Throttle",
    "TimeLog",
    "User",
    "WorkItem",
    "ZohoProjectsClient",
    "ZohoProjectsError",
    "projects_classifier",
    "projects_error",
    "url_pattern",
]
