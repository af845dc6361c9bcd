"""Operator subcommands: SCIs, links, history, dead letters, sync now, API tokens, passwords.

They open the store file directly (SQLite in WAL mode is safe beside a running daemon) and
call the same operations as the admin pages and API. Every listing takes ``--json``.
``sync-now`` is the exception: only the running daemon has the SCI actors to ask, so it
calls the daemon's JSON API with the admin token in ``BRIDGE_API_TOKEN``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import msgspec
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from actors.supervisor import Supervisor
from bridge import config as config_module
from bridge.admin import operations as ops
from bridge.admin.daemon_api import TOKEN_VARIABLE, CommandError, DaemonApi, api_token, daemon_url
from bridge.admin.passwords import hash_password
from bridge.admin.tokens import create_token
from bridge.admin.views import DeadLetterView, LinkView, SciSummary
from bridge.runtime import Runtime
from bridge.store import SqliteStore, SyncEntry
from bridge.ui.format import ago, direction, when

EXIT_FAILED = 1
FOLLOW_EVERY = 1.0  # seconds between looks at a running backfill
Work = Callable[[Runtime, argparse.Namespace], Awaitable[int]]


def _console() -> Console:
    return Console(highlight=False)


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """Cells fold instead of being cut off: piped output is never silently truncated."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value)).decode() + "\n")


def _with_store(work: Work, *, must_exist: bool = True) -> Callable[[argparse.Namespace], int]:
    """Open the config's store offline (no actors: it is the daemon's job to run them)."""
    from bridge.daemon import secret_box

    def command(args: argparse.Namespace) -> int:
        config = config_module.load(args.config)
        path = config.database_path()
        if must_exist and not path.exists():
            raise CommandError(f"no store at {path}; has the daemon run with {args.config}?")

        async def run() -> int:
            store = SqliteStore(path, secret_box(config))
            await store.open()
            try:
                return await work(Runtime(config=config, store=store, supervisor=Supervisor()),
                                  args)
            except ops.AdminError as exc:
                raise CommandError(str(exc)) from None
            finally:
                await store.close()

        return anyio.run(run)

    return command


# -- SCIs -------------------------------------------------------------------------------------
async def _scis(runtime: Runtime, args: argparse.Namespace) -> int:
    found = await ops.scis(runtime)
    if args.json:
        _print_json(found)
        return 0
    if not found:
        _console().print("No SCIs. Declare [[sci]] tables in the config file.")
        return 0
    table = _table("Smart Connected Items", (
        "ID", "Name", "Mode", "Jira scope", "Zoho source", "Mappings", "Features", "Latest sync",
        "Dead letters"))
    for item in found:
        table.add_row(item.id, item.name, item.mode, _scope(item), item.zoho_source,
                      str(item.mappings), _features(item), _latest(item),
                      str(item.dead_letters) if item.dead_letters else "")
    _console().print(table)
    return 0


def _scope(item: SciSummary) -> str:
    projects = ", ".join(item.jira_projects)
    return f"{projects} / {item.jira_issue_type}" if item.jira_issue_type else projects


def _features(item: SciSummary) -> str:
    named = {"auto-create": item.auto_create, "comments": item.comments,
             "attachments": item.attachments, "status": item.status_sync,
             "rule": bool(item.rule)}
    return ", ".join(name for name, on in named.items() if on) or "—"


def _latest(item: SciSummary) -> str:
    return "\n".join(f"{direction(e.direction)} {ago(e.finished_at)}: {e.changes} changes, "
                     f"{e.errors} errors" for e in item.latest) or "never"


