//! Projects (declarative CRUD) and tasks (hand-written endpoints over the generated
//! repository) through the real router on SQLite and PostgreSQL: the BOLA matrix, mass
//! assignment, optimistic locking, cursor walks under concurrent inserts, atomic archive,
//! injection strings.

use rampart::__private::axum::http::Method;
use rampart::testing::{BACKENDS, TestApp, TestBackend};
use serde_json::{Value, json};

use crate::common::assert_error;

async fn board(backend: TestBackend) -> TestApp {
    let built = crate::common::taskboard_builder()
        .backend(backend)
        .migrations(crate::taskboard::MIGRATIONS)
        .with_identity()
        // The run creates hundreds of rows per user, a thousand at once; limits stay on, scaled
        // by configuration.
        .configure(|config| {
            config.rate_limit_multiplier = 1000.0;
            config.max_in_flight_per_principal = 2000;
        })
        .build()
        .await;
    match built {
        Ok(app) => app,
        Err(error) => panic!("cannot build the taskboard on {backend:?}: {error}"),
    }
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> rampart::testing::TestResponse {
    let mut request = app.request(method, path).bearer(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await
}

async fn create_project(app: &TestApp, token: &str, name: &str) -> Value {
    let response = send(
        app,
        Method::POST,
        "/api/v1/projects",
        token,
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()["data"].clone()
}

async fn create_task(app: &TestApp, token: &str, project: &str, title: &str) -> Value {
    let path = format!("/api/v1/projects/{project}/tasks");
    let response = send(
        app,
        Method::POST,
        &path,
        token,
        Some(json!({"title": title})),
    )
    .await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()["data"].clone()
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

/// A row as the database holds it, read back through its owner.
async fn snapshot(app: &TestApp, token: &str, path: &str) -> Value {
    let response = send(app, Method::GET, path, token, None).await;
    assert_eq!(response.status(), 200, "{path}: {}", response.text());
    response.json()["data"].clone()
}

#[tokio::test]
async fn projects_are_declarative_crud_with_versions_and_etags() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);

        let created = send(
            &app,
            Method::POST,
            "/api/v1/projects",
            &alice,
            Some(json!({"name": "  Launch  ", "description": "q3"})),
        )
        .await;
        assert_eq!(created.status(), 201, "{backend:?}: {}", created.text());
        let project = created.json()["data"].clone();
        let pid = id(&project);
        assert_eq!(
            created.header("location"),
            Some(format!("/api/v1/projects/{pid}").as_str())
        );
        assert_eq!(project["name"], "Launch", "trimmed");
        assert_eq!(project["version"], 1);
        assert_eq!(project["archived"], false);

        let fetched = send(
            &app,
            Method::GET,
            &format!("/api/v1/projects/{pid}"),
            &alice,
            None,
        )
        .await;
        assert_eq!(fetched.status(), 200);
        // A read's tag is the version, then a hash of the body (`If-Match` reads the version).
        assert!(
            fetched
                .header("etag")
                .is_some_and(|tag| tag.starts_with("\"1.")),
            "{:?}",
            fetched.header("etag")
        );
        assert_eq!(fetched.json()["data"], project);

        // Whitespace only fails length(min = 1) after trimming.
        let blank = send(
            &app,
            Method::POST,
            "/api/v1/projects",
            &alice,
            Some(json!({"name": "   "})),
        )
        .await;
        assert_error(&blank, 400, "VALIDATION_ERROR");
        assert_eq!(blank.json()["error"]["details"][0]["field"], "name");

        // Unique per owner: 409 naming the field.
        let duplicate = send(
            &app,
            Method::POST,
            "/api/v1/projects",
            &alice,
            Some(json!({"name": "Launch"})),
        )
        .await;
        assert_error(&duplicate, 409, "CONFLICT");
        assert_eq!(duplicate.json()["error"]["details"][0]["field"], "name");

        // PATCH with the version; the version is required.
        let item = format!("/api/v1/projects/{pid}");
        let missing = send(
            &app,
            Method::PATCH,
            &item,
            &alice,
            Some(json!({"description": "x"})),
        )
        .await;
        assert_error(&missing, 400, "BAD_REQUEST");
        assert_eq!(missing.json()["error"]["details"][0]["field"], "version");
        let patched = send(
            &app,
            Method::PATCH,
            &item,
            &alice,
            Some(json!({"description": null, "version": 1})),
        )
        .await;
        assert_eq!(patched.status(), 200, "{}", patched.text());
        assert_eq!(
            patched.json()["data"]["description"],
            Value::Null,
            "null clears"
        );
        assert_eq!(patched.json()["data"]["name"], "Launch", "absent stays");
        assert_eq!(patched.json()["data"]["version"], 2);
        assert_eq!(patched.header("etag"), Some("\"2\""));

        // A stale body version is 409 with the current version; a stale If-Match is 412.
        let stale = send(
            &app,
            Method::PATCH,
            &item,
            &alice,
            Some(json!({"name": "B", "version": 1})),
        )
        .await;
        assert_error(&stale, 409, "VERSION_CONFLICT");
        assert_eq!(stale.json()["error"]["details"][0]["field"], "version");
        assert!(
            stale.json()["error"]["details"][0]["issue"]
                .as_str()
                .unwrap_or_default()
                .contains('2')
        );
        let precondition = app
            .request(Method::PUT, &item)
            .bearer(&alice)
            .header("if-match", "\"1\"")
            .json(&json!({"name": "B", "description": null}))
            .send()
            .await;
        assert_error(&precondition, 412, "PRECONDITION_FAILED");
        // A tag that names no version (unquoted, weak, foreign, empty) matches nothing: 412,
        // and nothing is written.
        for (tag, status, code) in [
            ("2", 412, "PRECONDITION_FAILED"),
            ("W/\"2\"", 412, "PRECONDITION_FAILED"),
            ("", 412, "PRECONDITION_FAILED"),
        ] {
            let response = app
                .request(Method::PUT, &item)
                .bearer(&alice)
                .header("if-match", tag)
                .json(&json!({"name": "B", "version": 2}))
                .send()
                .await;
            assert_error(&response, status, code);
        }
        let replaced = app
            .request(Method::PUT, &item)
            .bearer(&alice)
            .header("if-match", "\"2\"")
            .json(&json!({"name": "B", "version": 2}))
            .send()
            .await;
        assert_eq!(replaced.status(), 200, "{}", replaced.text());
        assert_eq!(replaced.json()["data"]["version"], 3);
        assert_eq!(replaced.json()["data"]["description"], Value::Null);

        // Offset list with meta.
        for i in 0..3 {
            create_project(&app, &alice, &format!("p{i}")).await;
        }
        let page = send(
            &app,
            Method::GET,
            "/api/v1/projects?per_page=2&page=2&sort=name",
            &alice,
            None,
        )
        .await;
        assert_eq!(page.status(), 200, "{}", page.text());
        assert_eq!(
            page.json()["meta"],
            json!({"page": 2, "per_page": 2, "total": 4, "next_cursor": null})
        );
        assert_eq!(page.json()["data"][0]["name"], "p1");
        let cursor = send(
            &app,
            Method::GET,
            "/api/v1/projects?cursor=abc",
            &alice,
            None,
        )
        .await;
        assert_error(&cursor, 400, "VALIDATION_ERROR");

        let deleted = send(&app, Method::DELETE, &item, &alice, None).await;
        assert_eq!(deleted.status(), 204);
        assert_error(
            &send(&app, Method::GET, &item, &alice, None).await,
            404,
            "NOT_FOUND",
        );
    }
}

#[tokio::test]
async fn another_users_ids_are_404_on_every_route_and_nothing_changes() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let bob = app.token(&["member"]);
        let project = create_project(&app, &alice, "alice's").await;
        let pid = id(&project);
        let task = create_task(&app, &alice, &pid, "alice's task").await;
        let tid = id(&task);
        let bobs = create_project(&app, &bob, "bob's").await;
        create_task(&app, &bob, &id(&bobs), "bob's task").await;

        let project_path = format!("/api/v1/projects/{pid}");
        let task_path = format!("/api/v1/tasks/{tid}");
        let routes: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, project_path.clone(), None),
            (
                Method::PUT,
                project_path.clone(),
                Some(json!({"name": "mine", "version": 1})),
            ),
            (
                Method::PATCH,
                project_path.clone(),
                Some(json!({"name": "mine", "version": 1})),
            ),
            (Method::DELETE, project_path.clone(), None),
            (Method::POST, format!("{project_path}/archive"), None),
            (Method::GET, format!("{project_path}/tasks"), None),
            (
                Method::POST,
                format!("{project_path}/tasks"),
                Some(json!({"title": "planted"})),
            ),
            (Method::GET, task_path.clone(), None),
            (
                Method::PATCH,
                task_path.clone(),
                Some(json!({"done": true, "version": 1})),
            ),
            (Method::DELETE, task_path.clone(), None),
        ];
        for (method, path, body) in routes {
            let response = send(&app, method.clone(), &path, &bob, body).await;
            assert_error(&response, 404, "NOT_FOUND");
            let _ = (method, path);
        }
        // Unchanged, as alice reads them.
        assert_eq!(snapshot(&app, &alice, &project_path).await, project);
        assert_eq!(snapshot(&app, &alice, &task_path).await, task);
        let tasks = send(
            &app,
            Method::GET,
            &format!("{project_path}/tasks"),
            &alice,
            None,
        )
        .await;
        assert_eq!(
            tasks.json()["meta"]["total"],
            1,
            "no task planted: {}",
            tasks.text()
        );

        // Lists never show the other user's rows.
        let listed = send(&app, Method::GET, "/api/v1/projects", &bob, None).await;
        let names: Vec<Value> = listed.json()["data"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| p["name"].clone())
            .collect();
        assert_eq!(names, vec![json!("bob's")]);
    }
}

