//! Fresh databases for tests: a `SQLite` file in a temporary directory, or a new database on
//! the `PostgreSQL` server named by `TUTELA_TEST_PG_URL`.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use uuid::Uuid;

/// The environment variable naming the `PostgreSQL` server for tests, as a URL to a database
/// the test user may connect to and create databases from (`postgres://tutela@127.0.0.1:PORT/postgres`).
pub const PG_URL_VAR: &str = "TUTELA_TEST_PG_URL";

/// A path for a new `SQLite` database; the directory (and the database) go away with the
/// returned [`TempDir`].
pub fn fresh_sqlite_path() -> (PathBuf, TempDir) {
    let dir = tempfile::Builder::new().prefix("tutela-test-").tempdir().expect("create a temporary directory");
    (dir.path().join("tutela.db"), dir)
}

/// Creates an empty database `tutela_test_<uuid>` on the server named by
/// `TUTELA_TEST_PG_URL` and returns its URL. Panics (failing the test, never skipping it)
/// when the variable is unset.
///
/// Call [`PgDatabaseGuard::drop_database`] at the end of the test; if the test panics
/// first, dropping the guard removes the database anyway.
pub async fn fresh_pg_database() -> (String, PgDatabaseGuard) {
    let Ok(admin_url) = std::env::var(PG_URL_VAR) else {
        panic!(
            "{PG_URL_VAR} is not set. The PostgreSQL tests need a server: run them through `scripts/test`, \
             which starts a throwaway cluster and sets {PG_URL_VAR}"
        );
    };
    let name = format!("tutela_test_{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {PG_URL_VAR} ({admin_url}): {e}"));
    // A linguistic collation (ICU, PostgreSQL 15+) where the server has one, so that a query
    // relying on the C locale's byte order fails here rather than in production; the
    // server's default otherwise.
    let icu = format!("CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
    if create(&mut conn, &icu).await.is_err() {
        create(&mut conn, &format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
    }
    let _ = conn.close().await;
    let url = with_database(&admin_url, &name);
    (url, PgDatabaseGuard { admin_url, name, dropped: false })
}

/// Drops its test database, explicitly with [`Self::drop_database`] or, failing that, when
/// dropped (for a test that panicked).
pub struct PgDatabaseGuard {
    admin_url: String,
    name: String,
    dropped: bool,
}

impl PgDatabaseGuard {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database, disconnecting anything still connected to it.
    pub async fn drop_database(mut self) {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name)
            .await
            .unwrap_or_else(|e| panic!("drop test database {}: {e}", self.name));
    }
}

impl Drop for PgDatabaseGuard {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop cannot await; use a runtime of its own on a thread of its own, which works
        // whether or not the caller is inside a runtime.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(drop_database(&admin_url, &name)).map_err(std::io::Error::other)
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Runs a `CREATE DATABASE`, retrying while a concurrent one holds the template.
async fn create(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    let mut attempt = 0;
    loop {
        match sqlx::raw_sql(sql).execute(&mut *conn).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < 20 && e.to_string().contains("being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(admin_url).await?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await?;
    conn.close().await
}

/// The URL with its database (path) replaced, keeping credentials, host and parameters.
fn with_database(url: &str, database: &str) -> String {
    let (base, params) = url.split_once('?').map_or((url, None), |(b, p)| (b, Some(p)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..].find('/').map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{database}", &base[..path]);
    if let Some(params) = params {
        out.push('?');
        out.push_str(params);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(with_database("postgres://u@127.0.0.1:5432/postgres", "t"), "postgres://u@127.0.0.1:5432/t");
        assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "t"), "postgres://u:p@h/t?sslmode=disable");
        assert_eq!(with_database("postgres://u@h:1", "t"), "postgres://u@h:1/t");
        assert_eq!(with_database("postgres:///db?host=/run/pg", "t"), "postgres:///t?host=/run/pg");
    }
}
