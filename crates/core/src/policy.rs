//! Permissions and the principal that holds them. Deny by default: a principal can do only
//! what one of its roles grants (and, for an API token, what the token's scopes also allow).

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tutela_store::Classification;
use uuid::Uuid;

use crate::access::Reach;
use crate::identity::Factor;
use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// List and read customers; sealed fields come back masked.
    #[serde(rename = "customer.read")]
    CustomerRead,
    #[serde(rename = "customer.write")]
    CustomerWrite,
    /// Erase customers (crypto-shredding).
    #[serde(rename = "customer.erase")]
    CustomerErase,
    #[serde(rename = "customer.import")]
    CustomerImport,
    #[serde(rename = "customer.export")]
    CustomerExport,
    /// See the plaintext of confidential fields, with a stated purpose.
    #[serde(rename = "reveal.confidential")]
    RevealConfidential,
    /// See the plaintext of restricted fields, with a stated purpose.
    #[serde(rename = "reveal.restricted")]
    RevealRestricted,
    #[serde(rename = "schema.manage")]
    SchemaManage,
    #[serde(rename = "user.manage")]
    UserManage,
    #[serde(rename = "role.manage")]
    RoleManage,
    #[serde(rename = "audit.read")]
    AuditRead,
    #[serde(rename = "key.manage")]
    KeyManage,
    /// Decide others' requests for access beyond their reach (break-glass).
    #[serde(rename = "access.approve")]
    AccessApprove,
    /// Run access-review campaigns: start and close them, read them all and their reports,
    /// and decide any item (reviewers decide their own items without it).
    #[serde(rename = "access.review")]
    AccessReview,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Self::CustomerRead,
        Self::CustomerWrite,
        Self::CustomerErase,
        Self::CustomerImport,
        Self::CustomerExport,
        Self::RevealConfidential,
        Self::RevealRestricted,
        Self::SchemaManage,
        Self::UserManage,
        Self::RoleManage,
        Self::AuditRead,
        Self::KeyManage,
        Self::AccessApprove,
        Self::AccessReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerRead => "customer.read",
            Self::CustomerWrite => "customer.write",
            Self::CustomerErase => "customer.erase",
            Self::CustomerImport => "customer.import",
            Self::CustomerExport => "customer.export",
            Self::RevealConfidential => "reveal.confidential",
            Self::RevealRestricted => "reveal.restricted",
            Self::SchemaManage => "schema.manage",
            Self::UserManage => "user.manage",
            Self::RoleManage => "role.manage",
            Self::AuditRead => "audit.read",
            Self::KeyManage => "key.manage",
            Self::AccessApprove => "access.approve",
            Self::AccessReview => "access.review",
        }
    }

    /// The permission needed to see a sealed field of this classification in plaintext.
    pub fn to_reveal(classification: Classification) -> Option<Permission> {
        match classification {
            Classification::Confidential => Some(Self::RevealConfidential),
            Classification::Restricted => Some(Self::RevealRestricted),
            Classification::Public | Classification::Internal => None,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = CoreError;
    fn from_str(s: &str) -> CoreResult<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|p| p.as_str()).collect();
            CoreError::invalid("permissions", format!("unknown permission {s:?}; known: {}", names.join(", ")))
        })
    }
}

/// How the principal proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session,
    ApiToken {
        token_id: Uuid,
    },
    /// The local command line, run by whoever holds the data directory and its key file.
    LocalCli,
}

/// Who is asking, with the permissions already resolved from roles (and token scopes).
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Option<Uuid>,
    /// E-mail or a fixed label such as `cli`; recorded as the audit actor.
    pub label: String,
    /// The union of the roles' permissions, for checks that do not depend on the record.
    pub permissions: BTreeSet<Permission>,
    pub credential: Credential,
    /// Client address, recorded in the audit log.
    pub source: Option<String>,
    /// Which customer rows and fields the roles reach.
    pub reach: Arc<Reach>,
    /// From this time on, reveals and exports need a fresh proof of identity (a session whose
    /// roles ask for re-authentication); `None` when nothing asks for it.
    pub reauth_due: Option<time::OffsetDateTime>,
    /// The second factor its sign-in proved (for a token, the sign-in that made it); `None`
    /// for the command line and for sign-ins from before factors were recorded.
    pub factor: Option<Factor>,
}

impl Principal {
    /// A principal that holds `permissions` directly, over every record (the local command
    /// line; tests).
    pub fn direct(
        user_id: Option<Uuid>,
        label: impl Into<String>,
        permissions: BTreeSet<Permission>,
        credential: Credential,
        source: Option<String>,
    ) -> Self {
        let reach = Arc::new(Reach::everything(&permissions));
        Self { user_id, label: label.into(), permissions, credential, source, reach, reauth_due: None, factor: None }
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether any role reaches sealed data; such users must use a second factor.
    pub fn reaches_sealed_data(&self) -> bool {
        self.has(Permission::RevealConfidential) || self.has(Permission::RevealRestricted)
    }
}

/// Parses a list of permission names, naming the first unknown one.
pub fn parse_permissions(names: &[String]) -> CoreResult<BTreeSet<Permission>> {
    names.iter().map(|n| n.parse()).collect()
}

/// The roles every installation starts with. The administrator manages users, roles, schema,
/// keys and reads the audit log, but holds no customer permission: separation of duties.
pub fn builtin_roles() -> Vec<(&'static str, &'static str, Vec<Permission>)> {
    use Permission::{
        AccessReview, AuditRead, CustomerErase, CustomerExport, CustomerImport, CustomerRead, CustomerWrite, KeyManage,
        RevealConfidential, RevealRestricted, RoleManage, SchemaManage, UserManage,
    };
    vec![
        (
            "administrator",
            "Manages users, roles, schema and keys; runs access reviews; reads the audit log; no access to customer data",
            vec![UserManage, RoleManage, SchemaManage, KeyManage, AuditRead, AccessReview],
        ),
        ("auditor", "Reads the audit log; changes nothing", vec![AuditRead]),
        (
            "sales",
            "Reads and writes customers; reveals confidential fields with a purpose",
            vec![CustomerRead, CustomerWrite, RevealConfidential],
        ),
        (
            "support",
            "Reads customers; reveals confidential fields with a purpose",
            vec![CustomerRead, RevealConfidential],
        ),
        (
            "data-steward",
            "Full customer data management including restricted fields, import, export and erasure",
            vec![
                CustomerRead,
                CustomerWrite,
                CustomerErase,
                CustomerImport,
                CustomerExport,
                RevealConfidential,
                RevealRestricted,
            ],
        ),
    ]
}
