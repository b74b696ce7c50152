//! Password hashing with Argon2id, kept off the async worker threads.
//!
//! An Argon2id hash deliberately costs tens of milliseconds of CPU and ~19 MiB of memory. Run
//! on an async worker it would stall every other request on that thread, and run without a
//! bound a burst of logins could exhaust memory. So each hash or verification runs on
//! tokio's blocking pool, and a semaphore caps how many run at once (by default, one per
//! available CPU).
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), which carry their own
//! parameters: raising the cost later does not break existing hashes (see
//! [`PasswordHasher::needs_rehash`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::available_parallelism;

use argon2::password_hash::{self, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::CryptoError;
use crate::secret::random_bytes;

/// Hashes and verifies passwords. Cheap to clone: clones share the same semaphore.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    /// The configured hasher, or why the configured parameters were refused (reported by
    /// every call, so that [`PasswordHasher::with_params`] need not fail or panic).
    argon2: Result<Argon2<'static>, String>,
    params: Params,
    /// A syntactically valid hash with the configured parameters that no password matches
    /// in practice, for [`PasswordHasher::verify_dummy`].
    dummy_phc: String,
    permits: Arc<Semaphore>,
    /// Verifications started, real and dummy alike: sign-in load for the metrics, and the
    /// proof in tests that every refusal costs the same work.
    verifications: AtomicU64,
}

/// Fixed 16-byte salt of the dummy hash ("tutela dummysalt"). Its value is irrelevant; its
/// length equals a real salt's, so verifying against it costs the same work.
const DUMMY_SALT_B64: &str = "dHV0ZWxhIGR1bW15c2FsdA";
/// Fixed 32-byte output of the dummy hash.
const DUMMY_HASH_B64: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

impl PasswordHasher {
    /// OWASP-recommended Argon2id cost (m = 19456 KiB, t = 2, p = 1), with as many concurrent
    /// hashes as the machine has CPUs.
    pub fn new() -> Self {
        Self::build(Ok(Params::DEFAULT), default_permits())
    }

    /// Explicit Argon2id cost (memory in KiB, passes, lanes) and concurrency, mainly for
    /// tests. Parameters that Argon2 refuses do not panic here: every later call returns
    /// [`CryptoError::PasswordHash`]. Use [`PasswordHasher::try_with_params`] to find out at
    /// once. A `permits` of 0 is treated as 1.
    pub fn with_params(memory_kib: u32, iterations: u32, parallelism: u32, permits: usize) -> Self {
        let params = Params::new(memory_kib, iterations, parallelism, None).map_err(|e| e.to_string());
        Self::build(params, permits)
    }

    /// Like [`PasswordHasher::with_params`], but refuses invalid parameters immediately.
    pub fn try_with_params(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        permits: usize,
    ) -> Result<Self, CryptoError> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| CryptoError::InvalidParameters(format!("Argon2id: {e}")))?;
        Ok(Self::build(Ok(params), permits))
    }

    fn build(params: Result<Params, String>, permits: usize) -> Self {
        let (argon2, params) = match params {
            Ok(params) => (Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())), params),
            Err(e) => (Err(format!("invalid Argon2id parameters: {e}")), Params::DEFAULT),
        };
        let dummy_phc = format!(
            "$argon2id$v=19$m={},t={},p={}${DUMMY_SALT_B64}${DUMMY_HASH_B64}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        );
        let permits = Arc::new(Semaphore::new(permits.max(1)));
        Self { inner: Arc::new(Inner { argon2, params, dummy_phc, permits, verifications: AtomicU64::new(0) }) }
    }

    /// Hashes `password` with a fresh random salt; returns a PHC string.
    pub async fn hash(&self, password: SecretString) -> Result<String, CryptoError> {
        let argon2 = self.argon2()?;
        self.run_blocking(move || {
            let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(hashing_error)?;
            let hash = argon2.hash_password(password.expose_secret().as_bytes(), &salt).map_err(hashing_error)?;
            Ok(hash.to_string())
        })
        .await
    }

    /// Checks `password` against a stored PHC string. A wrong password is `Ok(false)`; an
    /// unparseable or non-Argon2id hash is an error.
    pub async fn verify(&self, password: SecretString, phc: &str) -> Result<bool, CryptoError> {
        let argon2 = self.argon2()?;
        let phc = phc.to_owned();
        self.inner.verifications.fetch_add(1, Ordering::Relaxed);
        self.run_blocking(move || verify_blocking(&argon2, &password, &phc)).await
    }

    /// Spends the same work as [`PasswordHasher::verify`] against a fixed dummy hash with the
    /// configured parameters. Call it when the user does not exist, so that the response time
    /// does not reveal whether an account exists.
    pub async fn verify_dummy(&self, password: SecretString) {
        let Ok(argon2) = self.argon2() else { return };
        let dummy = self.inner.dummy_phc.clone();
        self.inner.verifications.fetch_add(1, Ordering::Relaxed);
        // The outcome is meaningless by construction; only the time spent matters.
        let _ = self.run_blocking(move || verify_blocking(&argon2, &password, &dummy)).await;
    }

    /// How many verifications ([`PasswordHasher::verify`] and
    /// [`PasswordHasher::verify_dummy`] together) this hasher and its clones have started.
    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// True if `phc` was not made with this hasher's algorithm, version and cost (or cannot
    /// be parsed): the caller should re-hash the password after the next successful login.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        let wanted = &self.inner.params;
        parsed.algorithm != argon2::ARGON2ID_IDENT
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != wanted.m_cost()
            || params.t_cost() != wanted.t_cost()
            || params.p_cost() != wanted.p_cost()
    }

    fn argon2(&self) -> Result<Argon2<'static>, CryptoError> {
        self.inner.argon2.clone().map_err(CryptoError::PasswordHash)
    }

    /// Runs `job` on the blocking pool once a permit is free. The permit moves into the job,
    /// so it stays held until the work really ends, even if the caller's future is dropped.
    async fn run_blocking<T, F>(&self, job: F) -> Result<T, CryptoError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, CryptoError> + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| CryptoError::PasswordHash("the hashing pool is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|_| CryptoError::PasswordHash("the hashing task failed".into()))?
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = &self.inner.params;
        f.debug_struct("PasswordHasher")
            .field("m_kib", &params.m_cost())
            .field("t", &params.t_cost())
            .field("p", &params.p_cost())
            .field("valid", &self.inner.argon2.is_ok())
            .finish_non_exhaustive()
    }
}

