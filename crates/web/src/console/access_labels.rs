//! Message keys of the access vocabulary (the domain's names stay in the forms' values).

use tutela_core::access::{DataScope, FieldAccess, GranteeKind, OrgDefault, ShareAccess};

use super::layout::Chrome;

pub fn org_default_key(d: OrgDefault) -> &'static str {
    match d {
        OrgDefault::Private => "access-default-private",
        OrgDefault::ReadOnly => "access-default-read-only",
        OrgDefault::ReadWrite => "access-default-read-write",
    }
}

pub fn share_key(a: ShareAccess) -> &'static str {
    match a {
        ShareAccess::Read => "access-share-read",
        ShareAccess::Write => "access-share-write",
    }
}

pub fn grantee_key(k: GranteeKind) -> &'static str {
    match k {
        GranteeKind::Role => "access-grantee-role",
        GranteeKind::Department => "access-grantee-department",
        GranteeKind::Team => "access-grantee-team",
        GranteeKind::User => "access-grantee-user",
    }
}

pub fn scope_key(s: DataScope) -> &'static str {
    match s {
        DataScope::Own => "roles-scope-own",
        DataScope::Team => "roles-scope-team",
        DataScope::Department => "roles-scope-department",
        DataScope::All => "roles-scope-all",
    }
}

pub fn level_key(l: FieldAccess) -> &'static str {
    match l {
        FieldAccess::Hidden => "roles-level-hidden",
        FieldAccess::Masked => "roles-level-masked",
        FieldAccess::Read => "roles-level-read",
        FieldAccess::Reveal => "roles-level-reveal",
        FieldAccess::Write => "roles-level-write",
    }
}

/// A stored name in the user's language; one this version does not know is shown as stored.
pub fn stored<T: std::str::FromStr>(chrome: &Chrome, raw: &str, key: fn(T) -> &'static str) -> String {
    raw.parse::<T>().map_or_else(|_| raw.to_owned(), |v| chrome.t(key(v)))
}
