"""The `fm` command: sign in, list, upload, download, move, trash, delete, watch.

Results go to stdout (JSON with --json); progress bars and notices go to
stderr, so a script can pipe the one and ignore the other. A failure is
one line, `fm: error: ...`, with a non-zero exit:

    1  the command failed (an API error, a refused transfer, a timeout)
    2  the command line is wrong (click's own)
    3  sign-in needed: no session, or one that can no longer be refreshed
    4  a download's SHA-256 differs from the index's (nothing was written)
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import httpx
from rich.console import Console
from rich.filesize import decimal as human_size
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from fmclient import __version__, feed, target, transfer
from fmclient.api import Api, new_http_client
from fmclient.errors import ApiError, ClientError, ConfigError
from fmclient.put import Outcome, Planned, Uploader, folder_prefix, plan
from fmclient.session import SessionStore

SETTLE_TIMEOUT = 120.0
DEFAULT_JOBS = 4


@dataclass
class Context:
    """What every command shares; the target is resolved on first use."""

    profile: str | None
    stack_file: Path | None
    overrides: dict[str, str | None]
    as_json: bool
    verbose: bool
    out: Console = field(default_factory=lambda: Console(highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _api: Api | None = None

    @property
    def target(self) -> target.Target:
        return self.api.target

    @property
    def api(self) -> Api:
        if self._api is None:
            resolved = target.resolve(
                profile=self.profile,
                stack_file=self.stack_file,
                overrides=self.overrides,
            )
            self._api = Api(resolved, SessionStore())
            self._api.retry.on_retry = self._tell_retry
        return self._api

    def _tell_retry(self, attempt: int, reason: str) -> None:
        if self.verbose:
            self.err.print(f"fm: retrying ({reason}), try {attempt + 1}")

    def emit(self, value: Any) -> None:
        click.echo(json.dumps(value, indent=2, ensure_ascii=False))

    def note(self, message: str) -> None:
        """A human notice on stderr; silent in --json mode."""
        if not self.as_json:
            self.err.print(message)

    def progress(self) -> Progress:
        return Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
            disable=self.as_json or not self.err.is_terminal,
        )


def one_line(message: str) -> str:
    """The message with any line break shown, not made (a name may hold one)."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"fm: error: {one_line(message)}", err=True)
    raise SystemExit(code)


