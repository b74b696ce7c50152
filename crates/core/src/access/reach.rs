//! How far one principal reaches into customer data: which rows (data scopes, the
//! organisation default, sharing rules, record shares) and what on each field (field rules
//! over the defaults of each role's permissions).
//!
//! Rows and fields are decided independently, as in most CRMs: a sharing rule or a share
//! opens a record, and the user's field permissions (the union over their roles) decide what
//! of it they see.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use time::OffsetDateTime;
use tutela_store::{Classification, FieldDef, RowScope};
use uuid::Uuid;

use super::levels::{DataScope, FieldAccess, OrgDefault, ShareAccess};
use crate::policy::Permission;

/// One role's part of a principal's reach, its permissions already narrowed by an API
/// token's scopes.
#[derive(Debug, Clone)]
pub struct RoleGrant {
    /// `None` for a principal that holds permissions without roles (the local CLI).
    pub role_id: Option<Uuid>,
    pub role_name: String,
    pub permissions: BTreeSet<Permission>,
    pub scope: DataScope,
    pub field_rules: BTreeMap<String, FieldAccess>,
    /// The owners whose records the scope reaches; `None` for every record.
    pub(crate) owners: Option<BTreeSet<Uuid>>,
}

impl RoleGrant {
    fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    pub(crate) fn admits_owner(&self, owner: Option<Uuid>) -> bool {
        match &self.owners {
            None => true,
            Some(owners) => owner.is_some_and(|o| owners.contains(&o)),
        }
    }

    /// The field's level for this role and whether a field rule set it.
    pub fn level(&self, def: &FieldDef) -> (FieldAccess, bool) {
        if !self.has(Permission::CustomerRead) {
            return (FieldAccess::Hidden, false);
        }
        match self.field_rules.get(&def.id) {
            Some(level) => (*level, true),
            None => (default_level(&self.permissions, def.classification), false),
        }
    }

    pub fn caps(&self, def: &FieldDef) -> FieldCaps {
        let (level, _) = self.level(def);
        let sealed = def.classification.is_sealed();
        FieldCaps {
            visible: level >= FieldAccess::Masked,
            clear: level >= FieldAccess::Read && !sealed,
            reveal: sealed
                && level >= FieldAccess::Reveal
                && Permission::to_reveal(def.classification).is_some_and(|p| self.has(p)),
            write: level >= FieldAccess::Write && self.has(Permission::CustomerWrite),
        }
    }
}

/// The level a role's permissions give a field of this classification when no field rule
/// says otherwise: write with `customer.write`, reveal with the classification's reveal
/// permission, read with `customer.read`, hidden without it.
pub fn default_level(permissions: &BTreeSet<Permission>, classification: Classification) -> FieldAccess {
    if !permissions.contains(&Permission::CustomerRead) {
        FieldAccess::Hidden
    } else if permissions.contains(&Permission::CustomerWrite) {
        FieldAccess::Write
    } else if Permission::to_reveal(classification).is_some_and(|p| permissions.contains(&p)) {
        FieldAccess::Reveal
    } else {
        FieldAccess::Read
    }
}

/// What a principal may do with a field of any record it can read.
#[allow(clippy::struct_excessive_bools)] // four separate rights, not the states of one
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FieldCaps {
    /// Shown at all (masked or clear).
    pub visible: bool,
    /// Shown unmasked (plaintext fields only; sealed ones are revealed one by one).
    pub clear: bool,
    /// A sealed value may be revealed with a purpose.
    pub reveal: bool,
    pub write: bool,
}

impl FieldCaps {
    fn or(self, other: Self) -> Self {
        Self {
            visible: self.visible || other.visible,
            clear: self.clear || other.clear,
            reveal: self.reveal || other.reveal,
            write: self.write || other.write,
        }
    }
}

/// A sharing rule that applies to the principal.
#[derive(Debug, Clone)]
pub struct AppliedRule {
    pub id: Uuid,
    pub name: String,
    pub field_id: String,
    pub value: String,
    pub access: ShareAccess,
}

/// A record share given to the principal, or break-glass access granted to it.
#[derive(Debug, Clone)]
pub struct AppliedShare {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub access: ShareAccess,
    pub expires_at: OffsetDateTime,
    /// Granted by a break-glass request (`id` is the request's).
    pub break_glass: bool,
}

/// What the principal may do with one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RowAccess {
    pub read: bool,
    pub write: bool,
}

