//! Key rotation: a new KEK version, then every data key re-wrapped under it, online.
//!
//! Resumable by construction: the work list is "records under an older version", so an
//! interrupted run is finished by running again (`tutela keys rotate --resume`). Readers keep
//! working throughout, since old versions stay in the keyring.

use serde::Serialize;
use tutela_crypto::keyring::WrappedKey;
use tutela_store::{KeyRewrap, Mutation, WrappedKeyRef};

use super::{KEK, Keys};
use crate::audit::{AuditEvent, AuditLog};
use crate::clock::Clock;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult};

const BATCH: u32 = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct RotationReport {
    pub version: u32,
    pub customers_rewrapped: u64,
    pub users_rewrapped: u64,
}

impl Keys {
    /// Creates KEK version `current + 1` and re-wraps every data key under it.
    pub async fn rotate(
        &self,
        principal: &Principal,
        audit: &AuditLog,
        clock: &dyn Clock,
        progress: impl FnMut(u64, u64),
    ) -> CoreResult<RotationReport> {
        require_keys(principal, audit).await?;
        let version = self.current_version() + 1;
        let (key, stored) = self.wrap_new(KEK, version, clock)?;
        audit
            .commit(
                vec![Mutation::InsertKey(stored)],
                vec![
                    AuditEvent::by(principal, "keys.create")
                        .detail(serde_json::json!({ "purpose": KEK, "version": version })),
                ],
            )
            .await?;
        self.keyring.write().expect("keyring lock").add_kek(version, key)?;
        self.rewrap_all(principal, audit, progress).await
    }

    /// Re-wraps every data key still under an older version (finishes an interrupted rotation).
    pub async fn rewrap_all(
        &self,
        principal: &Principal,
        audit: &AuditLog,
        mut progress: impl FnMut(u64, u64),
    ) -> CoreResult<RotationReport> {
        require_keys(principal, audit).await?;
        let version = self.current_version();
        let usage = self.store.kek_usage().await?;
        let total: u64 = usage.iter().filter(|(v, _)| *v < version).map(|(_, n)| n).sum();
        let mut done = 0;
        progress(done, total);
        let mut customers = 0;
        let mut users = 0;
        for table in [Table::Customers, Table::Users] {
            let mut after = None;
            loop {
                let refs = match table {
                    Table::Customers => self.store.customer_keys_below(version, after, BATCH).await?,
                    Table::Users => self.store.user_keys_below(version, after, BATCH).await?,
                };
                let Some(last) = refs.last() else { break };
                after = Some(last.id);
                let mutations = refs.iter().map(|r| self.rewrap_ref(r, table)).collect::<CoreResult<Vec<_>>>()?;
                let n = mutations.len() as u64;
                audit.commit(mutations, Vec::new()).await?;
                match table {
                    Table::Customers => customers += n,
                    Table::Users => users += n,
                }
                done += n;
                progress(done, total.max(done));
            }
        }
        let report = RotationReport { version, customers_rewrapped: customers, users_rewrapped: users };
        audit.record(AuditEvent::by(principal, "keys.rewrap").detail(&report)).await?;
        Ok(report)
    }

    fn rewrap_ref(&self, r: &WrappedKeyRef, table: Table) -> CoreResult<Mutation> {
        let wrapped = WrappedKey { kek_version: r.kek_version, bytes: r.wrapped_dek.clone() };
        let new = self.rewrap(r.id.as_bytes(), &wrapped)?;
        let rewrap =
            KeyRewrap { id: r.id, from_version: r.kek_version, to_version: new.kek_version, wrapped_dek: new.bytes };
        Ok(match table {
            Table::Customers => Mutation::RewrapCustomerKey(rewrap),
            Table::Users => Mutation::RewrapUserKey(rewrap),
        })
    }
}

#[derive(Clone, Copy)]
enum Table {
    Customers,
    Users,
}

async fn require_keys(principal: &Principal, audit: &AuditLog) -> CoreResult<()> {
    if principal.has(Permission::KeyManage) {
        return Ok(());
    }
    audit.record(AuditEvent::by(principal, "keys.rotate").outcome(crate::audit::Outcome::Denied)).await?;
    Err(CoreError::Forbidden("key.manage is required".into()))
}