class FmGroup(click.Group):
    """Turns every expected failure into one line and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # click's own handling prints a usage block for a mistyped command;
        # fm's errors are one line everywhere, the command line's included.
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            fail(f"{exc.format_message()} (fm --help tells the usage)", exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail("interrupted", 130)
        raise SystemExit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            verbose = ctx.obj is not None and ctx.obj.verbose
            trace = f" [trace {exc.trace_id}]" if verbose and exc.trace_id else ""
            fail(f"{exc.message} ({exc.code}){trace}", exc.exit_code)
        except ClientError as exc:
            fail(str(exc), exc.exit_code)
        except httpx.TransportError as exc:
            fail(f"could not reach the service: {exc or type(exc).__name__}")


@click.group(cls=FmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", envvar="FM_PROFILE", help="A stage saved by `fm configure`.")
@click.option(
    "--stack",
    "stack_file",
    envvar="FM_STACK",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A local stack's state file (default: .local/stack.json, found upward).",
)
@click.option("--api-url", envvar="FM_API_URL", help="The stage's API URL.")
@click.option("--region", envvar="FM_REGION", help="The user pool's region.")
@click.option("--user-pool-id", envvar="FM_USER_POOL_ID")
@click.option("--client-id", envvar="FM_CLIENT_ID", help="The pool's app client.")
@click.option(
    "--cognito-endpoint",
    envvar="FM_COGNITO_ENDPOINT",
    help="Another Cognito endpoint than AWS's (the local stack's moto).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("-v", "--verbose", is_flag=True, help="Tell retries and trace ids.")
@click.version_option(__version__, prog_name="fm")
@click.pass_context
def cli(
    ctx: click.Context,
    profile: str | None,
    stack_file: Path | None,
    api_url: str | None,
    region: str | None,
    user_pool_id: str | None,
    client_id: str | None,
    cognito_endpoint: str | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """fm: the file manager from the command line.

    It talks to the local stack of `make dev` when run inside the checkout,
    or to a deployed stage saved with `fm configure` (or given by flags).
    """
    overrides = {
        "api_url": api_url,
        "region": region,
        "user_pool_id": user_pool_id,
        "client_id": client_id,
        "cognito_endpoint": cognito_endpoint,
    }
    ctx.obj = Context(profile, stack_file, overrides, as_json, verbose)
    ctx.call_on_close(lambda: ctx.obj._api.close() if ctx.obj._api else None)


pass_context = click.make_pass_decorator(Context)
F = TypeVar("F", bound=Callable[..., Any])


def json_option(command: F) -> F:
    """`--json` after the command too: `fm ls --json` as well as `fm --json ls`."""

    def turn_on(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_object(Context).as_json = True  # type: ignore[union-attr]

    return click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        callback=turn_on,
        help="Print JSON for scripts.",
    )(command)


# --- the session ---------------------------------------------------------------


@cli.command()
@click.option("-u", "--username")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
@click.option("--demo", is_flag=True, help="The local stack's demo user.")
@json_option
@pass_context
def login(ctx: Context, username: str | None, password_stdin: bool, demo: bool) -> None:
    """Sign in; the session then refreshes itself."""
    password: str | None = None
    if demo:
        if ctx.target.demo_user is None:
            raise ConfigError("--demo needs a local stack (make dev)")
        username, password = ctx.target.demo_user
    if username is None:
        username = click.prompt("Username", err=True)
    if password is None and password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    if password is None:
        password = click.prompt("Password", hide_input=True, err=True)
    session = ctx.api.sign_in(username, password)
    target.remember(ctx.target)
    if ctx.as_json:
        ctx.emit(
            {
                "username": session.username,
                "api_url": ctx.target.api_url,
                "id_token_expires_at": _iso(session.expires_at),
            }
        )
    else:
        ctx.out.print(f"Signed in to {ctx.target.api_url} as {session.username}.")


@cli.command()
@json_option
@pass_context
def logout(ctx: Context) -> None:
    """Forget this stage's session."""
    forgotten = ctx.api.sign_out()
    if ctx.as_json:
        ctx.emit({"signed_out": forgotten})
    else:
        ctx.out.print("Signed out." if forgotten else "Was not signed in.")


@cli.command()
@click.argument("name", default=target.DEFAULT_PROFILE)
@click.option("--api-url", required=True)
@click.option("--region", default="", help="Default: the pool id's prefix.")
@click.option("--user-pool-id", required=True)
@click.option("--client-id", required=True)
@click.option("--cognito-endpoint", default="")
@json_option
@pass_context
def configure(
    ctx: Context,
    name: str,
    api_url: str,
    region: str,
    user_pool_id: str,
    client_id: str,
    cognito_endpoint: str,
) -> None:
    """Save a deployed stage as profile NAME (`default` is used by default).

    The values are the outputs of `make deploy` (see docs/deployment.md).
    """
    stage = target.Target(
        api_url,
        region or user_pool_id.split("_", 1)[0],
        user_pool_id,
        client_id,
        cognito_endpoint,
    )
    path = target.save_profile(name, stage)
    if ctx.as_json:
        ctx.emit({"profile": name, "config_file": str(path)})
    else:
        ctx.out.print(f"Saved profile {name!r} in {path}.")


# --- reading -----------------------------------------------------------------------