fn default_permits() -> usize {
    available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Verification proper; `password` is dropped (and so zeroized) when the job ends.
fn verify_blocking(argon2: &Argon2<'_>, password: &SecretString, phc: &str) -> Result<bool, CryptoError> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| CryptoError::PasswordHash(format!("the stored hash is not a valid PHC string: {e}")))?;
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return Err(CryptoError::PasswordHash("the stored hash is not Argon2id".into()));
    }
    // Uses the parameters and salt recorded in the hash; compares in constant time.
    match argon2.verify_password(password.expose_secret().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(password_hash::Error::Password) => Ok(false),
        Err(e) => Err(hashing_error(e)),
    }
}

fn hashing_error(e: password_hash::Error) -> CryptoError {
    CryptoError::PasswordHash(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::with_params(64, 1, 1, 2)
    }

    fn pw(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[tokio::test]
    async fn hash_and_verify_round_trip() {
        let hasher = cheap();
        let phc = hasher.hash(pw("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(hasher.verify(pw("correct horse"), &phc).await.unwrap());
        assert!(!hasher.verify(pw("wrong horse"), &phc).await.unwrap());
        assert!(!hasher.verify(pw(""), &phc).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_gets_different_salts() {
        let hasher = cheap();
        assert_ne!(hasher.hash(pw("x")).await.unwrap(), hasher.hash(pw("x")).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_verify_under_a_hasher_with_other_parameters() {
        let phc = cheap().hash(pw("pw")).await.unwrap();
        let other = PasswordHasher::with_params(128, 2, 1, 1);
        assert!(other.verify(pw("pw"), &phc).await.unwrap());
        assert!(other.needs_rehash(&phc));
        assert!(!cheap().needs_rehash(&phc));
    }

    #[tokio::test]
    async fn malformed_or_foreign_hashes_are_errors() {
        let hasher = cheap();
        assert!(matches!(hasher.verify(pw("pw"), "").await, Err(CryptoError::PasswordHash(_))));
        assert!(matches!(hasher.verify(pw("pw"), "not a hash").await, Err(CryptoError::PasswordHash(_))));
        let argon2i = "$argon2i$v=19$m=64,t=1,p=1$dHV0ZWxhIGR1bW15c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(matches!(hasher.verify(pw("pw"), argon2i).await, Err(CryptoError::PasswordHash(_))));
        assert!(hasher.needs_rehash("garbage"));
    }

    #[tokio::test]
    async fn real_and_dummy_verifications_are_counted_alike() {
        let hasher = cheap();
        let phc = hasher.hash(pw("pw")).await.unwrap();
        assert_eq!(hasher.verifications(), 0, "hashing is not verifying");
        hasher.verify(pw("wrong"), &phc).await.unwrap();
        hasher.clone().verify_dummy(pw("wrong")).await;
        assert_eq!(hasher.verifications(), 2);
    }

    #[tokio::test]
    async fn verify_dummy_runs_and_its_hash_is_well_formed() {
        let hasher = cheap();
        hasher.verify_dummy(pw("anything")).await;
        let argon2 = hasher.argon2().unwrap();
        let dummy = hasher.inner.dummy_phc.clone();
        assert!(!verify_blocking(&argon2, &pw("anything"), &dummy).unwrap());
        // Same cost as a real hash made by this hasher.
        assert!(!hasher.needs_rehash(&dummy));
        assert!(!PasswordHasher::new().needs_rehash(&PasswordHasher::new().inner.dummy_phc));
    }

    #[tokio::test]
    async fn invalid_parameters_fail_on_use_not_at_construction() {
        let broken = PasswordHasher::with_params(64, 0, 1, 1);
        assert!(matches!(broken.hash(pw("x")).await, Err(CryptoError::PasswordHash(_))));
        broken.verify_dummy(pw("x")).await;
        assert!(matches!(PasswordHasher::try_with_params(64, 0, 1, 1), Err(CryptoError::InvalidParameters(_))));
    }

    #[tokio::test]
    async fn many_concurrent_verifications_complete() {
        let hasher = PasswordHasher::with_params(64, 1, 1, 1);
        let phc = hasher.hash(pw("pw")).await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                let phc = phc.clone();
                tokio::spawn(async move { hasher.verify(pw("pw"), &phc).await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().unwrap());
        }
    }

    #[test]
    fn default_is_owasp() {
        let hasher = PasswordHasher::new();
        let printed = format!("{hasher:?}");
        assert!(printed.contains("m_kib: 19456") && printed.contains("t: 2") && printed.contains("p: 1"), "{printed}");
    }
}