/// The parts of a record its access depends on.
#[derive(Debug, Clone, Copy)]
pub struct RowFacts<'a> {
    pub id: Uuid,
    pub owner_id: Option<Uuid>,
    pub plain: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Reach {
    pub(crate) grants: Vec<RoleGrant>,
    pub(crate) org_default: OrgDefault,
    pub(crate) rules: Vec<AppliedRule>,
    pub(crate) shares: Vec<AppliedShare>,
}

impl Reach {
    /// Every record, with the field defaults of `permissions`: for principals that hold
    /// permissions without roles (the local command line, which has the data directory).
    pub fn everything(permissions: &BTreeSet<Permission>) -> Self {
        Self {
            grants: vec![RoleGrant {
                role_id: None,
                role_name: "(local)".to_owned(),
                permissions: permissions.clone(),
                scope: DataScope::All,
                field_rules: BTreeMap::new(),
                owners: None,
            }],
            org_default: OrgDefault::Private,
            rules: Vec::new(),
            shares: Vec::new(),
        }
    }

    pub fn grants(&self) -> &[RoleGrant] {
        &self.grants
    }

    /// Keeps only the permissions an API token's scopes allow.
    pub(crate) fn narrow(&mut self, scopes: &BTreeSet<Permission>) {
        for grant in &mut self.grants {
            grant.permissions.retain(|p| scopes.contains(p));
        }
    }

    fn any(&self, p: Permission) -> bool {
        self.grants.iter().any(|g| g.has(p))
    }

    fn live_shares(&self, now: OffsetDateTime) -> impl Iterator<Item = &AppliedShare> {
        self.shares.iter().filter(move |s| s.expires_at > now)
    }

    /// The field's capabilities: the union over the roles.
    pub fn field(&self, def: &FieldDef) -> FieldCaps {
        self.grants.iter().fold(FieldCaps::default(), |acc, g| acc.or(g.caps(def)))
    }

    /// Whether any role may reveal some field of this classification (a coarse check before
    /// the field-by-field one).
    pub fn reveals_any(&self, classification: Classification) -> bool {
        Permission::to_reveal(classification).is_some_and(|p| self.any(p))
    }

    pub fn row(&self, row: RowFacts<'_>, now: OffsetDateTime) -> RowAccess {
        let can_read = self.any(Permission::CustomerRead);
        let can_write = self.any(Permission::CustomerWrite);
        let rule_hit = |need_write: bool| {
            self.rules.iter().any(|r| {
                (!need_write || r.access == ShareAccess::Write) && row.plain.get(&r.field_id) == Some(&r.value)
            })
        };
        let share_hit = |need_write: bool| {
            self.live_shares(now).any(|s| s.customer_id == row.id && (!need_write || s.access == ShareAccess::Write))
        };
        let read = can_read
            && (self.org_default >= OrgDefault::ReadOnly
                || self.grants.iter().any(|g| g.has(Permission::CustomerRead) && g.admits_owner(row.owner_id))
                || rule_hit(false)
                || share_hit(false));
        let write = read
            && can_write
            && (self.org_default == OrgDefault::ReadWrite
                || self.grants.iter().any(|g| g.has(Permission::CustomerWrite) && g.admits_owner(row.owner_id))
                || rule_hit(true)
                || share_hit(true));
        RowAccess { read, write }
    }

    /// The rows the principal may read, as a store query condition.
    pub fn readable(&self, now: OffsetDateTime) -> RowScope {
        let readers: Vec<&RoleGrant> = self.grants.iter().filter(|g| g.has(Permission::CustomerRead)).collect();
        if readers.is_empty() {
            return RowScope::Only { owners: Vec::new(), ids: Vec::new(), matching: Vec::new() };
        }
        if self.org_default >= OrgDefault::ReadOnly || readers.iter().any(|g| g.owners.is_none()) {
            return RowScope::All;
        }
        let owners: BTreeSet<Uuid> = readers.iter().filter_map(|g| g.owners.as_ref()).flatten().copied().collect();
        let ids: BTreeSet<Uuid> = self.live_shares(now).map(|s| s.customer_id).collect();
        let matching: BTreeSet<(String, String)> =
            self.rules.iter().map(|r| (r.field_id.clone(), r.value.clone())).collect();
        RowScope::Only {
            owners: owners.into_iter().collect(),
            ids: ids.into_iter().collect(),
            matching: matching.into_iter().collect(),
        }
    }
}
