//! The application handle: store, keys, audit log, clock and password hasher, wired once.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tutela_crypto::password::PasswordHasher;
use tutela_crypto::provider::RootKeyProvider;
use tutela_store::{Mutation, RoleRow, Store};

use crate::access::DataScope;
use crate::audit::{self, AuditEvent, AuditLog, Outcome, VerifyReport};
use crate::clock::Clock;
use crate::identity::{Ceremonies, Lockouts, PasswordPolicy, RelyingParty, SignInLimits, SsoConfig};
use crate::keys::Keys;
use crate::notify::{Notifier, NotifyConfig};
use crate::policy::{Permission, Principal, builtin_roles};
use crate::schema::default_fields;
use crate::stamp_cache::StampCache;
use crate::{CoreError, CoreResult};

/// Policy settings of the domain.
#[derive(Debug, Clone)]
pub struct Config {
    /// A session unused this long ends.
    pub session_idle: time::Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_absolute: time::Duration,
    /// Time to complete the second factor after the password.
    pub second_factor_window: time::Duration,
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// The shortest password accepted, in characters (8 to 64); see [`PasswordPolicy`].
    pub password_min_length: usize,
    /// Throttling and lockout of failed sign-ins; see [`SignInLimits`].
    pub sign_in: SignInLimits,
    /// Where passkeys are bound (from the console's public URL); `None` turns passkeys off.
    pub relying_party: Option<RelyingParty>,
    /// Single sign-on with an OpenID provider; `None` turns it off.
    pub sso: Option<SsoConfig>,
    /// Notices: e-mail settings, attempts, the console's URL for links.
    pub notify: NotifyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            session_idle: time::Duration::minutes(30),
            session_absolute: time::Duration::hours(12),
            second_factor_window: time::Duration::minutes(10),
            totp_issuer: "Tutela".into(),
            password_min_length: 12,
            sign_in: SignInLimits::default(),
            relying_party: Some(RelyingParty {
                id: "localhost".into(),
                origin: "https://localhost:8443".into(),
                name: "Tutela".into(),
            }),
            sso: None,
            notify: NotifyConfig::default(),
        }
    }
}

pub struct Tutela {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: Keys,
    pub(crate) audit: AuditLog,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) passwords: PasswordHasher,
    pub(crate) password_policy: PasswordPolicy,
    pub(crate) lockouts: Lockouts,
    pub(crate) config: Config,
    /// The schema and token principals, valid while the store's stamp is unchanged.
    pub(crate) cache: StampCache,
    /// The relying party's WebAuthn checks; `None` when passkeys are off.
    pub(crate) webauthn: Option<webauthn_rs::Webauthn>,
    /// Passkey ceremonies between their two round trips.
    pub(crate) ceremonies: Ceremonies,
    /// The notifier's channels (e-mail when configured) and settings.
    pub(crate) notifier: Notifier,
    audit_public_keys: HashMap<u32, [u8; 32]>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Tutela {
    /// Opens an installation: unwraps the keys (creating them, the default schema and the
    /// built-in roles on first use) and starts the audit writer.
    pub async fn open(
        store: Arc<dyn Store>,
        provider: Arc<dyn RootKeyProvider>,
        clock: Arc<dyn Clock>,
        passwords: PasswordHasher,
        config: Config,
    ) -> CoreResult<Self> {
        let password_policy = PasswordPolicy::new(config.password_min_length)?;
        let lockouts = Lockouts::new(config.sign_in.clone());
        let webauthn = config.relying_party.as_ref().map(RelyingParty::webauthn).transpose()?;
        let notifier = Notifier::new(&config.notify)?;
        let opened = Keys::open(store.clone(), provider, clock.as_ref()).await?;
        let (audit, writer) = AuditLog::start(store.clone(), opened.signer, clock.clone());
        let tutela = Self {
            store,
            keys: opened.keys,
            audit,
            clock,
            passwords,
            password_policy,
            lockouts,
            config,
            cache: StampCache::default(),
            webauthn,
            ceremonies: Ceremonies::default(),
            notifier,
            audit_public_keys: opened.audit_public_keys,
            writer: Mutex::new(Some(writer)),
        };
        if opened.created {
            tutela.seed().await?;
        } else {
            tutela.upgrade_builtin_roles().await?;
        }
        Ok(tutela)
    }

    async fn seed(&self) -> CoreResult<()> {
        let mut mutations: Vec<Mutation> = default_fields().into_iter().map(Mutation::PutField).collect();
        for (name, description, permissions) in builtin_roles() {
            mutations.push(Mutation::PutRole(RoleRow {
                id: uuid::Uuid::now_v7(),
                name: name.into(),
                description: description.into(),
                builtin: true,
                permissions: permissions.iter().map(|p| p.as_str().to_owned()).collect(),
                data_scope: DataScope::All.as_str().to_owned(),
                field_rules: std::collections::BTreeMap::new(),
            }));
        }
        let event = AuditEvent::anonymous("system", "system.init", None)
            .detail(serde_json::json!({ "keys": ["kek v1", "blind-index v1", "audit-signing v1"] }));
        self.audit.commit(mutations, vec![event]).await
    }

    /// Commits what is queued in the audit log and stops its writer.
    pub async fn close(&self) {
        self.audit.close().await;
        if let Some(handle) = self.writer.lock().await.take() {
            let _ = handle.await;
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }

    pub fn password_hasher(&self) -> &PasswordHasher {
        &self.passwords
    }

    /// Deny by default: the permission or a `Forbidden`, the refusal itself audited.
    pub async fn require(&self, principal: &Principal, permission: Permission, action: &'static str) -> CoreResult<()> {
        if principal.has(permission) {
            return Ok(());
        }
        self.audit
            .record(
                AuditEvent::by(principal, action)
                    .outcome(Outcome::Denied)
                    .detail(serde_json::json!({ "missing": permission })),
            )
            .await?;
        Err(CoreError::Forbidden(format!("{permission} is required")))
    }

    /// Walks the whole audit chain; see [`audit::verify`].
    pub async fn verify_audit(&self, progress: impl FnMut(u64)) -> CoreResult<VerifyReport> {
        audit::verify(self.store.as_ref(), &self.audit_public_keys, progress).await
    }

    /// Rotates the key-encryption key and re-wraps every data key.
    pub async fn rotate_keys(
        &self,
        principal: &Principal,
        progress: impl FnMut(u64, u64),
    ) -> CoreResult<crate::keys::RotationReport> {
        self.keys.rotate(principal, &self.audit, self.clock.as_ref(), progress).await
    }

    /// Finishes an interrupted rotation.
    pub async fn resume_rotation(
        &self,
        principal: &Principal,
        progress: impl FnMut(u64, u64),
    ) -> CoreResult<crate::keys::RotationReport> {
        self.keys.rewrap_all(principal, &self.audit, progress).await
    }
}
