//! The connections to one database file: a writer, and readers taken as needed.
//!
//! Point reads run **on the calling task**: a read of a few pages already in `SQLite`'s cache
//! takes microseconds, less than handing it to another thread would. Nothing here holds a
//! connection across an `.await`, so at most one reader is in use per thread running store
//! code, and the idle list bounds itself without a pool's wait queue.
//!
//! Work that may take milliseconds — scans, counts, `BEGIN IMMEDIATE` (which can wait for
//! another process's lock) and `COMMIT` (which waits for `fsync`) — runs on tokio's blocking
//! threads, so the async workers keep serving.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::{OwnedMutexGuard, Semaphore};
use tutela_store::{StoreError, StoreResult};

use crate::convert::backend_err;

/// How long a statement waits for a lock another process holds.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often committed WAL frames are copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// The WAL file is cut back to this size once a checkpoint lets it restart.
const WAL_SIZE_LIMIT: u64 = 64 << 20;
/// Idle readers kept open; more are opened when needed and closed when returned.
const MAX_IDLE_READERS: usize = 8;
/// Scans running at once on blocking threads; further scans wait their turn.
const MAX_CONCURRENT_SCANS: usize = 4;
/// Pages of cache per connection (`SQLite` pages are 4 KiB): 8 MiB each, so that the
/// memory a busy server holds stays bounded; the kernel's page cache is shared by all.
const CACHE_KIB_PER_CONNECTION: i64 = 8 * 1024;
/// The writer's page cache: 32 MiB.
const WRITER_CACHE_KIB: i64 = 32 * 1024;
/// Prepared statements kept per connection; the store has fewer distinct statements.
const STATEMENT_CACHE: usize = 64;

pub(crate) struct Connections {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    scans: Semaphore,
    /// Dropping it stops the checkpointer thread.
    _checkpointer: std::sync::mpsc::Sender<()>,
}

/// The writer connection, held for one write transaction.
pub(crate) type WriterGuard = OwnedMutexGuard<Connection>;

impl Connections {
    /// Opens the writer and runs `prepare` (the migrations) on it before anything else.
    pub(crate) fn open(path: &Path, prepare: impl FnOnce(&mut Connection) -> StoreResult<()>) -> StoreResult<Self> {
        let mut writer = open_connection(path)?;
        prepare(&mut writer)?;
        // The writer never checkpoints: copying the WAL into the database file (and syncing
        // it) inside a COMMIT would stall every request waiting on that commit.
        // A larger cache than a reader's: the writer's pages stay valid across its own commits
        // (readers lose theirs at each commit of the writer), and imports write index pages
        // all over the file.
        writer
            .execute_batch(&format!("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -{WRITER_CACHE_KIB};"))
            .map_err(backend_err)?;
        Ok(Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            scans: Semaphore::new(MAX_CONCURRENT_SCANS),
            _checkpointer: start_checkpointer(open_connection(path)?)?,
        })
    }

    /// Runs a short read on the calling thread.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let conn = match self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop() {
            Some(conn) => conn,
            None => open_connection(&self.path)?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        out
    }

    /// Runs a read that may take a while (a scan, a count) on a blocking thread.
    pub(crate) async fn scan<T, F>(self: &Arc<Self>, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let _turn = self.scans.acquire().await.map_err(backend_err)?;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.read(f)).await.map_err(backend_err)?
    }

    /// Closes the idle readers, after any write transaction in progress has ended.
    pub(crate) async fn close(&self) {
        let _writer = self.writer.lock().await;
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Takes the writer connection, waiting for the transaction before.
    pub(crate) async fn writer(&self) -> WriterGuard {
        Arc::clone(&self.writer).lock_owned().await
    }

    /// Takes the writer connection (waiting for the transaction before) and runs `f` with it
    /// on a blocking thread, handing the connection back for more work.
    pub(crate) async fn with_writer<T, F>(&self, f: F) -> StoreResult<(WriterGuard, T)>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        on_blocking_thread(self.writer().await, f).await
    }
}

/// Runs `f` with a held writer on a blocking thread and gives the writer back.
pub(crate) async fn on_blocking_thread<T, F>(guard: WriterGuard, f: F) -> StoreResult<(WriterGuard, T)>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let out = f(&guard)?;
        Ok((guard, out))
    })
    .await
    .map_err(backend_err)?
}

/// Copies committed WAL frames into the database file from a thread of its own, every
/// `CHECKPOINT_EVERY`, without blocking the writer (a PASSIVE checkpoint copies what no
/// reader still needs and lets commits go on meanwhile). Stops when the sender is dropped.
fn start_checkpointer(conn: Connection) -> StoreResult<std::sync::mpsc::Sender<()>> {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("tutela-sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                    tracing::warn!(error = %e, "SQLite WAL checkpoint failed; retrying");
                }
            }
        })
        .map_err(backend_err)?;
    Ok(stop)
}

fn open_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path).map_err(backend_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL lets readers go on while the writer commits; FULL makes an acknowledged commit
    // survive power loss; secure_delete overwrites the pages an erasure frees.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{CACHE_KIB_PER_CONNECTION};
         PRAGMA journal_size_limit = {WAL_SIZE_LIMIT};"
    ))
    .map_err(|e| StoreError::Backend(format!("opening {}: {e}", path.display())))?;
    Ok(conn)
}
