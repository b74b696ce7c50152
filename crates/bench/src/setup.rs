//! A real installation for the benchmarks: Tutela over a `SQLite` file in a temporary
//! directory, a root key file, the ten-field schema, a data steward with an API token; and
//! the plain `SQLite` database that stands for "the same work unprotected".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
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

/// Every customer's id with its number (from its plaintext name), read under the store.
pub async fn customer_ids(tutela_db: &Path) -> anyhow::Result<Vec<(Uuid, u64)>> {
    let pool = open_pool(tutela_db, 1, false).await?;
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, json_extract(plain, '$.name') FROM customers").fetch_all(&pool).await?;
    pool.close().await;
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
    Principal {
        user_id: Some(user_id),
        label: label.into(),
        permissions,
        credential: Credential::Session,
        source: None,
    }
}

/// A pool on a `SQLite` file with the settings of Tutela's own store (WAL, `synchronous =
/// FULL`, 64 MiB page cache), so that plain and protected differ only in what Tutela adds.
pub async fn open_pool(path: &Path, connections: u32, create: bool) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .pragma("temp_store", "MEMORY")
        .pragma("cache_size", "-65536");
    Ok(SqlitePoolOptions::new().max_connections(connections).min_connections(1).connect_with(options).await?)
}

/// The unprotected twin: the same ten values per customer in plaintext columns, keyed by the
/// same ids, with an index on e-mail. No keys, no audit, no authentication.
pub struct PlainDb {
    pub pool: SqlitePool,
}

impl PlainDb {
    /// Creates the table (with its e-mail index) and inserts the customers through sqlx, one
    /// `INSERT` per row, 2,000 rows per transaction (the batch size of Tutela's import).
    pub async fn create(path: &Path, customers: &[(Uuid, u64)]) -> anyhow::Result<Self> {
        let pool = open_pool(path, 8, true).await?;
        let columns: Vec<String> = data::FIELDS.iter().map(|f| format!("{f} TEXT NOT NULL")).collect();
        sqlx::query(&format!(
            "CREATE TABLE customers (id BLOB PRIMARY KEY, {}) STRICT, WITHOUT ROWID",
            columns.join(", ")
        ))
        .execute(&pool)
        .await?;
        sqlx::query("CREATE INDEX customers_by_email ON customers (email)").execute(&pool).await?;
        sqlx::query(
            "CREATE TABLE writes (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, \
             action TEXT NOT NULL, customer BLOB, fields TEXT NOT NULL, purpose TEXT) STRICT",
        )
        .execute(&pool)
        .await?;
        let placeholders = vec!["?"; data::FIELDS.len() + 1].join(", ");
        let insert = format!("INSERT INTO customers (id, {}) VALUES ({placeholders})", data::FIELDS.join(", "));
        for chunk in customers.chunks(2_000) {
            let mut tx = pool.begin().await?;
            for (id, i) in chunk {
                let mut q = sqlx::query(&insert).bind(*id);
                for value in data::customer(*i) {
                    q = q.bind(value);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Ok(Self { pool })
    }

    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        Ok(Self { pool: open_pool(path, 8, false).await? })
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
    /// what a plain application pays to record an access, without chain or signature.
    pub async fn durable_insert(&self, customer: Uuid, fields: &str, purpose: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO writes (at, actor, action, customer, fields, purpose) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(time::OffsetDateTime::now_utc().unix_timestamp())
        .bind("steward@bench.example")
        .bind("customer.reveal")
        .bind(customer)
        .bind(fields)
        .bind(purpose)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The ten values of one customer.
    pub async fn get(&self, id: Uuid) -> anyhow::Result<Option<[String; 10]>> {
        let row: Option<PlainRow> = sqlx::query_as(SELECT_BY_ID).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(PlainRow::values))
    }

    /// The customers with this e-mail address.
    pub async fn by_email(&self, email: &str) -> anyhow::Result<Vec<[String; 10]>> {
        let rows: Vec<PlainRow> = sqlx::query_as(SELECT_BY_EMAIL).bind(email).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(PlainRow::values).collect())
    }
}

const SELECT_BY_ID: &str = "SELECT name, company, title, region, source, annual_revenue, industry, email, phone, national_id \
     FROM customers WHERE id = ?1";
const SELECT_BY_EMAIL: &str = "SELECT name, company, title, region, source, annual_revenue, industry, email, phone, national_id \
     FROM customers WHERE email = ?1";

#[derive(sqlx::FromRow)]
struct PlainRow {
    name: String,
    company: String,
    title: String,
    region: String,
    source: String,
    annual_revenue: String,
    industry: String,
    email: String,
    phone: String,
    national_id: String,
}

impl PlainRow {
    fn values(self) -> [String; 10] {
        [
            self.name,
            self.company,
            self.title,
            self.region,
            self.source,
            self.annual_revenue,
            self.industry,
            self.email,
            self.phone,
            self.national_id,
        ]
    }
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
