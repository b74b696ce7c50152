//! The vocabulary of access: how far a role reaches into customer rows, what it may do with
//! a field, what the organisation allows everyone, and what a rule or a share grants.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreResult};

/// Declares a string-valued enum with `as_str`, `ALL`, `Display` and a `FromStr` whose error
/// names `field` and lists the accepted values.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal, { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> CoreResult<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<_> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    CoreError::invalid($field, format!("unknown value {s:?}; expected one of {}", names.join(", ")))
                })
            }
        }
    };
}

named_enum!(
    /// Which customers a role's customer permissions reach, by the record's owner.
    DataScope, "data_scope", {
        /// Records the user owns.
        Own => "own",
        /// Records owned by anyone in the user's team.
        Team => "team",
        /// Records owned by anyone in the user's department or a department below it.
        Department => "department",
        /// Every record.
        All => "all",
    }
);

named_enum!(
    /// What a role may do with one field, each level including the ones before it.
    FieldAccess, "field_rules", {
        /// Not shown, not searchable, not exported: as if the field did not exist.
        Hidden => "hidden",
        /// Shown masked, even when the field is not sealed.
        Masked => "masked",
        /// Shown; a sealed field still masked until revealed.
        Read => "read",
        /// A sealed field may be revealed with a purpose (the classification's reveal
        /// permission is needed as well).
        Reveal => "reveal",
        /// May be changed (with `customer.write`).
        Write => "write",
    }
);

named_enum!(
    /// What everyone with `customer.read` may do with every customer, whatever their scope.
    OrgDefault, "default", {
        /// Only what scopes, sharing rules and shares allow.
        Private => "private",
        /// Everyone reads every record; writing still follows scopes.
        ReadOnly => "read_only",
        /// Everyone reads and writes every record.
        ReadWrite => "read_write",
    }
);

named_enum!(
    /// What a sharing rule or a record share grants.
    ShareAccess, "access", {
        Read => "read",
        Write => "write",
    }
);

named_enum!(
    /// Who a sharing rule is for.
    GranteeKind, "grantee_kind", {
        Role => "role",
        /// Members of the department and of every department below it.
        Department => "department",
        Team => "team",
        User => "user",
    }
);

named_enum!(
    /// What an address-range restriction applies to.
    NetworkSubject, "subject_kind", {
        /// The role applies only to requests from its ranges.
        Role => "role",
        /// The user is refused outside their ranges.
        User => "user",
        /// The API token is refused outside its ranges.
        Token => "token",
    }
);