#[tokio::test]
async fn server_set_fields_are_refused_by_name() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "p").await;
        let pid = id(&project);
        let task = create_task(&app, &alice, &pid, "t").await;
        let tid = id(&task);
        let other = uuid::Uuid::now_v7().to_string();
        let project_item = format!("/api/v1/projects/{pid}");
        let task_item = format!("/api/v1/tasks/{tid}");
        let task_create = format!("/api/v1/projects/{pid}/tasks");
        // Every server-set field, in every body that could carry it.
        let server_set = |field: &str| -> Value {
            match field {
                "version" => json!(7),
                "created_at" | "updated_at" => json!("2020-01-01T00:00:00Z"),
                "archived" => json!(true),
                _ => json!(other),
            }
        };
        let mut cases: Vec<(Method, String, Value, String)> = Vec::new();
        for field in [
            "owner_id",
            "id",
            "version",
            "created_at",
            "updated_at",
            "archived",
        ] {
            let mut create = json!({"name": "q"});
            create[field] = server_set(field);
            cases.push((
                Method::POST,
                "/api/v1/projects".into(),
                create,
                field.into(),
            ));
            if field != "version" {
                let mut patch = json!({"name": "q", "version": 1});
                patch[field] = server_set(field);
                cases.push((
                    Method::PATCH,
                    project_item.clone(),
                    patch.clone(),
                    field.into(),
                ));
                cases.push((Method::PUT, project_item.clone(), patch, field.into()));
            }
        }
        for field in [
            "owner_id",
            "id",
            "version",
            "created_at",
            "updated_at",
            "archived",
            "project_id",
        ] {
            let mut create = json!({"title": "t"});
            create[field] = server_set(field);
            cases.push((Method::POST, task_create.clone(), create, field.into()));
            if field != "version" {
                let mut patch = json!({"done": true, "version": 1});
                patch[field] = server_set(field);
                cases.push((Method::PATCH, task_item.clone(), patch, field.into()));
            }
        }
        // `null` is a value sent too (not "left out"): a client clearing a server-set field is
        // told it cannot, rather than answered a success that ignored it.
        let nulled: Vec<_> = cases
            .iter()
            .map(|(method, path, body, field)| {
                let mut body = body.clone();
                body[field.as_str()] = Value::Null;
                (method.clone(), path.clone(), body, field.clone())
            })
            .collect();
        cases.extend(nulled);
        for (method, path, body, field) in cases {
            let response = send(&app, method, &path, &alice, Some(body)).await;
            assert_error(&response, 400, "VALIDATION_ERROR");
            let fields: Vec<Value> = response.json()["error"]["details"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|d| d["field"].clone())
                .collect();
            assert!(
                fields.contains(&json!(field)),
                "{backend:?} {path} {field}: {}",
                response.text()
            );
        }
        let unknown = send(
            &app,
            Method::POST,
            "/api/v1/projects",
            &alice,
            Some(json!({"name": "q", "colour": "red"})),
        )
        .await;
        assert_error(&unknown, 400, "BAD_REQUEST");
        assert_eq!(unknown.json()["error"]["details"][0]["field"], "colour");
        assert_eq!(
            snapshot(&app, &alice, &format!("/api/v1/projects/{pid}")).await,
            project
        );
        assert_eq!(
            snapshot(&app, &alice, &format!("/api/v1/tasks/{tid}")).await,
            task
        );
        let listed = send(&app, Method::GET, "/api/v1/projects", &alice, None).await;
        assert_eq!(listed.json()["meta"]["total"], 1, "nothing created");
    }
}

