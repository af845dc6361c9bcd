"""decide(): what must happen for one link, or for one unlinked Zoho record.

Changes are found by comparing each side with the base (the last agreed canonical values),
never by timing, so a write of ours coming back is not a change. Only fields a side owns
flow to the other side. Both sides changed a both-owned field: the SCI's conflict policy
picks the winner and the conflict is recorded with both values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from bridge.sync import convert
from bridge.sync.convert import Context, ConversionError
from bridge.sync.intents import (
    Agree,
    Conflict,
    CreateJiraIssue,
    Intent,
    Problem,
    SetZohoStatus,
    TransitionJira,
    UpdateJira,
    UpdateZoho,
)
from bridge.sync.model import Base, JiraSnapshot, JiraStatus, ZohoSnapshot
from bridge.sync.policy import ConflictPolicy, FieldRule, Policy
from bridge.sync.status import ZohoStatus, jira_target, rule_met, zoho_target

Side = Literal["jira", "zoho"]
_MISSING: Any = object()


class Catalog(msgspec.Struct, frozen=True, kw_only=True):
    """Live metadata the decisions need: the statuses each side offers."""

    jira_statuses: tuple[JiraStatus, ...] = ()
    zoho_statuses: tuple[ZohoStatus, ...] = ()


def decide(policy: Policy, base: Base | None, jira: JiraSnapshot, zoho: ZohoSnapshot,
           ctx: Context, catalog: Catalog) -> list[Intent]:
    """Intents for a linked pair. ``base`` None: first sync of a new link (Zoho seeds the
    fields Zoho owns, Jira seeds the fields only Jira owns)."""
    intents: list[Intent] = []
    to_jira: dict[str, Any] = {}
    to_zoho: dict[str, Any] = {}
    agreed_jira: dict[str, Any] = {}
    agreed_zoho: dict[str, Any] = {}
    agreed: dict[str, Any] = {}
    for rule in policy.fields:
        outcome = _field(policy, rule, base, jira, zoho, ctx, intents)
        if outcome is None:
            continue
        winner, value = outcome
        try:
            if winner == "zoho":
                to_jira[rule.jira] = convert.to_jira(rule.kind, value, ctx, field=rule.jira)
                agreed_jira[rule.jira] = value
                _summary_note(rule, value, intents)
            elif winner == "jira":
                to_zoho[rule.zoho] = convert.to_zoho(rule.kind, value, ctx)
                agreed_zoho[rule.jira] = value
            else:
                agreed[rule.jira] = value
        except ConversionError as exc:
            intents.append(Problem(field=rule.jira, reason=f"{rule.jira}: {exc}"))
    if to_jira:
        intents.append(UpdateJira(key=jira.key, fields=to_jira, agreed=agreed_jira,
                                  reason=f"Zoho changed {', '.join(sorted(to_jira))}"))
    if to_zoho:
        intents.append(UpdateZoho(record_id=zoho.id, fields=to_zoho, agreed=agreed_zoho,
                                  unmodified_since=zoho.modified,
                                  reason=f"Jira changed {', '.join(sorted(to_zoho))}"))
    if agreed:
        intents.append(Agree(fields=agreed, reason="both sides already agree"))
    intents.extend(_status(policy, base, jira, zoho, catalog))
    return intents


def _field(policy: Policy, rule: FieldRule, base: Base | None, jira: JiraSnapshot,
           zoho: ZohoSnapshot, ctx: Context, intents: list[Intent]
           ) -> tuple[Side | Literal["agree"], Any] | None:
    """(winner, canonical value) for one mapping, or None when nothing is to be done."""
    try:
        j = convert.from_jira(rule.kind, jira.fields.get(rule.jira), ctx)
        z = convert.from_zoho(rule.kind, zoho.fields.get(rule.zoho), ctx)
    except ConversionError as exc:
        intents.append(Problem(field=rule.jira, reason=f"{rule.jira} ↔ {rule.zoho}: {exc}"))
        return None
    known = base.fields.get(rule.jira, _MISSING) if base is not None else _MISSING
    if j == z:
        return None if known == j else ("agree", j)
    if known is _MISSING:
        zoho_changed, jira_changed = rule.to_jira, not rule.to_jira
    else:
        zoho_changed, jira_changed = z != known, j != known
    if zoho_changed and jira_changed:
        if rule.direction != "both":
            return ("zoho", z) if rule.to_jira else ("jira", j)
        winner = _winner(policy.conflict, jira.updated, zoho.modified)
        intents.append(Conflict(field=rule.jira, jira_value=j, zoho_value=z, winner=winner,
                                reason=f"{rule.jira} changed on both sides; {winner} wins "
                                       f"({policy.conflict}): {_both(j, z)}"))
        return (winner, z if winner == "zoho" else j)
    if zoho_changed and rule.to_jira:
        return ("zoho", z)
    if jira_changed and rule.to_zoho:
        return ("jira", j)
    return None


def _winner(policy: ConflictPolicy, jira_updated: float, zoho_modified: float) -> Side:
    if policy == "latest":
        return "jira" if jira_updated > zoho_modified else "zoho"
    return "zoho" if policy == "zoho_wins" else "jira"


def _summary_note(rule: FieldRule, value: Any, intents: list[Intent]) -> None:
    if rule.jira == "summary" and isinstance(value, str):
        problem = convert.summary_problem(value)
        if problem:
            intents.append(Problem(field="summary", reason=problem))


# -- writes queued by an earlier pass --------------------------------------------------------
FIELD_WRITES = (UpdateJira, UpdateZoho, TransitionJira, SetZohoStatus)


def settle(base: Base | None, queued: Sequence[Intent], policy: Policy, jira: JiraSnapshot,
           zoho: ZohoSnapshot, ctx: Context) -> Base | None:
    """The base after field writes an earlier pass queued but did not confirm (it failed,
    or the process stopped before its bookkeeping). Such a write is never replayed: a newer
    edit on its target would be overwritten. Each value that did land is agreed; the rest
    are decided again from what both sides hold now."""
    rules = {rule.jira: rule for rule in policy.fields}
    for intent in queued:
        match intent:
            case UpdateJira(agreed=agreed) | UpdateZoho(agreed=agreed):
                side: Side = "jira" if isinstance(intent, UpdateJira) else "zoho"
                landed = {name: value for name, value in agreed.items()
                          if name in rules and _holds(rules[name], side, value, jira, zoho,
                                                      ctx)}
                if landed:
                    base = (base or Base()).with_fields(landed)
            case TransitionJira(status=status, agreed_zoho_status=token) \
                    if jira.status.name.casefold() == status.casefold():
                base = msgspec.structs.replace(base or Base(), jira_status=jira.status.name,
                                               zoho_status=token)
            case SetZohoStatus(status=status, agreed_jira_status=jira_status) \
                    if zoho.status == status:
                base = msgspec.structs.replace(base or Base(), jira_status=jira_status,
                                               zoho_status=status)
    return base


def _holds(rule: FieldRule, side: Side, value: Any, jira: JiraSnapshot, zoho: ZohoSnapshot,
           ctx: Context) -> bool:
    try:
        if side == "jira":
            return bool(convert.from_jira(rule.kind, jira.fields.get(rule.jira), ctx) == value)
        return bool(convert.from_zoho(rule.kind, zoho.fields.get(rule.zoho), ctx) == value)
    except ConversionError:
        return False


# -- echoes ---------------------------------------------------------------------------------
def agrees(policy: Policy, base: Base | None, side: Side,
           snapshot: JiraSnapshot | ZohoSnapshot, ctx: Context) -> bool:
    """Whether one side still holds exactly what both last agreed on (mapped fields and
    status): a change notice from it is the echo of our own write, and the other side has
    triggers of its own, so no pass is needed."""
    if base is None:
        return False
    for rule in policy.fields:
        try:
            if side == "jira":
                value = convert.from_jira(rule.kind, snapshot.fields.get(rule.jira), ctx)
            else:
                value = convert.from_zoho(rule.kind, snapshot.fields.get(rule.zoho), ctx)
        except ConversionError:
            return False
        if base.fields.get(rule.jira, _MISSING) != value:
            return False
    if not policy.status_to_jira:
        return True
    if isinstance(snapshot, JiraSnapshot):
        return snapshot.status.name == base.jira_status
    return zoho_token(policy, snapshot) == base.zoho_status


# -- status ---------------------------------------------------------------------------------
def zoho_token(policy: Policy, zoho: ZohoSnapshot) -> str:
    """What the Zoho side says the status should be: the rule's status when a rule is set
    (it takes precedence over generic status sync), else the Zoho status itself."""
    if policy.rule is not None:
        met = rule_met(policy.rule, zoho.fields)
        return policy.rule.status_when_met if met else policy.rule.status_when_not_met
    return zoho.status


def _status(policy: Policy, base: Base | None, jira: JiraSnapshot, zoho: ZohoSnapshot,
            catalog: Catalog) -> list[Intent]:
    if not policy.status_to_jira:
        return []
    token = zoho_token(policy, zoho)
    zoho_moved = base is None or base.zoho_status != token
    jira_moved = base is not None and base.jira_status != jira.status.name
    back = policy.status_to_zoho and policy.rule is None
    if zoho_moved and jira_moved and back:
        winner = _winner(policy.conflict, jira.updated, zoho.modified)
        conflict = Conflict(field="status", jira_value=jira.status.name, zoho_value=token,
                            winner=winner, reason=f"status changed on both sides; {winner} "
                                                  f"wins ({policy.conflict}): "
                                                  f"{_both(jira.status.name, token)}")
        towards = _to_zoho(policy, jira, zoho, catalog) if winner == "jira" else \
            _to_jira(policy, jira, zoho, token, catalog)
        return [conflict, *towards]
    if zoho_moved:
        return _to_jira(policy, jira, zoho, token, catalog)
    if jira_moved and back:
        return _to_zoho(policy, jira, zoho, catalog)
    return []


def _to_jira(policy: Policy, jira: JiraSnapshot, zoho: ZohoSnapshot, token: str,
             catalog: Catalog) -> list[Intent]:
    if not token:
        return []
    if policy.rule is not None:
        target: str | None = token
    else:
        target = jira_target(token, zoho.status_closed, jira.status, catalog.jira_statuses,
                             policy.status_map)
    if target is None:
        return [Problem(field="status", reason=f"no Jira status matches Zoho status "
                                               f"{token!r}; add it to status_map")]
    if target.casefold() == jira.status.name.casefold():
        return [Agree(jira_status=jira.status.name, zoho_status=token,
                      reason="statuses already agree")]
    return [TransitionJira(key=jira.key, status=target, agreed_zoho_status=token,
                           reason=f"Zoho status {token!r} → Jira {target!r}")]


def _to_zoho(policy: Policy, jira: JiraSnapshot, zoho: ZohoSnapshot,
             catalog: Catalog) -> list[Intent]:
    current = ZohoStatus(zoho.status, zoho.status_closed)
    target = zoho_target(jira.status, current, catalog.zoho_statuses, policy.status_map)
    if target is None:
        return [Problem(field="status", reason=f"no Zoho status matches Jira status "
                                               f"{jira.status.name!r}; add it to status_map")]
    if target == zoho.status:
        return [Agree(jira_status=jira.status.name, zoho_status=target,
                      reason="statuses already agree")]
    return [SetZohoStatus(record_id=zoho.id, status=target,
                          agreed_jira_status=jira.status.name,
                          reason=f"Jira status {jira.status.name!r} → Zoho {target!r}")]


# -- auto-create ----------------------------------------------------------------------------
def decide_create(policy: Policy, zoho: ZohoSnapshot, ctx: Context,
                  catalog: Catalog) -> list[Intent]:
    """Intents for a Zoho record no issue is linked to yet (empty: not eligible)."""
    if not policy.auto_create:
        return []
    status = ""
    token = zoho_token(policy, zoho)
    if policy.rule is not None:
        if not rule_met(policy.rule, zoho.fields) and not policy.rule.create_when_not_met:
            return []
        status = token
    elif policy.status_to_jira and token:
        start = catalog.jira_statuses[0] if catalog.jira_statuses else JiraStatus("")
        status = jira_target(token, zoho.status_closed, start, catalog.jira_statuses,
                             policy.status_map) or ""
    fields: dict[str, Any] = {}
    agreed: dict[str, Any] = {}
    problems: list[Intent] = []
    for rule in policy.fields:
        if not rule.to_jira:
            continue
        try:
            value = convert.from_zoho(rule.kind, zoho.fields.get(rule.zoho), ctx)
            if value is not None:
                fields[rule.jira] = convert.to_jira(rule.kind, value, ctx, field=rule.jira)
            agreed[rule.jira] = value
            _summary_note(rule, value, problems)
        except ConversionError as exc:
            problems.append(Problem(field=rule.jira, reason=f"{rule.jira}: {exc}"))
    if "summary" not in fields:
        fields["summary"] = convert.summary(zoho.title or f"Zoho record {zoho.id}")
        _summary_note(FieldRule("summary", "", "text", "to_jira"), zoho.title, problems)
    create = CreateJiraIssue(record_id=zoho.id, fields=fields, status=status, agreed=agreed,
                             zoho_status=token,
                             reason=f"new Zoho record {zoho.id}"
                                    + (f" (starts in {status!r})" if status else ""))
    return [create, *problems]


def problems_of(intents: Sequence[Intent]) -> list[str]:
    return [i.reason for i in intents if isinstance(i, Problem)]


def _both(jira: Any, zoho: Any, width: int = 60) -> str:
    """Both values of a conflict as the history shows them (long ones cut visibly)."""
    def shown(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= width else text[:width - 1] + "…"
    return f"Jira {shown(jira)}, Zoho {shown(zoho)}"
