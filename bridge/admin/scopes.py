"""The Zoho OAuth scopes each connection needs (the Self Client code must grant them)."""

from __future__ import annotations

CRM_SCOPES = (
    "AaaServer.profile.Read",
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.org.Read",
    "ZohoCRM.modules.notes.ALL",
    "ZohoCRM.modules.attachments.ALL",
    "WorkDrive.files.READ",
    "ZohoFiles.files.READ",
)

PROJECTS_SCOPES = (
    "ZohoProjects.tasks.CREATE", "ZohoProjects.tasks.UPDATE",
    "ZohoProjects.bugs.CREATE", "ZohoProjects.bugs.UPDATE",
    "ZohoPC.files.CREATE", "ZohoPC.files.ALL", "WorkDrive.files.ALL",
    "ZohoProjects.portals.Read", "ZohoProjects.projects.Read", "ZohoProjects.activities.Read",
    "ZohoProjects.feeds.Read", "ZohoProjects.status.Read", "ZohoProjects.milestones.Read",
    "ZohoProjects.tasklists.Read", "ZohoProjects.tasks.Read", "ZohoProjects.bugs.Read",
    "ZohoProjects.events.Read", "ZohoProjects.forums.Read", "ZohoProjects.clients.Read",
    "ZohoProjects.users.Read", "ZohoProjects.documents.READ", "ZohoProjects.search.READ",
    "ZohoProjects.tags.Read", "ZohoProjects.calendar.Read", "ZohoProjects.integrations.Read",
    "ZohoProjects.projectgroups.Read", "ZohoProjects.entity_properties.Read",
    "ZohoProjects.custom_fields.READ", "ZohoPC.files.Read", "WorkDrive.workspace.Read",
    "WorkDrive.files.Read", "WorkDrive.team.Read", "AaaServer.profile.Read",
)