#[tokio::test]
async fn concurrent_patches_with_one_version_yield_one_winner() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "p").await;
        let task = create_task(&app, &alice, &id(&project), "t").await;
        let path = format!("/api/v1/tasks/{}", id(&task));
        let patches = (0..16).map(|i| {
            let (app, alice, path) = (&app, &alice, &path);
            async move {
                send(
                    app,
                    Method::PATCH,
                    path,
                    alice,
                    Some(json!({"title": format!("by {i}"), "version": 1})),
                )
                .await
            }
        });
        let responses = futures_util::future::join_all(patches).await;
        let ok = responses.iter().filter(|r| r.status() == 200).count();
        let conflicts = responses
            .iter()
            .filter(|r| r.status() == 409 && r.error_code().as_deref() == Some("VERSION_CONFLICT"))
            .count();
        assert_eq!(
            (ok, conflicts),
            (1, 15),
            "{backend:?}: {:?}",
            responses.iter().map(|r| r.status()).collect::<Vec<_>>()
        );
        let current = snapshot(&app, &alice, &path).await;
        assert_eq!(current["version"], 2);
    }
}

#[tokio::test]
async fn cursor_walk_sees_every_row_once_while_rows_are_inserted() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "big").await;
        let pid = id(&project);
        let list = format!("/api/v1/projects/{pid}/tasks");
        let originals = futures_util::future::join_all((0..1000).map(|i| {
            let (app, alice, pid) = (&app, &alice, &pid);
            async move { id(&create_task(app, alice, pid, &format!("task {i:04}")).await) }
        }))
        .await;

        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut inserted = 0;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("{list}?per_page=37&cursor={cursor}"),
                None => format!("{list}?per_page=37"),
            };
            // Ten inserts between pages, a hundred in all, racing the walk.
            let page = send(&app, Method::GET, &path, &alice, None);
            let inserts =
                futures_util::future::join_all((0..10).filter(|_| inserted < 100).map(|i| {
                    let (app, alice, pid) = (&app, &alice, &pid);
                    async move { create_task(app, alice, pid, &format!("new {i}")).await }
                }));
            let (page, added) = futures_util::future::join(page, inserts).await;
            inserted += added.len();
            assert_eq!(page.status(), 200, "{}", page.text());
            let body = page.json();
            assert!(body["meta"]["page"].is_null());
            assert_eq!(body["meta"]["per_page"], 37);
            assert!(body["meta"]["total"].as_u64().unwrap_or_default() >= 1000);
            for task in body["data"].as_array().cloned().unwrap_or_default() {
                seen.push(id(&task));
            }
            match body["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        for original in &originals {
            assert_eq!(
                seen.iter().filter(|s| *s == original).count(),
                1,
                "{backend:?}: {original}"
            );
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no row twice");

        // One flipped byte, anywhere in the cursor, is a 400.
        let first = send(
            &app,
            Method::GET,
            &format!("{list}?per_page=5"),
            &alice,
            None,
        )
        .await;
        let cursor = first.json()["meta"]["next_cursor"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for index in [0, cursor.len() / 2, cursor.len() - 1] {
            let mut bytes = cursor.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let flipped = String::from_utf8(bytes).unwrap_or_default();
            let response = send(
                &app,
                Method::GET,
                &format!("{list}?per_page=5&cursor={flipped}"),
                &alice,
                None,
            )
            .await;
            assert_error(&response, 400, "BAD_REQUEST");
            assert_eq!(response.json()["error"]["details"][0]["field"], "cursor");
        }
        // A cursor from another sort order is refused too.
        let other = send(
            &app,
            Method::GET,
            &format!("{list}?per_page=5&sort=-title&cursor={cursor}"),
            &alice,
            None,
        )
        .await;
        assert_error(&other, 400, "BAD_REQUEST");

        // Typed filters and declared sorts only.
        for query in [
            "done=maybe",
            "sort=owner_id",
            "sort=-secret",
            "owner_id=x",
            "per_page=101",
            "page=2",
        ] {
            let response = send(&app, Method::GET, &format!("{list}?{query}"), &alice, None).await;
            assert_error(&response, 400, "VALIDATION_ERROR");
        }
        let done = send(
            &app,
            Method::GET,
            &format!("{list}?done=true"),
            &alice,
            None,
        )
        .await;
        assert_eq!(done.json()["meta"]["total"], 0);
    }
}