@cli.command(name="ls")
@click.argument("folder", default="")
@click.option("-l", "--long", "long_format", is_flag=True, help="Sizes, dates, hashes.")
@click.option("-R", "--recursive", is_flag=True, help="Every file below, no folders.")
@click.option(
    "--page-size", type=click.IntRange(1, 1000), default=100, show_default=True
)
@click.option(
    "--max", "max_entries", type=click.IntRange(1), help="Stop after N entries."
)
@click.option(
    "--trash", "in_trash", is_flag=True, help="The trash instead: newest first."
)
@json_option
@pass_context
def list_files(
    ctx: Context,
    folder: str,
    long_format: bool,
    recursive: bool,
    page_size: int,
    max_entries: int | None,
    in_trash: bool,
) -> None:
    """List a folder: its sub-folders, then its files (page after page).

    With --trash, the trashed files (below FOLDER, if given) instead.
    """
    prefix = folder_prefix(folder)
    if in_trash:
        _list_trash(ctx, prefix, long_format, page_size, max_entries)
        return
    delimiter = None if recursive else "/"
    folders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    pages = 0
    for page in ctx.api.pages(prefix, delimiter=delimiter, page_size=page_size):
        pages += 1
        folders += page["folders"]
        items += page["items"]
        if max_entries is not None and len(folders) + len(items) >= max_entries:
            break
    if max_entries is not None:
        folders = folders[:max_entries]
        items = items[: max(0, max_entries - len(folders))]
    if ctx.as_json:
        ctx.emit({"prefix": prefix, "folders": folders, "items": items, "pages": pages})
        return
    if not folders and not items:
        ctx.note(f"No files in {prefix or 'the top folder'}.")
        return
    if long_format:
        ctx.out.print(_long_listing(prefix, folders, items))
        return
    for entry in folders:
        ctx.out.print(entry["name"][len(prefix) :], markup=False)
    for item in items:
        ctx.out.print(item["name"][len(prefix) :], markup=False)


def _list_trash(
    ctx: Context,
    prefix: str,
    long_format: bool,
    page_size: int,
    max_entries: int | None,
) -> None:
    items: list[dict[str, Any]] = []
    pages = 0
    retention_days = None
    for page in ctx.api.trash_pages(page_size=page_size):
        pages += 1
        retention_days = page["retention_days"]
        # The trash is one flat list, newest first: a folder is a filter here.
        items += [i for i in page["items"] if i["name"].startswith(prefix)]
        if max_entries is not None and len(items) >= max_entries:
            items = items[:max_entries]
            break
    if ctx.as_json:
        ctx.emit(
            {
                "prefix": prefix,
                "items": items,
                "pages": pages,
                "retention_days": retention_days,
            }
        )
        return
    if not items:
        ctx.note(f"No files in the trash{f' in {prefix}' if prefix else ''}.")
        return
    if long_format:
        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        for column in ("SIZE", "TRASHED", "FILE ID", "NAME"):
            table.add_column(column, justify="right" if column == "SIZE" else "left")
        for item in items:
            table.add_row(
                human_size(item["size"]),
                _local_time(item.get("trashed_at")),
                item["file_id"],
                item["name"],
            )
        ctx.out.print(table)
    else:
        for item in items:
            ctx.out.print(item["name"], markup=False)
    ctx.note(f"Trashed files are deleted for good after {retention_days} days.")


def _long_listing(
    prefix: str, folders: list[dict[str, Any]], items: list[dict[str, Any]]
) -> Table:
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    table.add_column("SIZE", justify="right")
    table.add_column("UPLOADED")
    table.add_column("SHA-256")
    table.add_column("NAME")
    for entry in folders:
        table.add_row("-", "-", "-", entry["name"][len(prefix) :])
    for item in items:
        sha = item.get("sha256") or ""
        mark = "" if not sha else (" ✓" if item.get("sha256_verified") else "")
        table.add_row(
            human_size(item["size"]),
            _local_time(item.get("uploaded_at")),
            f"{sha[:12]}{mark}" if sha else "-",
            item["name"][len(prefix) :],
        )
    return table


@cli.command()
@click.argument("name")
@json_option
@pass_context
def info(ctx: Context, name: str) -> None:
    """Everything the index knows about a file (by name, or by id)."""
    found = ctx.api.find(name)
    details = ctx.api.describe(found["file_id"])
    if ctx.as_json:
        ctx.emit(details)
        return
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in (
        "name",
        "file_id",
        "status",
        "size",
        "content_type",
        "created_at",
        "uploaded_at",
        "etag",
        "sha256",
        "sha256_verified",
        "rejected_reason",
        "trashed_at",
        "download_expires_at",
    ):
        value = details.get(key)
        if value is None:
            continue
        if key == "size":
            value = f"{value} bytes ({human_size(value)})"
        table.add_row(key, str(value))
    ctx.out.print(table)