# -- links ------------------------------------------------------------------------------------
async def _links(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.sci is not None:
        found = await ops.links_for_sci(runtime, args.sci)
        subject, title = f"SCI {args.sci}", f"Links of SCI {args.sci}"
    else:
        found = await ops.links_for_issue(runtime, args.issue)
        key = ops.issue_key_of(args.issue)
        subject, title = key, f"Links of {key}"
    if args.json:
        _print_json(found)
        return 0
    if not found:
        _console().print(f"No links for {escape(subject)}.")
        return 0
    table = _table(title, ("ID", "SCI", "Jira issue", "Zoho record", "Origin", "Last sync",
                           "Problems"))
    for view in found:
        table.add_row(view.id, escape(view.sci_id), view.jira_issue_key,
                      escape(view.zoho_record_id), view.origin, _last_sync(view),
                      _link_problems(view))
    _console().print(table)
    return 0


def _last_sync(view: LinkView) -> str:
    synced = f"synced {ago(view.synced_at)}" if view.synced_at else "not synced yet"
    if view.last is None:
        return synced
    last = view.last
    outcome = f"{last.errors} errors" if last.errors else f"{last.changes} changes"
    return f"{synced}\n{direction(last.direction)} {ago(last.finished_at)}: {outcome}"


def _link_problems(view: LinkView) -> str:
    shown = [f"[red]{escape(problem)}[/red]" for problem in view.problems]
    if view.parked:
        shown.insert(0, "[red]parked: a write is a dead letter (replay it)[/red]")
    if view.last is not None and view.last.errors and not view.problems:
        shown.append(escape(view.last.summary))
    return "\n".join(shown)


# -- history ----------------------------------------------------------------------------------
async def _history(runtime: Runtime, args: argparse.Namespace) -> int:
    entries = await ops.history(runtime, args.sci, direction=args.direction or "",
                                errors_only=args.errors_only,
                                conflicts_only=args.conflicts_only, limit=args.limit)
    if args.json:
        _print_json(entries)
        return 0
    if not entries:
        _console().print(f"No history for {args.sci} (with these filters).")
        return 0
    _console().print(_history_table(args.sci, entries))
    return 0


def _history_table(sci_id: str, entries: list[SyncEntry]) -> Table:
    table = _table(f"History of {sci_id} (newest first)",
                   ("When", "Direction", "Changes", "Errors", "Summary"))
    for entry in entries:
        errors = f"[red]{entry.errors}[/red]" if entry.errors else "0"
        table.add_row(when(entry.finished_at), direction(entry.direction), str(entry.changes),
                      errors, entry.summary)
    return table


# -- dead letters -----------------------------------------------------------------------------
async def _dead_letters(runtime: Runtime, args: argparse.Namespace) -> int:
    if args.replay is not None:
        result = await ops.replay(runtime, ops.dead_letter_id(args.replay))
    elif args.all:
        result = await ops.replay_all(runtime, args.sci or "")
    else:
        letters = await ops.dead_letters(runtime, args.sci or "")
        _show_dead_letters(letters, args.json)
        return 0
    if args.json:
        _print_json(result)
    else:
        _console().print(result.detail)
    return 0


def _show_dead_letters(letters: list[DeadLetterView], as_json: bool) -> None:
    if as_json:
        _print_json(letters)
        return
    if not letters:
        _console().print("No dead letters.")
        return
    table = _table("Dead letters", ("ID", "SCI", "Operation", "Attempts", "Reason", "Failed"))
    for letter in letters:
        table.add_row(str(letter.id), letter.sci_id, letter.operation, str(letter.attempts),
                      letter.reason, when(letter.died_at))
    _console().print(table)


# -- through the running daemon: sync now, backfill ----------------------------------------
def _daemon(args: argparse.Namespace) -> DaemonApi:
    token = api_token()  # first: a missing token is reported before the config is read
    return DaemonApi(daemon_url(args.config, args.url), token)


def _sci_path(sci_id: str, action: str = "") -> str:
    return f"/api/v1/scis/{quote(sci_id, safe='')}" + (f"/{action}" if action else "")


def cmd_sync_now(args: argparse.Namespace) -> int:
    daemon = _daemon(args)
    answer = anyio.run(daemon.call, "POST", _sci_path(args.sci, "sync-now"))
    if args.json:
        _print_json(answer)
    else:
        _console().print(escape(str(answer.get("detail") or "sync requested")))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Start a backfill, then follow it: reading the source, then the queued writes with a
    progress bar (rate, time left). Ctrl-C stops following; the backfill goes on."""
    daemon = _daemon(args)
    result = anyio.run(_follow_backfill, daemon, args.sci, not args.json)
    if args.json:
        _print_json(result)
    else:
        _console().print(f"Backfill of {escape(args.sci)} done: {result['records_read']} "
                         f"record(s) read, {result['links']} link(s), "
                         f"{result['seconds']:.0f} s.")
    return 0


async def _follow_backfill(daemon: DaemonApi, sci_id: str, show: bool) -> dict[str, Any]:
    started = time.time()
    await daemon.call("POST", _sci_path(sci_id, "backfill"))
    console = _console()
    with console.status("Reading every record of the Zoho source…") if show else nullcontext():
        while True:
            read = await _backfill_read(daemon, sci_id, started)
            if read is not None:
                break
            await anyio.sleep(FOLLOW_EVERY)
    with Progress(TextColumn("Writes"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                  TimeRemainingColumn(), console=console, disable=not show) as progress:
        task = progress.add_task("writes", total=None)
        total = 0
        while (depth := (await daemon.call("GET", _sci_path(sci_id)))["summary"]
               ["outbox_depth"]):
            total = max(total, depth + int(progress.tasks[0].completed))
            progress.update(task, total=total, completed=total - depth)
            await anyio.sleep(FOLLOW_EVERY)
        progress.update(task, total=total or 1, completed=total or 1)
    summary = (await daemon.call("GET", _sci_path(sci_id)))["summary"]
    return {"sci_id": sci_id, "records_read": read, "links": summary["links"],
            "seconds": round(time.time() - started, 1)}


async def _backfill_read(daemon: DaemonApi, sci_id: str, since: float) -> int | None:
    """The records the backfill's read went through, once it is recorded in the history."""
    for entry in await daemon.call("GET", _sci_path(sci_id, "history") + "?limit=20"):
        if entry["summary"].startswith("backfill:") and entry["started_at"] >= since - 1:
            if entry["errors"]:
                raise CommandError(f"the backfill could not read the source: "
                                   f"{entry['summary'].removeprefix('backfill: ')}")
            return int(entry["changes"])
    return None


class RateColumn(ProgressColumn):
    """Writes per second, as rich measures them."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")


# -- tokens and passwords ---------------------------------------------------------------------
async def _token_create(runtime: Runtime, args: argparse.Namespace) -> int:
    record, token = await create_token(runtime.store, args.role, args.label)
    if args.json:
        _print_json({"token": token, **msgspec.to_builtins(record)})
        return 0
    print(token)
    print(f"{record.role} token {record.id} ({record.label}); it is shown only now, "
          "store it safely.", file=sys.stderr)
    return 0


async def _token_list(runtime: Runtime, args: argparse.Namespace) -> int:
    found = await runtime.store.list_api_tokens()
    if args.json:
        _print_json(found)
        return 0
    table = _table("API tokens (only their hashes are stored)",
                   ("ID", "Label", "Role", "Created"))
    for record in found:
        table.add_row(record.id, record.label, record.role, when(record.created_at))
    _console().print(table)
    return 0


async def _token_revoke(runtime: Runtime, args: argparse.Namespace) -> int:
    if not await runtime.store.delete_api_token(args.id):
        raise CommandError(f"no API token {args.id}")
    print(f"API token {args.id} revoked")
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        print(hash_password(password))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return 0


# -- registration -----------------------------------------------------------------------------
def register(commands: Any) -> None:
    """Add the operator subcommands to the ``bridge`` parser's subparsers."""

    def with_config(name: str, help_text: str, work: Work, *,
                    must_exist: bool = True, parent: Any = commands) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, help=help_text)
        parser.add_argument("--config", required=True, type=Path,
                            help="the daemon's TOML config (names the store)")
        parser.set_defaults(handler=_with_store(work, must_exist=must_exist))
        return parser

    scis = with_config("scis", "list Smart Connected Items and their latest sync", _scis)
    scis.add_argument("--json", action="store_true", help="print JSON")

    links = with_config("links", "list links of an SCI or of a Jira issue", _links)
    subject = links.add_mutually_exclusive_group(required=True)
    subject.add_argument("--sci", help="the links of this SCI")
    subject.add_argument("--issue", metavar="KEY", help="the links of this Jira issue (SUP-12)")
    links.add_argument("--json", action="store_true", help="print JSON")

    history = with_config("history", "an SCI's sync history, newest first", _history)
    history.add_argument("sci", help="SCI id")
    history.add_argument("--direction", choices=["jira_to_zoho", "zoho_to_jira", "poll"])
    history.add_argument("--errors-only", action="store_true")
    history.add_argument("--conflicts-only", action="store_true")
    history.add_argument("--limit", type=int, default=50)
    history.add_argument("--json", action="store_true", help="print JSON")

    dead = with_config("dead-letters", "list, or replay, writes that failed for good",
                       _dead_letters)
    dead.add_argument("--sci", help="only this SCI's dead letters")
    action = dead.add_mutually_exclusive_group()
    action.add_argument("--replay", metavar="ID", help="put one dead letter back in the outbox")
    action.add_argument("--all", action="store_true", help="replay every (listed) dead letter")
    dead.add_argument("--json", action="store_true", help="print JSON")

    def through_daemon(name: str, help_text: str, handler: Callable[[argparse.Namespace], int],
                       json_help: str = "print JSON") -> None:
        parser: argparse.ArgumentParser = commands.add_parser(
            name, help=f"{help_text} (admin token in ${TOKEN_VARIABLE})")
        parser.description = (f"Calls the running daemon's JSON API with the admin token in "
                              f"${TOKEN_VARIABLE} (bridge token create --role admin); the "
                              "token is never taken from the command line.")
        parser.add_argument("sci", help="SCI id")
        parser.add_argument("--config", required=True, type=Path,
                            help="the daemon's TOML config (its [http] section gives the "
                                 "address)")
        parser.add_argument("--url",
                            help="the daemon's base URL (default: from the config's [http])")
        parser.add_argument("--json", action="store_true", help=json_help)
        parser.set_defaults(handler=handler)

    through_daemon("sync-now", "ask the running daemon to sync an SCI now", cmd_sync_now)
    through_daemon("backfill", "read every record of an SCI's Zoho source again, creating "
                               "missing issues, with a progress bar", cmd_backfill,
                   json_help="print the result as JSON, no bar")

    token = commands.add_parser("token", help="API tokens for the JSON admin API")
    token_commands = token.add_subparsers(dest="token_command", required=True,
                                          metavar="COMMAND")
    create = with_config("create", "create a token; prints it once", _token_create,
                         must_exist=False, parent=token_commands)
    create.add_argument("--role", required=True, choices=["admin", "user"])
    create.add_argument("--label", default="", help="what the token is for")
    create.add_argument("--json", action="store_true", help="print JSON")
    listing = with_config("list", "list tokens (never the tokens themselves)", _token_list,
                          parent=token_commands)
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = with_config("revoke", "revoke a token by id", _token_revoke,
                         parent=token_commands)
    revoke.add_argument("id")

    hashing = commands.add_parser(
        "hash-password", help="print an argon2 hash for a [[ui.user]] password_hash "
                              "(reads the password from the terminal or stdin)")
    hashing.set_defaults(handler=cmd_hash_password)
