//! A real installation for the benchmarks: Tutela over a `SQLite` file in a temporary
//! directory, a root key file, the ten-field schema, a data steward with an API token; and
//! the plain `SQLite` database that stands for "the same work unprotected".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params, params_from_iter};
use secrecy::{ExposeSecret, SecretString};
use tempfile::TempDir;
use tutela_core::clock::SystemClock;
use tutela_core::identity::NewUser;
use tutela_core::policy::{Credential, Permission, Principal, builtin_roles};
use tutela_core::vault::import::ImportOptions;
use tutela_core::{Config, Tutela};
use tutela_crypto::password::PasswordHasher;
use tutela_crypto::provider::KeyFileProvider;
use tutela_import::{Encoding, ImportReader};
use tutela_store::{Classification, FieldDef, FieldKind};
use tutela_store_sqlite::SqliteStore;
use uuid::Uuid;

use crate::data;

/// One installation and the people in it.
pub struct Installation {
    pub dir: TempDir,
    pub tutela: Arc<Tutela>,
    pub steward: Principal,
    /// The steward's API token (scopes: every data-steward permission).
    pub token: SecretString,
}

impl Installation {
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("tutela.db")
    }

    /// Opens a new installation in a fresh temporary directory under `parent`.
    pub async fn create(parent: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("tutela-bench-").tempdir_in(parent)?;
        let provider = Arc::new(KeyFileProvider::open_or_create(&dir.path().join("keys/root.key"))?);
        let store = Arc::new(SqliteStore::open(&dir.path().join("tutela.db")).await?);
        // Small Argon2 parameters: passwords are not on any measured path.
        let hasher = PasswordHasher::with_params(256, 1, 1, 2);
        let tutela = Arc::new(Tutela::open(store, provider, Arc::new(SystemClock), hasher, Config::default()).await?);

        let password = || SecretString::from("a long bench password".to_owned());
        let admin = tutela
            .init_admin(NewUser {
                email: "admin@bench.example".into(),
                display_name: "Bench admin".into(),
                password: password(),
                roles: Vec::new(),
            })
            .await?;
        let admin = principal(admin.id, "admin@bench.example", "administrator");
        // A seventh plaintext field, so that a record has ten: seven plain, three sealed.
        tutela
            .put_field(
                &admin,
                FieldDef {
                    id: "industry".into(),
                    label_en: "Industry".into(),
                    label_zh: "行业".into(),
                    kind: FieldKind::Text,
                    classification: Classification::Internal,
                    required: false,
                    position: 140,
                },
            )
            .await?;
        let steward = tutela
            .create_user(
                &admin,
                NewUser {
                    email: "steward@bench.example".into(),
                    display_name: "Bench data steward".into(),
                    password: password(),
                    roles: vec!["data-steward".into()],
                },
            )
            .await?;
        let mut steward = principal(steward.id, "steward@bench.example", "data-steward");
        steward.source = Some("127.0.0.1".into());
        let scopes: Vec<String> = steward.permissions.iter().map(|p| p.as_str().to_owned()).collect();
        let token = tutela.create_api_token(&steward, "bench", &scopes, None).await?.token;
        Ok(Self { dir, tutela, steward, token })
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token.expose_secret())
    }

    /// Imports customers `from..to` through `Tutela::import_customers`; returns the time taken
    /// (not counting writing the CSV file).
    pub async fn import(&self, csv: &Path) -> anyhow::Result<(Duration, u64)> {
        let mapping = data::mapping();
        let start = Instant::now();
        let report = self
            .tutela
            .import_customers(
                &self.steward,
                || ImportReader::open(csv, None, Encoding::Auto, &mapping),
                ImportOptions::default(),
                |_| {},
            )
            .await?;
        let took = start.elapsed();
        anyhow::ensure!(
            !report.refused && report.rejected == 0,
            "the import rejected rows: {:?}",
            report.errors.iter().take(3).collect::<Vec<_>>()
        );
        Ok((took, report.imported))
    }

    pub async fn close(&self) {
        self.tutela.close().await;
    }
}

/// Gives customer number i the owner `owners[i % owners.len()]`, written under the store in
/// one transaction (Tutela sets the importer as the owner; spreading records over many owners
/// through the API would take a million updates).
pub async fn assign_owners(tutela_db: &Path, owners: &[Uuid]) -> anyhow::Result<()> {
    let ids = customer_ids(tutela_db).await?;
    let (path, owners) = (tutela_db.to_owned(), owners.to_vec());
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = open_connection(&path, false)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut update = tx.prepare("UPDATE customers SET owner_id = ?1 WHERE id = ?2")?;
            for (id, number) in ids {
                let owner = owners[usize::try_from(number % owners.len() as u64)?];
                update.execute(params![owner, id])?;
            }
        }
        tx.commit()?;
        Ok(())
    })
    .await?
}