@cli.command()
@json_option
@pass_context
def usage(ctx: Context) -> None:
    """How much of your quota your files use."""
    try:
        answer = ctx.api.usage()
    except ApiError as exc:
        # A stage from before quotas has no such route; API Gateway (and
        # chalice local) answer an unknown path with a 403 of their own.
        if exc.status in (403, 404) and exc.code.startswith("HTTP"):
            raise ClientError(
                "this stage does not report usage (it has no GET /usage)"
            ) from exc
        raise
    if ctx.as_json:
        ctx.emit(answer)
        return
    files, size = answer["files"], answer["bytes"]
    ctx.out.print(
        f"files  {files['used']:,} of {files['limit']:,}"
        f" ({_percent(files['used'], files['limit'])})"
    )
    ctx.out.print(
        f"bytes  {human_size(size['used'])} of {human_size(size['limit'])}"
        f" ({_percent(size['used'], size['limit'])})"
    )


# --- writing -----------------------------------------------------------------------


@cli.command()
@click.argument(
    "sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option("--to", "folder", default="", help="The remote folder (default: top).")
@click.option("--name", help="The remote name of a single file.")
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 16), default=DEFAULT_JOBS, show_default=True
)
@click.option(
    "--no-wait", is_flag=True, help="Do not wait until each file is available."
)
@click.option("--timeout", type=float, default=SETTLE_TIMEOUT, show_default=True)
@json_option
@pass_context
def put(
    ctx: Context,
    sources: tuple[Path, ...],
    folder: str,
    name: str | None,
    jobs: int,
    no_wait: bool,
    timeout: float,
) -> None:
    """Upload files, and folders with everything in them.

    A folder keeps its name: `fm put photos --to 2026` makes 2026/photos/...
    """
    planned = plan(list(sources), folder, name)
    api = ctx.api
    cursor = None if no_wait else api.latest_cursor()
    with ctx.progress() as progress:
        overall = progress.add_task(
            f"{len(planned)} file(s)", total=sum(p.size for p in planned)
        )
        uploader = Uploader(api, jobs, lambda p: _RichMeter(progress, overall, p))
        outcomes = uploader.run(planned)
    sent = [o for o in outcomes if o.error is None]
    if cursor is not None and sent:
        _settle(ctx, cursor, sent, timeout)
    else:
        for outcome in sent:
            outcome.status = "UPLOADED"
    _report_put(ctx, outcomes)


class _RichMeter:
    """One file's bar, whose bytes also count toward the overall bar.

    An upload reads its file twice: first to hash it (the bar says so, and
    the overall bar waits), then to send it, which starts with `restart`.
    """

    def __init__(self, progress: Progress, overall: TaskID, planned: Planned) -> None:
        self._progress = progress
        self._overall = overall
        self._name = planned.name
        self._task = progress.add_task(f"hashing {planned.name}", total=planned.size)
        self._hashing = True
        self._sent = 0

    def advance(self, amount: int) -> None:
        self._progress.advance(self._task, amount)
        if not self._hashing:
            self._sent += amount
            self._progress.advance(self._overall, amount)

    def restart(self) -> None:
        self._hashing = False
        self._progress.advance(self._overall, -self._sent)
        self._progress.reset(self._task, description=self._name)
        self._sent = 0

    def close(self) -> None:
        self._progress.remove_task(self._task)


def _settle(ctx: Context, cursor: str, sent: list[Outcome], timeout: float) -> None:
    by_id = {o.file_id: o for o in sent if o.file_id}
    wanted = {file_id: frozenset({"created", "rejected"}) for file_id in by_id}
    ctx.note(f"Waiting until {len(wanted)} file(s) are available…")
    seen = feed.await_changes(ctx.api, cursor, wanted, timeout=timeout)
    for file_id, change in seen.items():
        outcome = by_id[file_id]
        if change["type"] == "created":
            outcome.status = "AVAILABLE"
            continue
        outcome.status = "REJECTED"
        reason = ctx.api.describe(file_id).get("rejected_reason") or "no reason given"
        outcome.error = f"the service rejected the upload: {reason}"


def _report_put(ctx: Context, outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.error is not None]
    if ctx.as_json:
        ctx.emit([o.as_json() for o in outcomes])
    else:
        for outcome in outcomes:
            if outcome.error is None:
                ctx.out.print(
                    f"{outcome.status.lower():<9} {outcome.planned.name}"
                    f"  ({human_size(outcome.planned.size)})",
                    markup=False,
                )
    for outcome in failed:
        message = one_line(f"{outcome.planned.name}: {outcome.error}")
        click.echo(f"fm: error: {message}", err=True)
    if failed:
        raise SystemExit(1)


