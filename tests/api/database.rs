//! Database outages: on a dedicated PostgreSQL cluster (so the machine's shared server is not
//! disturbed), stopping the database turns data requests and readiness into 503 envelopes with
//! `Retry-After` and no internals; starting it again heals the app without a restart.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use rampart::testing::TestApp;
use serde_json::json;

use crate::common::assert_error;

/// A throwaway PostgreSQL cluster in a temp directory, on its own port.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn postgres_bin() -> PathBuf {
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.pop().unwrap_or_else(|| {
        panic!("PostgreSQL server binaries (initdb, pg_ctl) are required for this test")
    })
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) -> bool {
        let binary = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.arg("-u").arg("postgres").arg("--").arg(&binary);
            command
        } else {
            Command::new(&binary)
        };
        let status = command
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        status.is_ok_and(|s| s.success())
    }

    fn create() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(55432);
        let dir =
            std::env::temp_dir().join(format!("rampart-pg-{}", uuid::Uuid::new_v4().simple()));
        let _ = std::fs::create_dir_all(&dir);
        // initdb refuses to run as root: use the postgres account then.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if as_postgres {
            let _ = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&dir)
                .status();
        }
        let cluster = Self {
            bin: postgres_bin(),
            dir,
            port,
            as_postgres,
        };
        let data = cluster.dir.to_string_lossy().into_owned();
        assert!(
            cluster.run(
                "initdb",
                &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"]
            ),
            "initdb failed"
        );
        assert!(cluster.start(), "the dedicated cluster did not start");
        cluster
    }

    fn start(&self) -> bool {
        let data = self.dir.to_string_lossy().into_owned();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port, data
        );
        let log = format!("{data}/server.log");
        self.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        )
    }

    fn stop(&self) -> bool {
        let data = self.dir.to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn a_stopped_database_is_503_and_the_app_recovers_when_it_returns() {
    let cluster = Cluster::create();
    let app = TestApp::builder(crate::taskboard::api())
        .database_url(cluster.url())
        .migrations(crate::taskboard::MIGRATIONS)
        .configure(|config| config.database.acquire_timeout = Duration::from_secs(1))
        .build()
        .await;
    let app = match app {
        Ok(app) => app,
        Err(error) => panic!("{error}"),
    };
    let token = app.token(&["member"]);
    let created = app
        .post("/api/v1/notes")
        .bearer(&token)
        .json(&json!({"title": "before"}))
        .send()
        .await;
    assert_eq!(created.status(), 201, "{}", created.text());

    assert!(cluster.stop(), "could not stop the dedicated cluster");
    for path in ["/api/v1/notes", "/api/v1/notes"] {
        let response = app.get(path).bearer(&token).send().await;
        assert_error(&response, 503, "UNAVAILABLE");
        assert!(
            response
                .header("retry-after")
                .is_some_and(|s| s.parse::<u32>().is_ok())
        );
        let text = response.text().to_lowercase();
        for internal in [
            "sqlx",
            "connection",
            "refused",
            "postgres",
            "pool",
            "io error",
        ] {
            assert!(
                !text.contains(internal),
                "503 body leaks `{internal}`: {text}"
            );
        }
    }
    let write = app
        .post("/api/v1/notes")
        .bearer(&token)
        .json(&json!({"title": "during"}))
        .send()
        .await;
    assert_error(&write, 503, "UNAVAILABLE");
    assert_error(&app.get("/health/ready").send().await, 503, "UNAVAILABLE");
    assert_eq!(app.get("/health/live").send().await.status(), 200);

    assert!(cluster.start(), "could not restart the dedicated cluster");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut recovered = false;
    while Instant::now() < deadline {
        if app
            .get("/api/v1/notes")
            .bearer(&token)
            .send()
            .await
            .status()
            == 200
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the app did not recover after the database came back"
    );
    assert_eq!(app.get("/health/ready").send().await.status(), 200);
    let list = app.get("/api/v1/notes").bearer(&token).send().await;
    assert_eq!(
        list.json()["meta"]["total"],
        1,
        "nothing written during the outage, nothing lost before it"
    );
}