/// Every customer's id with its number (from its plaintext name), read under the store.
pub async fn customer_ids(tutela_db: &Path) -> anyhow::Result<Vec<(Uuid, u64)>> {
    let path = tutela_db.to_owned();
    let rows = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(Uuid, String)>> {
        let conn = open_connection(&path, false)?;
        let mut stmt = conn.prepare("SELECT id, json_extract(plain, '$.name') FROM customers")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
    .await??;
    rows.into_iter()
        .map(|(id, name)| Ok((id, data::number_of(&name).with_context(|| format!("customer name {name:?}"))?)))
        .collect()
}

/// A principal holding the permissions of a built-in role.
fn principal(user_id: Uuid, label: &str, role: &str) -> Principal {
    let permissions: BTreeSet<Permission> = builtin_roles()
        .into_iter()
        .find(|(name, _, _)| *name == role)
        .map(|(_, _, p)| p.into_iter().collect())
        .unwrap_or_default();
    Principal::direct(Some(user_id), label, permissions, Credential::Session, None)
}

/// Idle connections kept for point reads; more are opened when needed and closed when
/// returned. As in Tutela's store (`crates/store-sqlite/src/connections.rs`).
const MAX_IDLE_READERS: usize = 8;
/// Page cache per connection: 8 MiB, as in Tutela's store.
const CACHE_KIB_PER_CONNECTION: i64 = 8 * 1024;
/// Prepared statements kept per connection, as in Tutela's store.
const STATEMENT_CACHE: usize = 64;
/// Customers per transaction when filling the plain table (the batch size of Tutela's import).
const ROWS_PER_TRANSACTION: usize = 20_000;

/// A connection to a `SQLite` file with the settings of Tutela's own store (WAL,
/// `synchronous = FULL`, in-memory temporary tables, 8 MiB page cache, 10 s busy timeout,
/// a prepared-statement cache), so that plain and protected differ only in what Tutela adds.
/// (Not `secure_delete` nor `foreign_keys`: the plain tables have neither deletes nor keys.)
pub fn open_connection(path: &Path, create: bool) -> anyhow::Result<Connection> {
    let mut flags = OpenFlags::default();
    if !create {
        flags.remove(OpenFlags::SQLITE_OPEN_CREATE);
    }
    let conn = Connection::open_with_flags(path, flags).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_KIB_PER_CONNECTION};"
    ))?;
    Ok(conn)
}

/// The unprotected twin: the same ten values per customer in plaintext columns, keyed by the
/// same ids, with an index on e-mail. No keys, no audit, no authentication.
///
/// Its connections are handled as Tutela's store handles its own: point reads run on the
/// calling task through a short list of idle connections; writes go through one writer
/// connection, with `BEGIN IMMEDIATE` and `COMMIT` on a blocking thread.
pub struct PlainDb {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    writer: Arc<tokio::sync::Mutex<Connection>>,
}

type Writer = tokio::sync::OwnedMutexGuard<Connection>;

impl PlainDb {
    fn with_writer(path: PathBuf, writer: Connection) -> Self {
        Self { path, idle: Mutex::new(Vec::new()), writer: Arc::new(tokio::sync::Mutex::new(writer)) }
    }

