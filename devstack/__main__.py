"""Command line of the local stack.

    python -m devstack [--api-port 8000] [--moto-port 5005] [--no-autoreload]
                       [--state-file .local/stack.json] [--project-dir .]
    python -m devstack token [--state-file ...] [--username U --password P]
    python -m devstack provision [--moto-port N]     (on a moto already running)
    python -m devstack sync-config   (write moto's Cognito ids into the config)
    python -m devstack runner ...    (started by the stack itself)

This is the only module that prints: the rest log.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from devstack import auth, config, dead_letters, logs, resources, runner
from devstack.processes import StartupError, free_port
from devstack.provision import (
    CognitoIds,
    ProvisioningError,
    Target,
    provision,
    provision_cognito,
)
from devstack.state import DEFAULT_STATE_FILE, StateError, read_state
from devstack.supervisor import LocalStack, UpOptions, start_moto

SUBCOMMANDS = (
    "up",
    "token",
    "add-user",
    "replay",
    "dead-letters",
    "provision",
    "sync-config",
    "runner",
)
_EXPECTED_ERRORS = (
    StartupError,
    ProvisioningError,
    config.ConfigError,
    StateError,
)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0] not in SUBCOMMANDS:
        args_list.insert(0, "up")
    command, rest = args_list[0], args_list[1:]
    if command == "runner":
        return runner.main(rest)
    handlers = {
        "up": _up,
        "token": _token,
        "add-user": _add_user,
        "replay": _replay,
        "dead-letters": _dead_letters,
        "provision": _provision,
        "sync-config": _sync_config,
    }
    try:
        return handlers[command](rest)
    except _EXPECTED_ERRORS as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 2


def _up(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Start moto, provision it, run the event runner and chalice local.",
    )
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--moto-port", type=int, help="default: the config's")
    parser.add_argument("--web-port", type=int, default=8080, help="the web page's")
    parser.add_argument("--no-autoreload", action="store_true")
    parser.add_argument(
        "--state-file", type=Path, help=f"default: {DEFAULT_STATE_FILE}"
    )
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    logs.configure()
    options = UpOptions(
        project_dir=args.project_dir.resolve(),
        api_port=args.api_port,
        moto_port=args.moto_port,
        autoreload=not args.no_autoreload,
        state_file=args.state_file,
        web_port=args.web_port,
    )
    stack = LocalStack(options)
    _raise_on_signals()
    try:
        state = stack.start()
        print(_banner(state, options), flush=True)
        return stack.watch(threading.Event())
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def _raise_on_signals() -> None:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)


def _banner(state: dict[str, Any], options: UpOptions) -> str:
    state_arg = ""
    if options.state_file is not None:
        state_arg = f" --state-file {options.state_path}"
    python = os.path.relpath(sys.executable)
    token = f"{python} -m devstack token{state_arg}"
    fm = os.path.relpath(Path(sys.executable).parent / "fm")
    stack_arg = ""
    if options.state_file is not None:
        stack_arg = f" --stack {options.state_path}"
    demo = state["demo_user"]
    return "\n".join(
        [
            "",
            "Local stack is up.",
            f"  web page       {state.get('web_url') or '(no web/ folder)'}"
            "  (sign in as the demo user)",
            f"  API            {state['api_url']}",
            f"  AWS (moto)     {state['aws_endpoint_url']}  region {state['region']}",
            f"  bucket         {state['bucket']}",
            f"  table          {state['table']}",
            f"  event bus      {state['event_bus']}",
            f"  delete queue   {state['delete_queue']}  (DLQ {state['delete_dlq']})",
            f"  change feed    {state['change_feed_queue']}"
            f"  (DLQ {state['change_feed_dlq']})",
            f"  bus tap        {state['bus_tap_queue']}  (every event of ours)",
            f"  S3 failures    {state['s3_failures_queue']}",
            f"  user pool      {state['user_pool_id']}",
            f"  app client     {state['user_pool_client_id']}",
            f"  demo user      {demo['username']} / {demo['password']}",
            f"  state file     {options.state_path}",
            f"  moto log       {state['moto_log']}",
            "",
            f"CLI:         {fm}{stack_arg} login --demo"
            "   (then: fm ls, fm put FILE, fm --help)",
            f"ID token:    {token}",
            f'First call:  curl -H "Authorization: $({token})" '
            f"{state['api_url']}/files",
            "Ctrl-C stops everything.",
            "",
        ]
    )


def _token(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack token",
        description="Print an ID token of the running stack's demo user.",
    )
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args(argv)
    state = read_state(args.state_file)
    print(auth.id_token(state, args.username, args.password))
    return 0


def _add_user(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack add-user",
        description="Add a confirmed user to the running stack's pool.",
    )
    parser.add_argument("username")
    parser.add_argument("password", help="12+ characters: upper, lower, digit, symbol")
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    args = parser.parse_args(argv)
    auth.add_user(read_state(args.state_file), args.username, args.password)
    print(
        f"user {args.username} added; token: python -m devstack token "
        f"--username {args.username} --password ..."
    )
    return 0


def _replay(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack replay",
        description=(
            "Replay the bus archive's messages of the last MINUTES minutes to "
            "every rule of the bus, as `aws events start-replay` does on AWS."
        ),
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    args = parser.parse_args(argv)
    state = read_state(args.state_file)
    events = Target(state["aws_endpoint_url"], state["region"]).client("events")
    archive = events.describe_archive(ArchiveName=state["event_archive"])
    end = datetime.now(UTC)
    replay = events.start_replay(
        ReplayName=f"devstack-{end:%Y%m%dT%H%M%S}",
        EventSourceArn=archive["ArchiveArn"],
        EventStartTime=end - timedelta(minutes=args.minutes),
        EventEndTime=end,
        Destination={"Arn": state["event_bus_arn"]},
    )
    print(f"replay {replay['ReplayArn'].rsplit('/', 1)[-1]}: {replay['State']}")
    return 0


def _dead_letters(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack dead-letters",
        description=(
            "Show what waits in each consumer's dead-letter queue and in the "
            "S3 handler's failures queue, and with --redrive send it back: "
            "messages to their consumer's queue, failed S3 events to the S3 "
            "handler."
        ),
    )
    parser.add_argument("--redrive", action="store_true")
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE)
    args = parser.parse_args(argv)
    state = read_state(args.state_file)
    sqs = Target(state["aws_endpoint_url"], state["region"]).client("sqs")
    queues = [
        (name, state[f"{name}_dlq_url"], state[f"{name}_queue_url"], _as_is)
        for name in ("delete", "change_feed")
    ]
    # LIMITATION: the failures queues of `on_cw_event` handlers (made by the
    # runner, not named in the state file) are neither shown nor sent back.
    queues.append(
        (
            "s3_failures",
            state["s3_failures_queue_url"],
            state["s3_events_queue_url"],
            dead_letters.s3_event_of,
        )
    )
    for name, source, target, body_of in queues:
        if args.redrive:
            moved = dead_letters.drain(sqs, source)
            dead_letters.send_back(sqs, source, target, moved, body_of)
            print(f"{name}: {len(moved)} message(s) sent back")
        else:
            for body in dead_letters.peek(sqs, source):
                print(f"{name}: {body}")
            print(f"{name}: {dead_letters.depth(sqs, source)} waiting")
    return 0


def _as_is(body: str) -> str:
    return body


def _provision(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack provision",
        description="Create the local stack's resources on a running moto server.",
    )
    parser.add_argument("--moto-port", type=int, help="default: the config's")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    logs.configure(stream=sys.stderr)
    stage = config.load_stage(args.project_dir)
    if args.moto_port:
        stage = config.with_endpoint(
            stage, config.endpoint_on_port(stage, args.moto_port)
        )
    names = resources.StackNames.from_env(stage.app_name, stage.stage, stage.env)
    expected = CognitoIds(
        stage.require("COGNITO_USER_POOL_ID"), stage.require("COGNITO_APP_CLIENT_ID")
    )
    stack = provision(Target.from_env(stage.env), resources.stack_spec(names), expected)
    print(json.dumps(stack.to_dict(), indent=2))
    return 0


def _sync_config(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack sync-config",
        description=(
            "Start a throwaway moto, create the user pool and client, and write "
            "their ids and JWKS URL into .chalice/config.json's local stage."
        ),
    )
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    logs.configure(stream=sys.stderr)
    project_dir = args.project_dir.resolve()
    stage = config.load_stage(project_dir)
    port = free_port()
    stage = config.with_endpoint(stage, config.endpoint_on_port(stage, port))
    names = resources.StackNames.from_env(stage.app_name, stage.stage, stage.env)
    moto = start_moto("127.0.0.1", port, log_path=Path(os.devnull))
    try:
        ids = provision_cognito(
            Target.from_env(stage.env), resources.stack_spec(names).cognito
        )
    finally:
        moto.stop()
    changed = config.write_cognito_ids(
        project_dir, stage.stage, ids.user_pool_id, ids.user_pool_client_id
    )
    verb = "updated" if changed else "already holds"
    print(
        f"{config.CONFIG_FILE} {verb} pool {ids.user_pool_id}, client "
        f"{ids.user_pool_client_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