#[tokio::test]
async fn archive_is_all_or_nothing() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "keep").await;
        let pid = id(&project);
        for title in ["a", "b", "fail here"] {
            create_task(&app, &alice, &pid, title).await;
        }
        // Injected failure: the third task's update fails inside the transaction.
        let db = app
            .app()
            .db()
            .cloned()
            .unwrap_or_else(|| panic!("no database"));
        let trigger: &[&str] = match backend {
            TestBackend::Sqlite => &[
                "CREATE TRIGGER fail_archive BEFORE UPDATE OF archived ON tasks WHEN NEW.title = 'fail here' BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            ],
            TestBackend::Postgres => &[
                "CREATE FUNCTION fail_archive() RETURNS trigger AS $$ BEGIN IF NEW.title = 'fail here' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER fail_archive BEFORE UPDATE OF archived ON tasks FOR EACH ROW EXECUTE FUNCTION fail_archive()",
            ],
        };
        for statement in trigger {
            let result = rampart::with_pool!(db.primary(), |pool| sqlx::query(*statement)
                .execute(pool)
                .await
                .map(|_| ()));
            assert!(result.is_ok(), "{result:?}");
        }
        let archive = format!("/api/v1/projects/{pid}/archive");
        let failed = send(&app, Method::POST, &archive, &alice, None).await;
        assert_error(&failed, 500, "INTERNAL");
        assert!(!failed.text().contains("injected"), "no internals in a 500");
        assert_eq!(
            snapshot(&app, &alice, &format!("/api/v1/projects/{pid}")).await,
            project,
            "project unchanged"
        );
        let tasks = send(
            &app,
            Method::GET,
            &format!("/api/v1/projects/{pid}/tasks?archived=true"),
            &alice,
            None,
        )
        .await;
        assert_eq!(
            tasks.json()["meta"]["total"],
            0,
            "no task archived: {}",
            tasks.text()
        );

        let drop: &str = match backend {
            TestBackend::Sqlite => "DROP TRIGGER fail_archive",
            TestBackend::Postgres => "DROP TRIGGER fail_archive ON tasks",
        };
        let result = rampart::with_pool!(db.primary(), |pool| sqlx::query(drop)
            .execute(pool)
            .await
            .map(|_| ()));
        assert!(result.is_ok(), "{result:?}");
        let archived = send(&app, Method::POST, &archive, &alice, None).await;
        assert_eq!(archived.status(), 200, "{}", archived.text());
        assert_eq!(archived.json()["data"]["archived"], true);
        assert_eq!(archived.json()["data"]["version"], 2);
        let tasks = send(
            &app,
            Method::GET,
            &format!("/api/v1/projects/{pid}/tasks?archived=true"),
            &alice,
            None,
        )
        .await;
        assert_eq!(tasks.json()["meta"]["total"], 3);
        assert_error(
            &send(&app, Method::POST, &archive, &alice, None).await,
            409,
            "CONFLICT",
        );

        // A project that still has tasks cannot be deleted (rows refer to it: 409), and stays.
        let delete = send(
            &app,
            Method::DELETE,
            &format!("/api/v1/projects/{pid}"),
            &alice,
            None,
        )
        .await;
        assert_error(&delete, 409, "CONFLICT");
        assert_eq!(
            snapshot(&app, &alice, &format!("/api/v1/projects/{pid}")).await["archived"],
            true
        );
    }
}

