pub mod access;
pub mod audit;
pub mod customers;
pub mod init;
pub mod jobs;
pub mod keys;
pub mod notify;
pub mod org;
pub mod reviews;
pub mod serve;
pub mod sign_in_policy;

use tutela_core::policy::{Credential, Permission, Principal};

/// The local operator: whoever runs the command with the data directory and its root key.
/// Holds the operator permissions only (keys, audit, schema, users), never customer data:
/// customer work goes through the API with a user's token.
pub fn operator() -> Principal {
    Principal::direct(
        None,
        format!("cli:{}", whoami()),
        [Permission::KeyManage, Permission::AuditRead, Permission::SchemaManage, Permission::UserManage]
            .into_iter()
            .collect(),
        Credential::LocalCli,
        None,
    )
}

fn whoami() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into())
}

/// Exports may hold revealed values or the audit trail: readable by the owner only.
pub fn create_private(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use anyhow::Context as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}
