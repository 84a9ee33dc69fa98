"""A bounded load run against the local stack, ending in an audit.

    python scripts/load.py [--stack .local/stack.json] [--clients 20]
                           [--duration 30] [--settle-timeout 900]
                           [--connect-retries 3]

CLIENTS threads, each with its own HTTP session, run a random mix of create
and upload (a presigned POST straight to the local S3), list, read and
delete for DURATION seconds, all as one fresh user of the stack's pool.
Then the run waits (polling, with a deadline) until every upload it made
is AVAILABLE and every delete it asked for is done, and prints:

- per operation: count, answers by status, latency median / p95 / max;
- the 5xx count (anything but zero fails the run);
- an audit: the user's objects in the bucket, records in the index, files
  listed by the API and changes in the feed, all against what the run
  did; and the messages waiting in the dead-letter and failures queues.

It exits non-zero when anything is off. It sends traffic only to loopback
addresses (the API, the local AWS, the upload forms' URLs), refuses any
other, and stops by itself. Needs requests and boto3.

`chalice local` may reset a connection under load; a request whose
connection was refused or reset before any answer is sent again, at most
CONNECT_RETRIES times, and each such retry is counted. Creates carry an
Idempotency-Key, so one sent again is never a second file.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import requests
from botocore.config import Config

DEFAULT_STACK_FILE = Path(__file__).resolve().parents[1] / ".local" / "stack.json"
HTTP_TIMEOUT = (5, 60)  # connect, read
POLL_INTERVAL_SECONDS = 1.0
MAX_FILE_BYTES = 4096
# How often each client picks each operation (a delete needs a file).
MIX = {"create+upload": 35, "list": 20, "read": 30, "delete": 15}
EXPECTED = {
    "create": {201},
    "upload": {200, 201, 204},
    "list": {200},
    "read": {200},
    "delete": {202},
}
OPERATIONS = tuple(EXPECTED)


class LoadError(Exception):
    """The run could not start, or refused a target."""


# --- where traffic may go --------------------------------------------------------


def require_loopback(url: str, what: str) -> None:
    """Refuse any URL whose host is not a loopback address (nor localhost)."""
    host = urlsplit(url).hostname
    if host is not None and host.lower() == "localhost":
        return
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise LoadError(f"{what} {url!r} is not on a loopback address; refused")


# --- the stack and the user -----------------------------------------------------


@dataclass(frozen=True)
class Stack:
    state: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Stack:
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise LoadError(f"{path} does not exist: is `make dev` running?") from exc
        require_loopback(state["api_url"], "the API")
        require_loopback(state["aws_endpoint_url"], "the local AWS")
        return cls(state)

    @property
    def api_url(self) -> str:
        return str(self.state["api_url"]).rstrip("/")

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.state["aws_endpoint_url"],
            region_name=self.state["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto takes any key
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )


def new_user(stack: Stack) -> tuple[str, str]:
    """A fresh confirmed user of the stack's pool: (ID token, sub)."""
    cognito = stack.client("cognito-idp")
    pool = stack.state["user_pool_id"]
    username = f"load-{uuid.uuid4().hex[:12]}"
    password = f"Load-{uuid.uuid4().hex}-1a"
    cognito.admin_create_user(
        UserPoolId=pool, Username=username, MessageAction="SUPPRESS"
    )
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=password, Permanent=True
    )
    answer = cognito.initiate_auth(
        ClientId=stack.state["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    token = str(answer["AuthenticationResult"]["IdToken"])
    return token, _claims(token)["sub"]


def _claims(token: str) -> dict[str, Any]:
    # Our own token, just issued: its claims are read, not checked.
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return claims


# --- what the clients saw ---------------------------------------------------------


@dataclass
class Tally:
    """Every client's calls, and the files the run made and deleted."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    reconnects: Counter[str] = field(default_factory=Counter)
    # What each kind of reset said, once: the evidence behind the count.
    reset_reasons: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    uploaded: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    def call(self, op: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[op].append(seconds)
            self.statuses[op][status] += 1
            if status not in EXPECTED[op]:
                self.failures.append(f"{op}: unexpected status {status}")

    def reconnect(self, op: str, error: Exception) -> None:
        with self.lock:
            self.reconnects[op] += 1
            self.reset_reasons[_root_cause(error)] += 1

    def fail(self, problem: str) -> None:
        with self.lock:
            self.failures.append(problem)

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500)


def _root_cause(error: BaseException) -> str:
    """The innermost error of a chain (requests wraps urllib3 wraps OSError)."""
    while True:
        inner = error.__cause__ or error.__context__
        nested = [a for a in error.args if isinstance(a, BaseException)]
        if inner is None and nested:
            inner = nested[-1]
        if inner is None:
            return f"{type(error).__name__}: {error}"[:120]
        error = inner


class LoadClient:
    """One client: its own session, its own files, a random mix of calls."""

    def __init__(
        self, number: int, stack: Stack, token: str, run: str, tally: Tally, args: Any
    ) -> None:
        self.number = number
        self.stack = stack
        self.folder = f"{run}/c{number:02d}/"
        self.tally = tally
        self.retries = args.connect_retries
        self.random = random.Random(f"{run}-{number}")  # noqa: S311 - not crypto
        self.session = requests.Session()
        self.session.headers["Authorization"] = token
        # Uploads carry no token: the form is the whole authorisation, and
        # the local S3 would read the header as a signature of its own.
        self.uploads = requests.Session()
        self.live: list[str] = []
        self.made = 0

    def run(self, until: float) -> None:
        try:
            while time.monotonic() < until:
                self.step()
        except requests.RequestException as exc:
            self.tally.fail(f"client {self.number}: {type(exc).__name__}: {exc}")
        finally:
            self.session.close()
            self.uploads.close()

    def step(self) -> None:
        choices = [op for op in MIX if op != "delete" or self.live]
        if not self.live:
            choices = [op for op in choices if op != "read"]
        op = self.random.choices(choices, [MIX[c] for c in choices])[0]
        actions: dict[str, Callable[[], None]] = {
            "create+upload": self.create_and_upload,
            "list": self.list_folder,
            "read": self.read,
            "delete": self.delete,
        }
        actions[op]()

    def request(
        self, op: str, method: str, url: str, session: Any = None, **kwargs: Any
    ) -> Any:
        """One call, sent again only if no answer came at all (a reset)."""
        for attempt in range(self.retries + 1):
            started = time.perf_counter()
            try:
                answer = (session or self.session).request(
                    method, url, timeout=HTTP_TIMEOUT, **kwargs
                )
            except requests.ConnectionError as exc:
                if attempt == self.retries:
                    raise
                self.tally.reconnect(op, exc)
                continue
            self.tally.call(op, time.perf_counter() - started, answer.status_code)
            return answer
        raise AssertionError("unreachable")

    def create_and_upload(self) -> None:
        self.made += 1
        size = self.random.randint(1, MAX_FILE_BYTES)
        name = f"{self.folder}f{self.made:05d}.bin"
        created = self.request(
            "create",
            "POST",
            f"{self.stack.api_url}/files",
            json={"name": name, "size": size, "content_type": "text/plain"},
            # The same key on every attempt: a create the app did see before
            # its connection was reset answers the same file again.
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if created.status_code != 201:
            return
        body = created.json()
        form = body["upload"]
        require_loopback(form["url"], "an upload form")
        parts = [(k, (None, v)) for k, v in form["fields"].items()]
        parts.append(("file", ("f.bin", self.random.randbytes(size), "text/plain")))
        sent = self.request(
            "upload", "POST", form["url"], session=self.uploads, files=parts
        )
        if sent.status_code in EXPECTED["upload"]:
            with self.tally.lock:
                self.tally.uploaded.add(body["file_id"])
            self.live.append(body["file_id"])

    def list_folder(self) -> None:
        self.request(
            "list",
            "GET",
            f"{self.stack.api_url}/files",
            params={"prefix": self.folder, "limit": 100},
        )

    def read(self) -> None:
        file_id = self.random.choice(self.live)
        self.request("read", "GET", f"{self.stack.api_url}/files/{file_id}")

    def delete(self) -> None:
        file_id = self.live.pop(self.random.randrange(len(self.live)))
        answer = self.request(
            "delete", "DELETE", f"{self.stack.api_url}/files/{file_id}"
        )
        if answer.status_code == 202:
            with self.tally.lock:
                self.tally.deleted.add(file_id)


# --- settling and the audit --------------------------------------------------------


@dataclass
class Index:
    """The user's file records, read straight from the table."""

    statuses: dict[str, str]

    @classmethod
    def read(cls, stack: Stack, sub: str) -> Index:
        # The index keeps a user's records under pk USER#<sub>, sk FILE#<id>
        # (chalicelib/adapters/dynamodb_index.py).
        dynamodb = stack.client("dynamodb")
        pages = dynamodb.get_paginator("query").paginate(
            TableName=stack.state["table"],
            KeyConditionExpression="pk = :pk AND begins_with(sk, :file)",
            ExpressionAttributeValues={
                ":pk": {"S": f"USER#{sub}"},
                ":file": {"S": "FILE#"},
            },
            ConsistentRead=True,
        )
        return cls(
            {
                item["file_id"]["S"]: item["status"]["S"]
                for page in pages
                for item in page["Items"]
            }
        )


def settle(
    stack: Stack, token: str, sub: str, tally: Tally, timeout: float
) -> tuple[Index, Counter[tuple[str, str]], float]:
    """Wait until uploads are AVAILABLE, deletes gone and the feed has told.

    The index, the feed's changes, and how long it took.
    """
    kept = tally.uploaded - tally.deleted
    started = time.monotonic()
    deadline = started + timeout
    changes: Counter[tuple[str, str]] = Counter()
    while True:
        index = Index.read(stack, sub)
        available = {i for i, s in index.statuses.items() if s == "AVAILABLE"}
        if kept <= available and not (tally.deleted & set(index.statuses)):
            # The feed's consumer trails the index: read it only now.
            changes = feed_changes(stack, token)
            if not feed_problems(changes, tally):
                break
        if time.monotonic() > deadline:
            break
        time.sleep(POLL_INTERVAL_SECONDS)
    return index, changes, time.monotonic() - started


def bucket_ids(stack: Stack, sub: str) -> set[str]:
    s3 = stack.client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=stack.state["bucket"], Prefix=f"files/{sub}/"
    )
    return {o["Key"].rsplit("/", 1)[-1] for p in pages for o in p.get("Contents", [])}


def listed_ids(stack: Stack, token: str, run: str) -> set[str]:
    session = requests.Session()
    session.headers["Authorization"] = token
    found: set[str] = set()
    params: dict[str, Any] = {"prefix": f"{run}/", "limit": 1000}
    while True:
        answer = session.get(f"{stack.api_url}/files", params=params, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        found |= {item["file_id"] for item in body["items"]}
        if not body["next_cursor"]:
            return found
        params["cursor"] = body["next_cursor"]


def feed_changes(stack: Stack, token: str) -> Counter[tuple[str, str]]:
    """(kind, file id) of every change in the user's feed, counted."""
    session = requests.Session()
    session.headers["Authorization"] = token
    changes: Counter[tuple[str, str]] = Counter()
    params: dict[str, Any] = {"limit": 1000}
    while True:
        answer = session.get(f"{stack.api_url}/changes", params=params, timeout=60)
        answer.raise_for_status()
        body = answer.json()
        changes.update((c["type"], c["file_id"]) for c in body["changes"])
        if not body["has_more"]:
            return changes
        params["cursor"] = body["cursor"]


def feed_problems(changes: Counter[tuple[str, str]], tally: Tally) -> list[str]:
    problems = []
    kept = tally.uploaded - tally.deleted
    for (kind, file_id), count in changes.items():
        if count > 1:
            problems.append(f"feed: {kind} of {file_id} {count} times")
        if kind == "rejected":
            problems.append(f"feed: {file_id} rejected")
    for file_id in kept:
        if changes[("created", file_id)] != 1 or changes[("deleted", file_id)]:
            problems.append(f"feed: kept file {file_id} not created exactly once")
    for file_id in tally.deleted:
        if changes[("deleted", file_id)] != 1:
            problems.append(f"feed: deleted file {file_id} not deleted exactly once")
    return problems


def waiting_in(stack: Stack) -> dict[str, int]:
    sqs = stack.client("sqs")
    queues = {
        "delete DLQ": stack.state["delete_dlq_url"],
        "change feed DLQ": stack.state["change_feed_dlq_url"],
        "S3 failures": stack.state["s3_failures_queue_url"],
    }
    counts = {}
    for label, url in queues.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        counts[label] = sum(int(v) for v in attributes.values())
    return counts


def audit(
    stack: Stack, token: str, sub: str, run: str, tally: Tally, timeout: float
) -> list[str]:
    index, changes, waited = settle(stack, token, sub, tally, timeout)
    kept = tally.uploaded - tally.deleted
    stored = bucket_ids(stack, sub)
    listed = listed_ids(stack, token, run)
    problems = feed_problems(changes, tally)
    dead = waiting_in(stack)
    statuses = Counter(index.statuses.values())
    print(f"\nwaited {waited:.1f} s for the run to settle")
    print("audit")
    rows = [
        ("uploads accepted", len(tally.uploaded), ""),
        ("deletes accepted", len(tally.deleted), ""),
        ("files expected", len(kept), ""),
        ("objects in the bucket", len(stored), ""),
        ("records in the index", len(index.statuses), str(dict(statuses))),
        ("files listed", len(listed), ""),
        ("changes in the feed", sum(changes.values()), ""),
    ]
    rows += [(f"waiting in {label}", count, "") for label, count in dead.items()]
    for label, count, note in rows:
        print(f"  {label:<28}{count:6d}  {note}".rstrip())
    if stored != kept:
        problems.append(
            f"bucket: {len(stored - kept)} unexpected, {len(kept - stored)} missing"
        )
    if set(index.statuses) != kept or set(statuses) - {"AVAILABLE"}:
        problems.append(f"index: {dict(statuses)} for {len(kept)} expected files")
    if listed != kept:
        problems.append(
            f"listing: {len(listed - kept)} unexpected, {len(kept - listed)} missing"
        )
    problems += [f"{label}: {n} message(s)" for label, n in dead.items() if n]
    return problems


# --- the report ------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def print_calls(tally: Tally, clients: int, duration: float) -> None:
    total = sum(len(v) for v in tally.latencies.values())
    print(
        f"{clients} clients, {duration:.1f} s, {total} calls, {total / duration:.1f}/s"
    )
    print(
        f"{'operation':<10}{'count':>7}{'median':>9}{'p95':>9}{'max':>9}"
        "  (ms)  statuses  resets retried"
    )
    for op in OPERATIONS:
        times = tally.latencies.get(op, [])
        if not times:
            print(f"{op:<10}{0:>7}")
            continue
        p95 = (
            statistics.quantiles(times, n=20, method="inclusive")[-1]
            if len(times) > 1
            else times[0]
        )
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(tally.statuses[op].items()))
        print(
            f"{op:<10}{len(times):>7}{_ms(statistics.median(times))} {_ms(p95)}"
            f" {_ms(max(times))}        {statuses}  {tally.reconnects[op]}"
        )
    for reason, count in tally.reset_reasons.items():
        print(f"reset and sent again ({count}x): {reason}")
    print(f"5xx answers: {tally.server_errors}")


def run(args: argparse.Namespace) -> int:
    stack = Stack.load(args.stack)
    token, sub = new_user(stack)
    run_name = f"load-{uuid.uuid4().hex[:8]}"
    tally = Tally()
    clients = [
        LoadClient(n, stack, token, run_name, tally, args) for n in range(args.clients)
    ]
    started = time.monotonic()
    until = started + args.duration
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        for done in [pool.submit(c.run, until) for c in clients]:
            done.result()
    print_calls(tally, args.clients, time.monotonic() - started)
    problems = list(tally.failures)
    if tally.server_errors:
        problems.append(f"{tally.server_errors} answers were 5xx")
    problems += audit(stack, token, sub, run_name, tally, args.settle_timeout)
    if problems:
        print(f"\nload: FAILED, {len(problems)} problem(s)")
        for problem in problems[:20]:
            print(f"  {problem}")
        return 1
    print("\nload: OK")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", type=Path, default=DEFAULT_STACK_FILE)
    parser.add_argument("--clients", type=int, default=20)
    # Longer runs outpace the local event pipeline (see the README).
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument(
        "--settle-timeout", type=float, default=900.0, help="seconds to settle"
    )
    parser.add_argument("--connect-retries", type=int, default=3)
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 64 or not 0 < args.duration <= 1800:
        parser.error("at most 64 clients for at most 1800 s")
    try:
        return run(args)
    except LoadError as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
