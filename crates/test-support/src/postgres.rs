//! A fresh PostgreSQL database per test, so tests run in parallel without seeing each other's
//! rows, dropped when the test ends. The server is the machine's (127.0.0.1:5432, trust auth;
//! `BRIDGE_TEST_POSTGRES` names another). Without a server the test is skipped with the reason
//! printed, unless `BRIDGE_TEST_REQUIRE_TOOLS=1` (CI) makes that a failure.
//! `BRIDGE_TEST_KEEP_DB=1` keeps the databases, to look into a failure.

use tokio_postgres::NoTls;

const DEFAULT_SERVER: &str = "postgres://root@127.0.0.1:5432";

/// A database that exists until this is dropped.
pub struct ScratchDatabase {
    server: String,
    pub name: String,
    /// `postgres://…/<name>`, for `store.url`.
    pub url: String,
}

fn server() -> String {
    std::env::var("BRIDGE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_string())
}

async fn admin(server: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A new empty database, or `None` (after saying why) when no PostgreSQL server answers and
/// the run does not require one.
pub async fn scratch_postgres() -> Option<ScratchDatabase> {
    let server = server();
    let client = match admin(&server).await {
        Ok(c) => c,
        Err(e) => {
            let why = format!("no PostgreSQL server at {server} ({e})");
            if std::env::var("BRIDGE_TEST_REQUIRE_TOOLS").is_ok_and(|v| v == "1") {
                panic!("{why}: BRIDGE_TEST_REQUIRE_TOOLS=1 requires one");
            }
            eprintln!("skipped: {why}; set BRIDGE_TEST_POSTGRES or start PostgreSQL");
            return None;
        }
    };
    let name = format!(
        "bridge_test_{}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("creating the scratch database {name} on {server}: {e}"));
    Some(ScratchDatabase {
        url: format!("{server}/{name}"),
        server,
        name,
    })
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if std::env::var_os("BRIDGE_TEST_KEEP_DB").is_some() {
            eprintln!(
                "kept the scratch database {} (BRIDGE_TEST_KEEP_DB)",
                self.url
            );
            return;
        }
        // Drop runs outside any async context it could use: a thread with its own runtime.
        let (server, name) = (self.server.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for dropping the scratch database");
            runtime.block_on(async {
                if let Ok(client) = admin(&server).await {
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}