    /// Creates the table (with its e-mail index) and inserts the customers through rusqlite,
    /// one prepared `INSERT` per row, 20,000 rows per transaction (the batch size of Tutela's
    /// import), on a blocking thread.
    pub async fn create(path: &Path, customers: Vec<(Uuid, u64)>) -> anyhow::Result<Self> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut writer = open_connection(&path, true)?;
            let columns: Vec<String> = data::FIELDS.iter().map(|f| format!("{f} TEXT NOT NULL")).collect();
            writer.execute_batch(&format!(
                "CREATE TABLE customers (id BLOB PRIMARY KEY, {}) STRICT, WITHOUT ROWID;
                 CREATE INDEX customers_by_email ON customers (email);
                 CREATE TABLE writes (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,
                     action TEXT NOT NULL, customer BLOB, fields TEXT NOT NULL, purpose TEXT) STRICT;",
                columns.join(", ")
            ))?;
            let placeholders = vec!["?"; data::FIELDS.len() + 1].join(", ");
            let insert = format!("INSERT INTO customers (id, {}) VALUES ({placeholders})", data::FIELDS.join(", "));
            for chunk in customers.chunks(ROWS_PER_TRANSACTION) {
                let tx = writer.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
                    let mut statement = tx.prepare_cached(&insert)?;
                    for (id, i) in chunk {
                        let values = data::customer(*i);
                        let id: &dyn ToSql = id;
                        statement.execute(params_from_iter(
                            std::iter::once(id).chain(values.iter().map(|v| v as &dyn ToSql)),
                        ))?;
                    }
                }
                tx.commit()?;
            }
            Ok(Self::with_writer(path, writer))
        })
        .await?
    }

    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            let writer = open_connection(&path, false)?;
            Ok(Self::with_writer(path, writer))
        })
        .await?
    }

    /// Builds the plain twin of the installation at `tutela_db` in a child process, so that
    /// the building leaves nothing in this process's memory; then opens it here.
    pub async fn build_in_child(tutela_db: &Path, plain_db: &Path) -> anyhow::Result<Self> {
        let mut command = std::process::Command::new(std::env::current_exe()?);
        command.arg("--build-plain").arg(tutela_db).arg(plain_db);
        let status = tokio::task::spawn_blocking(move || command.status()).await??;
        anyhow::ensure!(status.success(), "building the plain table failed ({status})");
        Self::open(plain_db).await
    }

    /// One durable write of an audit-like row in its own transaction (`synchronous = FULL`):
    /// what a plain application pays to record an access, without chain or signature. Done
    /// as Tutela's store does its writes: the writer connection taken, `BEGIN IMMEDIATE` on a
    /// blocking thread, the cached `INSERT` on the calling task, `COMMIT` on a blocking thread.
    pub async fn durable_insert(&self, customer: Uuid, fields: &str, purpose: &str) -> anyhow::Result<()> {
        // As the store does: the in-process writer lock orders transactions, so BEGIN takes
        // the file lock at once, on the calling task; COMMIT waits for fsync elsewhere.
        let writer = Arc::clone(&self.writer).lock_owned().await;
        // A transaction left open by a failure before must not be carried into this one.
        if !writer.is_autocommit() {
            writer.execute_batch("ROLLBACK")?;
        }
        writer.execute_batch("BEGIN IMMEDIATE")?;
        let inserted = writer
            .prepare_cached(
                "INSERT INTO writes (at, actor, action, customer, fields, purpose) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    time::OffsetDateTime::now_utc().unix_timestamp(),
                    "steward@bench.example",
                    "customer.reveal",
                    customer,
                    fields,
                    purpose
                ])
            });
        if let Err(e) = inserted {
            writer.execute_batch("ROLLBACK")?;
            return Err(e.into());
        }
        on_blocking_thread(writer, |c| c.execute_batch("COMMIT")).await?;
        Ok(())
    }

    /// Runs a short read on the calling thread, with an idle connection or a new one.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> anyhow::Result<T> {
        let popped = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match popped {
            Some(conn) => conn,
            None => open_connection(&self.path, false)?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        Ok(out?)
    }

    /// The ten values of one customer (a point read, on the calling task).
    pub fn get(&self, id: Uuid) -> anyhow::Result<Option<[String; 10]>> {
        self.read(|c| c.prepare_cached(SELECT_BY_ID)?.query_row([id], plain_row).optional())
    }

    /// The customers with this e-mail address (a point read, on the calling task).
    pub fn by_email(&self, email: &str) -> anyhow::Result<Vec<[String; 10]>> {
        self.read(|c| c.prepare_cached(SELECT_BY_EMAIL)?.query_map([email], plain_row)?.collect())
    }
}

/// Runs `f` with the held writer on a blocking thread and gives the writer back.
async fn on_blocking_thread(
    writer: Writer,
    f: impl FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
) -> anyhow::Result<Writer> {
    tokio::task::spawn_blocking(move || {
        f(&writer)?;
        Ok(writer)
    })
    .await?
}

/// The columns in [`data::FIELDS`] order.
const SELECT_BY_ID: &str = "SELECT name, company, title, region, source, annual_revenue, industry, email, phone, national_id \
     FROM customers WHERE id = ?1";
const SELECT_BY_EMAIL: &str = "SELECT name, company, title, region, source, annual_revenue, industry, email, phone, national_id \
     FROM customers WHERE email = ?1";

/// One row of `SELECT_BY_*`, decoded into owned values in [`data::FIELDS`] order.
fn plain_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[String; 10]> {
    Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?])
}

/// Resident memory of this process, from /proc/self/status: (`VmRSS`, `VmHWM`) in bytes.
pub fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
