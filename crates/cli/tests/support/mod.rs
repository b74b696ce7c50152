//! Running the real `tutela` binary against a data directory, and opening the same
//! installation in-process to seed what the command line does not make.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use tutela_core::clock::SystemClock;
use tutela_core::{Config, Tutela};
use tutela_crypto::password::PasswordHasher;
use tutela_crypto::provider::KeyFileProvider;
use tutela_store::Store;

pub const PASSWORD: &str = "a long admin password";

pub fn tutela(data: &Path, db: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tutela"));
    c.arg("--data-dir").arg(data);
    if !db.is_empty() {
        c.arg("--database-url").arg(db);
    }
    c.env_remove("TUTELA_LOG").args(args).output().unwrap()
}

/// Runs the binary and expects `code`; returns stdout, stderr.
#[track_caller]
pub fn expect(data: &Path, db: &str, args: &[&str], code: i32) -> (String, String) {
    let out = tutela(data, db, args);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert_eq!(out.status.code(), Some(code), "tutela {args:?}\nstdout: {stdout}\nstderr: {stderr}");
    (stdout, stderr)
}

/// `tutela init` with the first administrator, without prompts.
pub fn init(data: &Path, db: &str) {
    let password_file = data.with_extension("pw");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
    let pw = password_file.to_str().unwrap();
    expect(data, db, &["init", "--admin-email", "admin@example.com", "--admin-password-file", pw], 0);
}

/// The installation made by `init`, opened in-process; close it before running the binary.
pub async fn open(data: &Path, db: &str) -> Arc<Tutela> {
    open_with(data, db, Config::default()).await
}

/// [`open`] with settings of its own (e-mail, for instance).
pub async fn open_with(data: &Path, db: &str, config: Config) -> Arc<Tutela> {
    let store: Arc<dyn Store> = if db.is_empty() {
        Arc::new(tutela_store_sqlite::SqliteStore::open(&data.join("tutela.db")).await.unwrap())
    } else {
        Arc::new(tutela_store_postgres::PgStore::connect(db).await.unwrap())
    };
    let provider = Arc::new(KeyFileProvider::open(&data.join("keys/root.key")).unwrap());
    let hasher = PasswordHasher::with_params(256, 1, 1, 2);
    Tutela::open(store, provider, Arc::new(SystemClock), hasher, config).await.unwrap().into()
}

/// Runs `body(data_dir, database_url)` once on SQLite (an empty URL: the data directory's
/// own file) and once on a fresh PostgreSQL database, as two tests in a module named `name`.
macro_rules! cli_on_both_stores {
    ($($name:ident => $body:ident;)*) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$body(&dir.path().join("data"), "").await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let dir = tempfile::tempdir().unwrap();
                let (url, guard) = tutela_store_tests::fresh_pg_database().await;
                super::$body(&dir.path().join("data"), &url).await;
                guard.drop_database().await;
            }
        })*
    };
}
