"""The web page in headless Chromium, served from another origin than the
API, as a user meets it: sign in, browse, drop files, download, rename,
trash, restore, delete.

Screenshots of each step land in .local/artifacts/page/. The tests need
Debian's `chromium` (`.ci/run` installs it); without it they are skipped,
and the summary says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devstack.auth import id_token
from tests.clients.conftest import ARTIFACTS, Account, fill_byte_quota, new_account
from tests.e2e.helpers import HTTP_TIMEOUT
from tests.e2e.stack import ROOT, wait_until

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "page"
PAGE_SCRIPT = ROOT / "web" / "app.js"
# Generous for a page: each step waits on S3 events and the change feed.
STEP_MS = 30_000


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "Chromium is not installed (apt-get install chromium): "
            "the web page was NOT tested in a browser"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # The system's browser: Playwright downloads none of its own.
        launched = playwright.chromium.launch(executable_path=path)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        accept_downloads=True, viewport={"width": 1000, "height": 720}
    )
    opened = context.new_page()
    uncaught: list[str] = []
    opened.on("pageerror", lambda error: uncaught.append(str(error)))
    yield opened
    context.close()
    assert uncaught == [], f"the page threw: {uncaught}"


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, stack: dict[str, Any], account: Account) -> None:
    from playwright.sync_api import expect

    page.goto(stack["web_url"])
    page.fill("input[name=username]", account.username)
    page.fill("input[name=password]", account.password)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who")).to_have_text(account.username, timeout=STEP_MS)


def drop(page: Any, files: dict[str, bytes]) -> None:
    """Drop files on the drop zone, as dragging them from a desktop does."""
    transfer = page.evaluate_handle(
        """(files) => {
            const data = new DataTransfer();
            for (const [name, bytes] of Object.entries(files)) {
                data.items.add(new File([new Uint8Array(bytes)], name));
            }
            return data;
        }""",
        {name: list(content) for name, content in files.items()},
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})


def api_get(stack: dict[str, Any], account: Account, path: str) -> requests.Response:
    token = id_token(stack, account.username, account.password)
    return requests.get(
        f"{stack['api_url']}{path}",
        headers={"Authorization": token},
        timeout=HTTP_TIMEOUT,
    )


def api_post(stack: dict[str, Any], account: Account, path: str) -> None:
    token = id_token(stack, account.username, account.password)
    requests.post(
        f"{stack['api_url']}{path}",
        headers={"Authorization": token},
        timeout=HTTP_TIMEOUT,
    ).raise_for_status()


def put_by_api(stack: dict[str, Any], account: Account, name: str, body: bytes) -> None:
    token = id_token(stack, account.username, account.password)
    created = requests.post(
        f"{stack['api_url']}/files",
        json={"name": name, "size": len(body), "content_type": "text/plain"},
        headers={"Authorization": token},
        timeout=HTTP_TIMEOUT,
    ).json()
    form = created["upload"]
    requests.post(
        form["url"],
        data=form["fields"],
        files={"file": (name, body, "text/plain")},
        timeout=HTTP_TIMEOUT,
    ).raise_for_status()
    wait_until(
        lambda: (
            api_get(stack, account, f"/files/{created['file_id']}").json()["status"]
            == "AVAILABLE"
        ),
        f"{name} to become available",
    )


def test_the_page_is_served_from_another_origin_than_the_api(
    stack: dict[str, Any],
) -> None:
    page_origin = urlsplit(stack["web_url"])
    api_origin = urlsplit(stack["api_url"])

    config = requests.get(f"{stack['web_url']}/config.json", timeout=HTTP_TIMEOUT)

    assert (page_origin.hostname, page_origin.port) != (
        api_origin.hostname,
        api_origin.port,
    )
    assert config.json() == {
        "apiUrl": stack["api_url"],
        "region": stack["region"],
        "cognitoEndpoint": stack["aws_endpoint_url"],
        "userPoolId": stack["user_pool_id"],
        "clientId": stack["user_pool_client_id"],
        "demoUser": stack["demo_user"]["username"],
        "demoPassword": stack["demo_user"]["password"],
    }


def test_sign_in_browse_upload_download_and_delete(
    page: Any, stack: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    account = new_account(stack, "page")
    put_by_api(stack, account, "docs/2026/plan.txt", b"the plan")
    report = b"quarterly report\n" * 1000
    notes = os.urandom(300_000)

    sign_in(page, stack, account)
    expect(page.locator("tr.folder td.name")).to_have_text(["docs/"])
    shoot(page, "01-signed-in")
    page.get_by_role("link", name="docs/").click()
    page.get_by_role("link", name="2026/").click()
    expect(page.locator("#drop-folder")).to_have_text("docs/2026/")

    drop(page, {"report.txt": report, "notes.bin": notes})

    for name in ("report.txt", "notes.bin"):
        upload = page.locator("#uploads li", has_text=name)
        expect(upload.locator(".state")).to_have_text("available", timeout=STEP_MS)
        expect(upload.locator("progress")).to_have_attribute("value", "1")
    listed = page.locator("#listing tr.file td.name")
    expect(listed).to_have_text(["notes.bin", "plan.txt", "report.txt"])
    shoot(page, "02-uploaded")
    details = api_get(stack, account, "/files?prefix=docs/2026/report.txt").json()
    assert details["items"][0]["sha256"] == hashlib.sha256(report).hexdigest()

    drop(page, {"report.txt": b"another report"})
    conflict = page.locator("#uploads li", has_text="report.txt").first
    expect(conflict.locator(".state")).to_contain_text(
        "already exists", timeout=STEP_MS
    )
    expect(conflict.locator(".state")).to_contain_text("Rename the file")

    row = page.locator("tr.file", has_text="report.txt")
    with page.expect_download() as download:
        row.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "report.txt"
    assert Path(download.value.path()).read_bytes() == report

    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Really delete?").click()
    expect(row.locator(".state")).to_have_text("deleted", timeout=STEP_MS)
    shoot(page, "03-deleted")
    file_id = row.get_attribute("data-file-id")
    assert api_get(stack, account, f"/files/{file_id}").status_code == 404
    expect(page.locator("#activity li").first).to_contain_text(
        "deleted docs/2026/report.txt"
    )

    page.get_by_role("link", name="All files").click()
    expect(page.locator("tr.folder td.name")).to_have_text(["docs/"])


def test_rename_trash_and_restore_with_live_status(
    page: Any, stack: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    account = new_account(stack, "trash")
    put_by_api(stack, account, "plan.txt", b"the plan")
    put_by_api(stack, account, "notes.txt", b"the notes")
    sign_in(page, stack, account)
    listed = page.locator("#listing tr.file td.name")
    expect(listed).to_have_text(["notes.txt", "plan.txt"])

    page.once("dialog", lambda dialog: dialog.accept("archive/plan-v2.txt"))
    page.locator("tr.file", has_text="plan.txt").get_by_role(
        "button", name="Rename"
    ).click()

    expect(page.locator("tr.folder td.name")).to_have_text(["archive/"])
    expect(listed).to_have_text(["notes.txt"])
    expect(page.locator("#activity li").first).to_contain_text(
        "renamed plan.txt → archive/plan-v2.txt", timeout=STEP_MS
    )
    shoot(page, "06-renamed")

    row = page.locator("tr.file", has_text="notes.txt")
    row.get_by_role("button", name="Trash").click()
    expect(row.locator(".state")).to_have_text("in the trash")
    file_id = row.get_attribute("data-file-id")
    assert api_get(stack, account, f"/files/{file_id}").json()["status"] == "TRASHED"
    expect(page.locator("#activity li").first).to_contain_text(
        "trashed notes.txt", timeout=STEP_MS
    )
    # Another file takes the name meanwhile: the restore picks a numbered one.
    put_by_api(stack, account, "notes.txt", b"newer notes")
    plan_id = api_get(stack, account, "/files?prefix=archive/").json()["items"][0]
    api_post(stack, account, f"/files/{plan_id['file_id']}/trash")

    page.locator("#show-trash").click()
    trashed = page.locator("#trash-listing tr.file")
    expect(trashed.locator("td.name")).to_have_text(
        ["archive/plan-v2.txt", "notes.txt"]
    )
    expect(page.locator("#trash-note")).to_contain_text("days after")
    shoot(page, "07-trash")
    restored = trashed.filter(has_text="notes.txt")
    restored.get_by_role("button", name="Restore").click()
    expect(restored.locator(".state")).to_have_text("restored as notes (1).txt")
    forever = trashed.filter(has_text="plan-v2.txt")
    forever.get_by_role("button", name="Delete forever").click()
    forever.get_by_role("button", name="Really delete?").click()
    expect(forever.locator(".state")).to_have_text("deleted", timeout=STEP_MS)
    shoot(page, "08-restored")
    gone = api_get(stack, account, f"/files/{plan_id['file_id']}")
    assert gone.status_code == 404
    page.locator("#show-files").click()
    expect(listed).to_have_text(["notes (1).txt", "notes.txt"])


def test_usage_is_shown_and_a_full_quota_is_told_in_words(
    page: Any, stack: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    account = new_account(stack, "usage")
    put_by_api(stack, account, "u.txt", b"12345")
    sign_in(page, stack, account)
    expect(page.locator("#usage-text")).to_contain_text("1 of", timeout=STEP_MS)
    expect(page.locator("#usage-text")).to_contain_text("5 bytes of")
    token = id_token(stack, account.username, account.password)
    fill_byte_quota(stack, token)

    drop(page, {"too-much.txt": b"one byte too many"})

    upload = page.locator("#uploads li", has_text="too-much.txt")
    expect(upload.locator(".state")).to_contain_text(
        "Not enough room: you store", timeout=STEP_MS
    )
    expect(upload.locator(".state")).to_contain_text("Delete some files first.")
    shoot(page, "05-quota")


def test_an_ended_session_sends_the_user_back_to_sign_in(
    page: Any, stack: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    account = new_account(stack, "ended")
    sign_in(page, stack, account)
    page.evaluate(
        """() => {
            const key = "filemanager.session";
            const session = JSON.parse(sessionStorage.getItem(key));
            session.expiresAt = 0;
            session.refreshToken = "revoked";
            sessionStorage.setItem(key, JSON.stringify(session));
        }"""
    )

    page.reload()

    expect(page.locator("#message")).to_have_text(
        "Your session has ended. Please sign in again.", timeout=STEP_MS
    )
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#demo-hint")).to_have_text(
        "Local stack: sign in as demo / Demo-password-1"
    )
    shoot(page, "04-session-ended")
    stored = page.evaluate("() => sessionStorage.getItem('filemanager.session')")
    assert stored is None


def test_the_page_calls_only_documented_routes() -> None:
    spec = json.loads((ROOT / "chalicelib" / "openapi.json").read_text())
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
    }
    calls = re.findall(
        r'api\("(GET|POST|DELETE|PUT|PATCH)", `?"?([^`",]+)', PAGE_SCRIPT.read_text()
    )
    used = {
        (method, re.sub(r"\$\{[^}]+\}", "{file_id}", path)) for method, path in calls
    }

    assert used, "found no API call in the page's script"
    assert used <= documented, f"undocumented: {sorted(used - documented)}"
