use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The type of a customer field: decides validation, normalisation and masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Email,
    Phone,
    NationalId,
    Date,
    Number,
    BankAccount,
    Address,
    Notes,
}

/// How sensitive a field is. Confidential and restricted fields are sealed at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Restricted,
}

impl Classification {
    pub const ALL: [Classification; 4] = [Self::Public, Self::Internal, Self::Confidential, Self::Restricted];

    /// Sealed classifications are encrypted at rest and masked unless revealed.
    pub fn is_sealed(self) -> bool {
        matches!(self, Self::Confidential | Self::Restricted)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
            Self::Confidential => "confidential",
            Self::Restricted => "restricted",
        }
    }
}

impl FieldKind {
    pub const ALL: [FieldKind; 9] = [
        Self::Text,
        Self::Email,
        Self::Phone,
        Self::NationalId,
        Self::Date,
        Self::Number,
        Self::BankAccount,
        Self::Address,
        Self::Notes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::NationalId => "national_id",
            Self::Date => "date",
            Self::Number => "number",
            Self::BankAccount => "bank_account",
            Self::Address => "address",
            Self::Notes => "notes",
        }
    }

    /// Kinds whose sealed values get a blind index for exact-match search.
    pub fn has_blind_index(self) -> bool {
        matches!(self, Self::Email | Self::Phone | Self::NationalId)
    }
}

/// An unknown enum value in input; the message lists what is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue(pub String);

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FieldKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|k| k.as_str()).collect();
            UnknownValue(format!("unknown field type {s:?}; expected one of {}", names.join(", ")))
        })
    }
}

impl FromStr for Classification {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            UnknownValue(format!(
                "unknown classification {s:?}; expected one of public, internal, confidential, restricted"
            ))
        })
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field of the customer schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Stable identifier (`[a-z][a-z0-9_]{0,63}`); bound into every ciphertext of the field.
    pub id: String,
    pub label_en: String,
    pub label_zh: String,
    pub kind: FieldKind,
    pub classification: Classification,
    pub required: bool,
    pub position: i32,
}