@cli.command()
@click.argument("name")
@click.argument("destination", required=False, type=click.Path(path_type=Path))
@click.option("-f", "--force", is_flag=True, help="Replace a local file of that name.")
@json_option
@pass_context
def get(ctx: Context, name: str, destination: Path | None, force: bool) -> None:
    """Download a file and check its SHA-256 against the index."""
    found = ctx.api.find(name)
    details = ctx.api.describe(found["file_id"])
    url = details.get("download_url")
    if not url:
        raise ClientError(f"{details['name']} is {details['status']}, not available")
    base_name = details["name"].rsplit("/", 1)[-1]
    path = destination or Path(base_name)
    if path.is_dir():
        path = path / base_name
    if path.exists() and not force:
        raise ClientError(f"{path} exists: pass --force to replace it")
    with ctx.progress() as progress, new_http_client() as http:
        hidden = progress.add_task("", visible=False)
        meter = _RichMeter(progress, hidden, _as_planned(details, path))
        got = transfer.download(
            http, ctx.api.retry, url, path, meter, details.get("sha256")
        )
    checked = details.get("sha256") is not None
    if ctx.as_json:
        ctx.emit(
            {
                "name": details["name"],
                "file_id": details["file_id"],
                "path": str(got.path),
                "size": got.size,
                "sha256": got.sha256,
                "sha256_checked": checked,
            }
        )
        return
    verdict = "SHA-256 matches the index" if checked else "no SHA-256 in the index"
    ctx.out.print(f"{got.path}  ({human_size(got.size)}, {verdict})", markup=False)


def _as_planned(details: dict[str, Any], path: Path) -> Planned:
    return Planned(path, details["name"], details["size"], details["content_type"])


@cli.command()
@click.argument("names", nargs=-1, required=True)
@click.option("-r", "--recursive", is_flag=True, help="Names are folders: all below.")
@click.option("--no-wait", is_flag=True, help="Return once the delete is accepted.")
@click.option("--timeout", type=float, default=SETTLE_TIMEOUT, show_default=True)
@json_option
@pass_context
def rm(
    ctx: Context, names: tuple[str, ...], recursive: bool, no_wait: bool, timeout: float
) -> None:
    """Delete files, and wait until the change feed says they are gone."""
    api = ctx.api
    targets = _files_to_delete(api, names, recursive)
    cursor = None if no_wait else api.latest_cursor()
    accepted = {}
    for found in targets:
        answer = api.delete(found["file_id"])
        accepted[found["file_id"]] = (found["name"], answer["status"])
    waiting = {
        file_id: frozenset({"deleted"})
        for file_id, (_, status) in accepted.items()
        if status == "DELETING"
    }
    if cursor is not None and waiting:
        ctx.note(f"Waiting until {len(waiting)} file(s) are deleted…")
        feed.await_changes(api, cursor, waiting, timeout=timeout)
    final = "DELETING" if no_wait else "DELETED"
    result = [
        {
            "file_id": file_id,
            "name": name,
            "status": final if status == "DELETING" else status,
        }
        for file_id, (name, status) in accepted.items()
    ]
    if ctx.as_json:
        ctx.emit(result)
        return
    for entry in result:
        ctx.out.print(f"{entry['status'].lower():<9} {entry['name']}", markup=False)


def _files_to_delete(
    api: Api, names: tuple[str, ...], recursive: bool
) -> list[dict[str, Any]]:
    if not recursive:
        return [api.find(name) for name in names]
    found: list[dict[str, Any]] = []
    for name in names:
        prefix = folder_prefix(name)
        pages = api.pages(prefix, page_size=1000)
        below = [item for page in pages for item in page["items"]]
        if not below:
            where = prefix or "the top folder"
            raise ApiError(404, "FileNotFound", f"no files in {where}")
        found += below
    return found


