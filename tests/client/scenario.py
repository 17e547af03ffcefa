"""The reference scenario through a client generated from the exported OpenAPI document
(openapi-python-client), against the running taskboard: register, log in, create a project,
add tasks, page through them with the cursor, refresh the token, hit a 409 and a 429.

Every call uses the generated functions with `raise_on_unexpected_status=True`, so a response
the document does not declare fails the run, and so does any change to the document that
breaks the generated code. Run by scripts/client.sh.
"""

import sys
import uuid

from taskboard_client import AuthenticatedClient, Client
from taskboard_client.api.auth import login, refresh, register
from taskboard_client.api.identity import me
from taskboard_client.api.projects import create_project
from taskboard_client.api.tasks import create_task, list_tasks, patch_task
from taskboard_client.models import (
    ErrorEnvelope,
    LoginInput,
    NewProject,
    NewTask,
    RefreshInput,
    RegisterInput,
    TaskPatch,
)
from taskboard_client.types import UNSET

BASE = sys.argv[1]
PASSWORD = "correct horse battery staple"


def check(condition, message):
    if not condition:
        raise SystemExit(f"FAILED: {message}")


def main():
    anonymous = Client(base_url=BASE, raise_on_unexpected_status=True)
    email = f"client-{uuid.uuid4().hex[:12]}@example.com"

    registered = register.sync_detailed(
        client=anonymous, body=RegisterInput(email=email, password=PASSWORD, display_name="Client")
    )
    check(registered.status_code == 201, f"register: {registered.status_code} {registered.content!r}")

    logged_in = login.sync(client=anonymous, body=LoginInput(email=email, password=PASSWORD))
    check(not isinstance(logged_in, ErrorEnvelope) and logged_in is not None, f"login: {logged_in}")
    pair = logged_in.data
    client = AuthenticatedClient(base_url=BASE, token=pair.access_token, raise_on_unexpected_status=True)

    created = create_project.sync_detailed(client=client, body=NewProject(name="Client project"))
    check(created.status_code == 201, f"create project: {created.status_code}")
    project = created.parsed.data
    check(created.headers["location"].endswith(f"/projects/{project.id}"), "Location of the project")
    check(project.version == 1, "a new project is at version 1")

    # The same name again: 409 CONFLICT naming the field.
    duplicate = create_project.sync_detailed(client=client, body=NewProject(name="Client project"))
    check(duplicate.status_code == 409, f"duplicate project: {duplicate.status_code}")
    check(duplicate.parsed.error.code.value == "CONFLICT", "409 is CONFLICT")
    check(duplicate.parsed.error.details[0].field == "name", "409 names the field")

    ids = []
    for i in range(7):
        task = create_task.sync_detailed(project.id, client=client, body=NewTask(title=f"task {i}"))
        check(task.status_code == 201, f"create task {i}: {task.status_code}")
        ids.append(task.parsed.data.id)

    # Page through with the cursor, three at a time.
    seen, cursor, pages = [], UNSET, 0
    while True:
        page = list_tasks.sync(project.id, client=client, per_page=3, cursor=cursor)
        check(not isinstance(page, ErrorEnvelope), f"list tasks: {page}")
        pages += 1
        check(page.meta.total == 7, "exact total on every page")
        seen.extend(task.id for task in page.data)
        if not page.meta.next_cursor:
            break
        cursor = page.meta.next_cursor
    check(pages == 3 and seen == ids, f"cursor walk: {pages} pages, {len(seen)} tasks in creation order")

    # A stale version: 409 VERSION_CONFLICT with the current version in the details.
    first = ids[0]
    done = patch_task.sync_detailed(first, client=client, body=TaskPatch(version=1, done=True))
    check(done.status_code == 200 and done.parsed.data.version == 2, f"patch: {done.status_code}")
    stale = patch_task.sync_detailed(first, client=client, body=TaskPatch(version=1, title="late"))
    check(stale.status_code == 409, f"stale patch: {stale.status_code}")
    check(stale.parsed.error.code.value == "VERSION_CONFLICT", "409 is VERSION_CONFLICT")
    check("2" in stale.parsed.error.details[0].issue, "the current version is given")

    # Refresh: a new pair; the new access token works, the old refresh token is spent.
    renewed = refresh.sync(client=anonymous, body=RefreshInput(refresh_token=pair.refresh_token))
    check(not isinstance(renewed, ErrorEnvelope) and renewed is not None, f"refresh: {renewed}")
    client = AuthenticatedClient(base_url=BASE, token=renewed.data.access_token, raise_on_unexpected_status=True)
    whoami = me.sync(client=client)
    check(whoami is not None and not isinstance(whoami, ErrorEnvelope), "the refreshed token works")
    replayed = refresh.sync_detailed(client=anonymous, body=RefreshInput(refresh_token=pair.refresh_token))
    check(replayed.status_code == 401, f"a spent refresh token: {replayed.status_code}")

    # Wrong passwords until the login limit (per account and client IP) answers 429.
    statuses = []
    for _ in range(12):
        attempt = login.sync_detailed(client=anonymous, body=LoginInput(email=email, password="wrong password!"))
        statuses.append(attempt.status_code)
        if attempt.status_code == 429:
            check(int(attempt.headers["retry-after"]) >= 1, "429 carries Retry-After")
            check(attempt.parsed.error.code.value == "RATE_LIMITED", "429 is RATE_LIMITED")
            break
    check(statuses[-1] == 429 and set(statuses[:-1]) == {401}, f"login statuses: {statuses}")

    print(f"client scenario passed: {len(ids)} tasks over {pages} cursor pages, 409 x2, refresh, 429")


if __name__ == "__main__":
    main()
