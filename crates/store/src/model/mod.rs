//! Row models: what the store persists, nothing more. Domain rules live in `tutela-core`.

mod audit;
mod customer;
mod exports;
mod identity;
mod jobs;
mod keys;
mod mutation;
mod notify;
mod org;
mod reviews;
mod schema;
mod sso;

pub use audit::{AuditCheckpoint, AuditFilter, AuditRecord};
pub use customer::{
    BlindEntry, CustomerQuery, CustomerRow, ErasureRecord, FilterOp, KeyRewrap, PlainFilter, SortKey, WrappedKeyRef,
};
pub use exports::ExportRequestRow;
pub use identity::{ApiTokenRow, PasskeyRow, RoleRow, SessionRow, UserRow, UserStatus};
pub use jobs::{JobLeaseRow, JobRunRow};
pub use keys::StoredKey;
pub use mutation::{Mutation, OrgChange};
pub use notify::{DeliveryRow, DeliveryUpdate, KnownDeviceRow, NoticeRows, NotificationRow};
pub use org::{
    BreakGlassRow, DepartmentRow, MembershipRow, NetworkRuleRow, RecordShareRow, RowScope, SharingRuleRow, TeamRow,
};
pub use reviews::{ReviewCampaignRow, ReviewChange, ReviewItemRow};
pub use schema::{Classification, FieldDef, FieldKind, UnknownValue};
pub use sso::SsoIdentityRow;

/// Parses a stored enum value, naming the column on failure.
pub fn parse_stored<T: std::str::FromStr>(column: &str, value: &str) -> Result<T, crate::StoreError> {
    value.parse().map_err(|_| crate::StoreError::Corrupt(format!("{column}: unknown value {value:?}")))
}
