//! A test harness for the domain and the layers above it, on SQLite and on PostgreSQL:
//! every test written with [`on_both_stores!`] runs twice. Behind the `testing` feature.

pub mod authenticator;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use crate::clock::ManualClock;
use crate::policy::{Credential, Permission, Principal};
use crate::{Config, Tutela};
use secrecy::{ExposeSecret, SecretString};
use tempfile::TempDir;
use tutela_crypto::password::PasswordHasher;
use tutela_crypto::provider::KeyFileProvider;
use tutela_store::Store;
use tutela_store_postgres::PgStore;
use tutela_store_sqlite::SqliteStore;
use tutela_store_tests::{PgDatabaseGuard, fresh_pg_database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend, as two test functions.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident => $body:ident;)*) => {
        $(mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$body(::tutela_core::testing::Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$body(::tutela_core::testing::Backend::Postgres).await }
        })*
    };
}

pub struct Harness {
    pub tutela: Arc<Tutela>,
    pub clock: Arc<ManualClock>,
    pub backend: Backend,
    /// What Tutela was opened with (and is opened with again on restart).
    pub config: Config,
    /// The data directory (key file, and for SQLite the database).
    pub dir: TempDir,
    pub db: Db,
    pg_guard: Option<PgDatabaseGuard>,
}

/// Where the database is, for tests that reach under the store (tampering, scanning).
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

#[must_use]
pub fn cheap_hasher() -> PasswordHasher {
    // Small Argon2id parameters keep the suite fast; production uses the OWASP defaults.
    PasswordHasher::with_params(256, 1, 1, 2)
}

async fn open_store(db: &Db) -> Arc<dyn Store> {
    match db {
        Db::Sqlite(path) => Arc::new(SqliteStore::open(path).await.expect("open SQLite")),
        Db::Postgres(url) => Arc::new(PgStore::connect(url).await.expect("connect PostgreSQL")),
    }
}

impl Harness {
    pub async fn new(backend: Backend) -> Self {
        Self::with_config(backend, Config::default()).await
    }

    /// A harness whose Tutela has `config` (for instance a relying party on a test server's port).
    pub async fn with_config(backend: Backend, config: Config) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, pg_guard) = match backend {
            Backend::Sqlite => (Db::Sqlite(dir.path().join("tutela.db")), None),
            Backend::Postgres => {
                let (url, guard) = fresh_pg_database().await;
                (Db::Postgres(url), Some(guard))
            }
        };
        let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
        let tutela = Self::open_tutela(&dir, &db, clock.clone(), config.clone()).await;
        Self { tutela, clock, backend, config, dir, db, pg_guard }
    }

    async fn open_tutela(dir: &TempDir, db: &Db, clock: Arc<ManualClock>, config: Config) -> Arc<Tutela> {
        let provider = Arc::new(KeyFileProvider::open_or_create(&dir.path().join("keys/root.key")).expect("key file"));
        let tutela = Tutela::open(open_store(db).await, provider, clock, cheap_hasher(), config).await;
        Arc::new(tutela.expect("open Tutela"))
    }

    /// Closes and opens again on the same data (a restart).
    pub async fn restart(&mut self) {
        self.tutela.close().await;
        self.tutela = Self::open_tutela(&self.dir, &self.db, self.clock.clone(), self.config.clone()).await;
    }

    /// Another node on the same database and root key, as a second server process would be.
    pub async fn second_node(&self) -> Arc<Tutela> {
        Self::open_tutela(&self.dir, &self.db, self.clock.clone(), self.config.clone()).await
    }

    /// Runs SQL directly against the database, as an attacker with write access would.
    pub async fn raw_sql(&self, sql: &str) {
        match &self.db {
            Db::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("raw SQLite");
                conn.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
                conn.execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            Db::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.expect("raw PostgreSQL");
                sqlx::raw_sql(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
        }
    }

    pub async fn close(self) {
        self.tutela.close().await;
        if let Some(guard) = self.pg_guard {
            guard.drop_database().await;
        }
    }
}

/// A user who signs in through the real password and TOTP steps; the authenticator key is
/// kept from the first sign-in (which enrols it) for the next ones.
pub struct SignInAs {
    pub email: String,
    pub password: String,
    key: Option<Vec<u8>>,
}

impl SignInAs {
    pub fn new(email: &str, password: &str) -> Self {
        Self { email: email.to_owned(), password: password.to_owned(), key: None }
    }

    /// Signs in from `source` with `user_agent`; returns the session token. After the first
    /// sign-in the manual clock moves on 30 seconds, so that each code is a fresh one.
    pub async fn sign_in(&mut self, h: &Harness, source: Option<&str>, user_agent: Option<&str>) -> String {
        let password = SecretString::from(self.password.clone());
        let start = h
            .tutela
            .login(&self.email, password, source.map(Into::into), user_agent.map(Into::into))
            .await
            .expect("password accepted");
        let pending = start.pending_token.expose_secret();
        let session = if let Some(key) = &self.key {
            h.clock.advance(time::Duration::seconds(30));
            h.tutela.second_factor(pending, &totp_now(h, key)).await.expect("code accepted")
        } else {
            let enrolment = h.tutela.begin_totp_enrolment(pending).await.expect("enrolment");
            let key = data_encoding::BASE32_NOPAD
                .decode(enrolment.secret_base32.expose_secret().as_bytes())
                .expect("base32 key");
            let (session, _) =
                h.tutela.confirm_totp_enrolment(pending, &totp_now(h, &key)).await.expect("enrolment confirmed");
            self.key = Some(key);
            session
        };
        session.expose_secret().to_owned()
    }
}

impl SignInAs {
    /// A code the authenticator shows half a minute from now (the clock moves on), for a
    /// re-authentication after a sign-in.
    pub fn fresh_code(&self, h: &Harness) -> String {
        h.clock.advance(time::Duration::seconds(30));
        totp_now(h, self.key.as_deref().expect("signed in once already"))
    }
}

fn totp_now(h: &Harness, key: &[u8]) -> String {
    let now = u64::try_from(h.tutela.clock().now().unix_timestamp()).expect("after 1970");
    tutela_crypto::totp::current_code(key, now).expect("a code")
}

pub fn principal(label: &str, permissions: &[Permission]) -> Principal {
    Principal::direct(
        Some(uuid::Uuid::now_v7()),
        label,
        permissions.iter().copied().collect::<BTreeSet<_>>(),
        Credential::Session,
        Some("127.0.0.1".into()),
    )
}

/// A user who may do everything with customer data.
pub fn steward() -> Principal {
    principal(
        "steward@example.com",
        &[
            Permission::CustomerRead,
            Permission::CustomerWrite,
            Permission::CustomerErase,
            Permission::CustomerImport,
            Permission::CustomerExport,
            Permission::RevealConfidential,
            Permission::RevealRestricted,
        ],
    )
}

pub fn operator() -> Principal {
    principal(
        "admin@example.com",
        &[Permission::KeyManage, Permission::AuditRead, Permission::SchemaManage, Permission::UserManage],
    )
}

/// A new custom role holding `permissions` over its holder's own records.
pub fn custom_role(name: &str, permissions: &[Permission]) -> tutela_store::RoleRow {
    tutela_store::RoleRow {
        id: uuid::Uuid::now_v7(),
        name: name.to_owned(),
        description: String::new(),
        builtin: false,
        permissions: permissions.iter().map(|p| p.as_str().to_owned()).collect(),
        data_scope: "own".into(),
        field_rules: std::collections::BTreeMap::new(),
    }
}

pub fn values(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}