/// `read_only_when = archived`: an archived project refuses PUT and PATCH and new tasks, its
/// archived tasks refuse PATCH, all with 409 and nothing written; reads and deletes still work.
#[tokio::test]
async fn archived_projects_and_their_tasks_are_read_only() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "old").await;
        let pid = id(&project);
        let task = create_task(&app, &alice, &pid, "t").await;
        let tid = id(&task);
        let archive = format!("/api/v1/projects/{pid}/archive");
        let archived = send(&app, Method::POST, &archive, &alice, None).await;
        assert_eq!(archived.status(), 200, "{backend:?}: {}", archived.text());
        let project_path = format!("/api/v1/projects/{pid}");
        let task_path = format!("/api/v1/tasks/{tid}");
        let before = snapshot(&app, &alice, &project_path).await;
        let task_before = snapshot(&app, &alice, &task_path).await;

        let version = before["version"].clone();
        for (method, body) in [
            (
                Method::PATCH,
                json!({"name": "renamed", "version": version}),
            ),
            (
                Method::PUT,
                json!({"name": "renamed", "description": null, "version": version}),
            ),
        ] {
            let refused = send(&app, method.clone(), &project_path, &alice, Some(body)).await;
            assert_error(&refused, 409, "CONFLICT");
            assert!(refused.text().contains("read-only"), "{}", refused.text());
        }
        let new_task = send(
            &app,
            Method::POST,
            &format!("{project_path}/tasks"),
            &alice,
            Some(json!({"title": "late"})),
        )
        .await;
        assert_error(&new_task, 409, "CONFLICT");
        let patched_task = send(
            &app,
            Method::PATCH,
            &task_path,
            &alice,
            Some(json!({"done": true, "version": task_before["version"]})),
        )
        .await;
        assert_error(&patched_task, 409, "CONFLICT");
        assert_eq!(
            snapshot(&app, &alice, &project_path).await,
            before,
            "{backend:?}"
        );
        assert_eq!(
            snapshot(&app, &alice, &task_path).await,
            task_before,
            "{backend:?}"
        );
        let listed = send(
            &app,
            Method::GET,
            &format!("{project_path}/tasks"),
            &alice,
            None,
        )
        .await;
        assert_eq!(
            listed.json()["meta"]["total"],
            1,
            "{backend:?}: no task was added"
        );

        // Another user's archived project is still a 404, never a 409 that reveals it.
        let mallory = app.token(&["member"]);
        let foreign = send(
            &app,
            Method::PATCH,
            &project_path,
            &mallory,
            Some(json!({"name": "x", "version": version})),
        )
        .await;
        assert_error(&foreign, 404, "NOT_FOUND");
        let foreign_task = send(
            &app,
            Method::POST,
            &format!("{project_path}/tasks"),
            &mallory,
            Some(json!({"title": "x"})),
        )
        .await;
        assert_error(&foreign_task, 404, "NOT_FOUND");

        // Deleting is not editing: the archived task goes, then the emptied project.
        let deleted = send(&app, Method::DELETE, &task_path, &alice, None).await;
        assert_eq!(deleted.status(), 204, "{backend:?}: {}", deleted.text());
        let deleted = send(&app, Method::DELETE, &project_path, &alice, None).await;
        assert_eq!(deleted.status(), 204, "{backend:?}: {}", deleted.text());
    }
}

