//! A throwaway PostgreSQL cluster for the tests that stop, start or replicate a database (so
//! the machine's shared server is not disturbed): initdb, pg_ctl, and a streaming standby made
//! with pg_basebackup. Runs the server binaries as the postgres account when the tests run as
//! root.

use std::path::PathBuf;
use std::process::Command;

/// A throwaway PostgreSQL cluster in a temp directory, on its own port.
pub(crate) struct Cluster {
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

    pub(crate) fn create() -> Self {
        let cluster = Self::empty();
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

    /// A streaming standby of `primary` (`pg_basebackup -R`: it connects to the primary as
    /// `postgres` over 127.0.0.1, which initdb's `-A trust` pg_hba.conf allows for
    /// replication), started on its own port. Hot standby: it answers reads.
    pub(crate) fn standby_of(primary: &Cluster) -> Self {
        let cluster = Self::empty();
        let data = cluster.dir.to_string_lossy().into_owned();
        let port = primary.port.to_string();
        assert!(
            cluster.run(
                "pg_basebackup",
                &[
                    "-D",
                    &data,
                    "-R",
                    "-X",
                    "stream",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-U",
                    "postgres"
                ]
            ),
            "pg_basebackup failed"
        );
        assert!(cluster.start(), "the standby did not start");
        cluster
    }

    /// A port and an empty data directory the server accepts (0700, the postgres account's).
    fn empty() -> Self {
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
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        Self {
            bin: postgres_bin(),
            dir,
            port,
            as_postgres,
        }
    }

    pub(crate) fn start(&self) -> bool {
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

    pub(crate) fn stop(&self) -> bool {
        let data = self.dir.to_string_lossy().into_owned();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