@cli.command()
@click.argument("source")
@click.argument("destination")
@json_option
@pass_context
def mv(ctx: Context, source: str, destination: str) -> None:
    """Rename or move a file (by name or id); only the index changes.

    A DESTINATION ending in `/` is a folder: the file keeps its base name.
    """
    found = ctx.api.find(source)
    new_name = _destination_name(found["name"], destination)
    moved = ctx.api.rename(found["file_id"], new_name)
    if ctx.as_json:
        ctx.emit(moved)
        return
    ctx.out.print(f"{found['name']} → {moved['name']}", markup=False)


def _destination_name(current: str, destination: str) -> str:
    if destination.endswith("/"):
        return folder_prefix(destination) + current.rsplit("/", 1)[-1]
    return destination


@cli.command(name="trash")
@click.argument("names", nargs=-1, required=True)
@json_option
@pass_context
def trash_files(ctx: Context, names: tuple[str, ...]) -> None:
    """Move files to the trash: out of listings, restorable, still counted."""
    api = ctx.api
    trashed = [api.trash(api.find(name)["file_id"]) for name in names]
    if ctx.as_json:
        ctx.emit(trashed)
        return
    for entry in trashed:
        ctx.out.print(f"trashed   {entry['name']}", markup=False)


@cli.command()
@click.argument("names", nargs=-1, required=True)
@json_option
@pass_context
def restore(ctx: Context, names: tuple[str, ...]) -> None:
    """Bring files back from the trash (by the name they had, or by id).

    A file whose name was taken meanwhile comes back as `name (1).ext`.
    """
    api = ctx.api
    result = []
    for name in names:
        found = api.find_trashed(name)
        restored = api.restore(found["file_id"])
        result.append({**restored, "previous_name": found["name"]})
    if ctx.as_json:
        ctx.emit(result)
        return
    for entry in result:
        renamed = entry["name"] != entry["previous_name"]
        line = f"restored  {entry['previous_name']}"
        ctx.out.print(line + (f" as {entry['name']}" if renamed else ""), markup=False)


@cli.command()
@click.option("--from-start", is_flag=True, help="From the oldest change kept.")
@click.option("--interval", type=float, default=feed.POLL_SECONDS, show_default=True)
@click.option("--count", type=click.IntRange(1), help="Stop after N changes.")
@click.option("--timeout", type=float, help="Stop after this many seconds.")
@json_option
@pass_context
def watch(
    ctx: Context,
    from_start: bool,
    interval: float,
    count: int | None,
    timeout: float | None,
) -> None:
    """Follow the change feed: one line per change (JSON lines with --json)."""
    api = ctx.api
    cursor = None if from_start else api.latest_cursor()
    deadline = None if timeout is None else time.monotonic() + timeout
    ctx.note("Watching for changes (Ctrl-C stops)…")
    seen = 0
    with _interrupt_ends_quietly():
        for change in _changes_until(api, cursor, interval, deadline):
            if ctx.as_json:
                click.echo(json.dumps(change, ensure_ascii=False), nl=True)
            else:
                when = _local_time(change["time"])
                ctx.out.print(f"{when}  {_describe_change(change)}", markup=False)
            sys.stdout.flush()
            seen += 1
            if count is not None and seen >= count:
                return


def _describe_change(change: dict[str, Any]) -> str:
    kind, name = change["type"], change["name"]
    before = change.get("previous_name")
    if kind == "renamed" and before:
        return f"{kind:<8} {before} → {name}"
    if kind == "restored" and before and before != name:
        return f"{kind:<8} {before} as {name}"
    return f"{kind:<8} {name}"


def _changes_until(
    api: Api, cursor: str | None, interval: float, deadline: float | None
) -> Iterator[dict[str, Any]]:
    def sleep(seconds: float) -> None:
        if deadline is not None and time.monotonic() + seconds > deadline:
            raise _Deadline
        time.sleep(seconds)

    try:
        yield from feed.follow(api, cursor, interval=interval, sleep=sleep)
    except _Deadline:
        return


class _Deadline(Exception):
    pass


@contextmanager
def _interrupt_ends_quietly() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        click.echo("", err=True)


# --- formatting --------------------------------------------------------------------


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def _local_time(value: str | None) -> str:
    if not value:
        return "-"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _percent(used: int, limit: int) -> str:
    return f"{100 * used / limit:.0f}%" if limit else "no limit"


def main() -> None:
    cli(prog_name="fm")