#[tokio::test]
async fn hostile_strings_round_trip_literally() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "p").await;
        let pid = id(&project);
        let title = "x'); DROP TABLE tasks; --";
        let task = create_task(&app, &alice, &pid, title).await;
        assert_eq!(task["title"], title);
        let encoded: String = form_urlencoded_value(title);
        let found = send(
            &app,
            Method::GET,
            &format!("/api/v1/projects/{pid}/tasks?title={encoded}"),
            &alice,
            None,
        )
        .await;
        assert_eq!(found.status(), 200, "{}", found.text());
        assert_eq!(found.json()["data"][0]["title"], title);
        assert_eq!(
            snapshot(&app, &alice, &format!("/api/v1/tasks/{}", id(&task))).await["title"],
            title
        );
    }
}

fn form_urlencoded_value(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Found by schemathesis: PostgreSQL cannot store a NUL character, and the framework answered
/// 500. A JSON body carrying U+0000 is now a 400 on both backends (SQLite would store it), and a
/// value PostgreSQL refuses for its content anywhere else (a query-string filter) is a 400 too.
#[tokio::test]
async fn values_the_database_cannot_store_are_a_400_not_a_500() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let with_nul = json!({"name": "a\u{0}b"});
        let project = send(
            &app,
            Method::POST,
            "/api/v1/projects",
            &alice,
            Some(with_nul),
        )
        .await;
        assert_error(&project, 400, "BAD_REQUEST");
        let register = app
            .post("/api/v1/auth/register")
            .json(&json!({"email": "nul@example.com", "password": "correct horse battery staple", "display_name": "x\u{0}y"}))
            .send()
            .await;
        assert_error(&register, 400, "BAD_REQUEST");
        let listed = send(
            &app,
            Method::GET,
            "/api/v1/projects?name=a%00b",
            &alice,
            None,
        )
        .await;
        // A NUL in a filter is refused before any statement, the same on both backends (it was
        // a 200 on SQLite and the database's 400 on PostgreSQL).
        assert_error(&listed, 400, "VALIDATION_ERROR");
        assert_eq!(listed.json()["error"]["details"][0]["field"], "name");
        assert!(
            !listed.text().contains("0x00"),
            "no database text: {}",
            listed.text()
        );
    }
}

/// Found by schemathesis: JSON Schema's `integer` includes `1.0` (Python's json module writes
/// integral floats that way), and serde's integers refused it with a 400.
#[tokio::test]
async fn integral_floats_are_integers() {
    for backend in BACKENDS {
        let app = board(backend).await;
        let alice = app.token(&["member"]);
        let project = create_project(&app, &alice, "p").await;
        let path = format!("/api/v1/projects/{}", id(&project));
        let patched = send(
            &app,
            Method::PATCH,
            &path,
            &alice,
            Some(json!({"name": "q", "version": 1.0})),
        )
        .await;
        assert_eq!(patched.status(), 200, "{backend:?}: {}", patched.text());
        assert_eq!(patched.json()["data"]["version"], 2);
        let fractional = send(
            &app,
            Method::PATCH,
            &path,
            &alice,
            Some(json!({"name": "r", "version": 2.5})),
        )
        .await;
        assert_error(&fractional, 400, "BAD_REQUEST");
        assert_eq!(fractional.json()["error"]["details"][0]["field"], "version");
    }
}
