//! Ready-made mappings for CRM exports, and recognising which CRM a file
//! came from by its header row.
//!
//! The header tables live in [`zoho`] and [`fxiaoke`]; each lists, per Tutela
//! field, the English and Chinese labels the CRM uses for it.

mod fxiaoke;
mod zoho;

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::header::normalize_header;
use crate::mapping::{ColumnMapping, FieldRule, Source};

/// A CRM export layout with a built-in mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Preset {
    /// Zoho CRM, Contacts module (联系人).
    #[serde(rename = "zoho-contacts")]
    ZohoContacts,
    /// Zoho CRM, Accounts module (客户).
    #[serde(rename = "zoho-accounts")]
    ZohoAccounts,
    /// Zoho CRM, Leads module (线索).
    #[serde(rename = "zoho-leads")]
    ZohoLeads,
    /// Fxiaoke (纷享销客) CRM, 客户 (customer / account) object.
    #[serde(rename = "fxiaoke-customers")]
    FxiaokeCustomers,
    /// Fxiaoke (纷享销客) CRM, 联系人 (contact) object.
    #[serde(rename = "fxiaoke-contacts")]
    FxiaokeContacts,
}

/// Fewest matching header columns for [`detect_preset`] to name a preset.
const MIN_MATCHING_COLUMNS: usize = 2;

impl Preset {
    /// Every preset, in menu order.
    pub fn all() -> &'static [Preset] {
        &[Self::ZohoContacts, Self::ZohoAccounts, Self::ZohoLeads, Self::FxiaokeCustomers, Self::FxiaokeContacts]
    }

    /// Stable id for the CLI, the API and saved settings.
    pub fn id(&self) -> &'static str {
        match self {
            Self::ZohoContacts => "zoho-contacts",
            Self::ZohoAccounts => "zoho-accounts",
            Self::ZohoLeads => "zoho-leads",
            Self::FxiaokeCustomers => "fxiaoke-customers",
            Self::FxiaokeContacts => "fxiaoke-contacts",
        }
    }

    /// The preset with this id (ASCII case-insensitive).
    pub fn from_id(s: &str) -> Option<Preset> {
        let s = s.trim();
        Self::all().iter().copied().find(|p| p.id().eq_ignore_ascii_case(s))
    }

    /// Name shown in the English interface.
    pub fn label_en(&self) -> &'static str {
        match self {
            Self::ZohoContacts => "Zoho CRM – Contacts",
            Self::ZohoAccounts => "Zoho CRM – Accounts",
            Self::ZohoLeads => "Zoho CRM – Leads",
            Self::FxiaokeCustomers => "Fxiaoke CRM – Customers",
            Self::FxiaokeContacts => "Fxiaoke CRM – Contacts",
        }
    }

    /// Name shown in the Chinese interface.
    pub fn label_zh(&self) -> &'static str {
        match self {
            Self::ZohoContacts => "Zoho CRM – 联系人",
            Self::ZohoAccounts => "Zoho CRM – 客户",
            Self::ZohoLeads => "Zoho CRM – 线索",
            Self::FxiaokeCustomers => "纷享销客 – 客户",
            Self::FxiaokeContacts => "纷享销客 – 联系人",
        }
    }

    /// The mapping for this export: per field, the English and Chinese header
    /// variants the CRM uses; the first variant present in the file wins.
    /// Fields whose columns are absent are left out instead of failing,
    /// because exports contain only the columns the user chose.
    pub fn mapping(&self) -> ColumnMapping {
        self.table().fields.iter().fold(ColumnMapping::new(), |mapping, field| mapping.with_rule(field.to_rule()))
    }

    fn table(self) -> &'static PresetTable {
        match self {
            Self::ZohoContacts => &zoho::CONTACTS,
            Self::ZohoAccounts => &zoho::ACCOUNTS,
            Self::ZohoLeads => &zoho::LEADS,
            Self::FxiaokeCustomers => &fxiaoke::CUSTOMERS,
            Self::FxiaokeContacts => &fxiaoke::CONTACTS,
        }
    }

    /// Normalised headers that point at this export: every mapped variant
    /// plus the unmapped columns typical of it (owner, status…).
    fn known_headers(self) -> HashSet<String> {
        let table = self.table();
        table
            .fields
            .iter()
            .flat_map(|field| field.sources)
            .flat_map(PresetSource::headers)
            .chain(table.signature.iter().copied())
            .map(normalize_header)
            .collect()
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Preset {
    type Err = crate::ImportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_id(s).ok_or_else(|| {
            let ids: Vec<&str> = Self::all().iter().map(Preset::id).collect();
            crate::ImportError::Mapping(format!("unknown preset \"{s}\"; use one of: {}", ids.join(", ")))
        })
    }
}

/// Picks the preset whose known headers match the most columns of `headers`.
/// `None` when fewer than two columns match, or when two presets match
/// equally well: guessing between those would route data into wrong fields,
/// so the user is asked to choose.
pub fn detect_preset(headers: &[String]) -> Option<Preset> {
    let columns: HashSet<String> = headers.iter().map(|h| normalize_header(h)).filter(|h| !h.is_empty()).collect();
    let mut scores: Vec<(Preset, usize)> = Preset::all()
        .iter()
        .map(|&preset| {
            let known = preset.known_headers();
            (preset, columns.iter().filter(|c| known.contains(*c)).count())
        })
        .collect();
    scores.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
    match scores.as_slice() {
        [(best, score), rest @ ..] if *score >= MIN_MATCHING_COLUMNS => {
            let tied = rest.first().is_some_and(|(_, second)| second == score);
            (!tied).then_some(*best)
        }
        _ => None,
    }
}

/// A preset's header table.
struct PresetTable {
    fields: &'static [PresetField],
    /// Typical columns that are not mapped but identify the export.
    signature: &'static [&'static str],
}

/// One target field and where it may come from, best source first.
struct PresetField {
    field: &'static str,
    sources: &'static [PresetSource],
}

enum PresetSource {
    /// One column, as header variants.
    Column(&'static [&'static str]),
    /// Several columns joined; each part is a column as header variants.
    Joined { parts: &'static [&'static [&'static str]], separator: &'static str, drop_repeated_parts: bool },
}

impl PresetField {
    fn to_rule(&self) -> FieldRule {
        FieldRule {
            field: self.field.to_owned(),
            sources: self.sources.iter().map(PresetSource::to_source).collect(),
            required: false,
        }
    }
}

impl PresetSource {
    fn parts(&self) -> &[&'static [&'static str]] {
        match self {
            Self::Column(variants) => std::slice::from_ref(variants),
            Self::Joined { parts, .. } => parts,
        }
    }

    fn headers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.parts().iter().flat_map(|variants| variants.iter().copied())
    }

    fn to_source(&self) -> Source {
        let (separator, drop_repeated_parts) = match self {
            Self::Column(_) => ("", false),
            Self::Joined { separator, drop_repeated_parts, .. } => (*separator, *drop_repeated_parts),
        };
        Source {
            parts: self.parts().iter().map(|variants| variants.iter().map(|v| (*v).to_owned()).collect()).collect(),
            separator: separator.to_owned(),
            drop_repeated_parts,
        }
    }
}

/// Columns some Chinese companies add to any CRM object for identity
/// documents and bank details; mapped wherever a preset applies.
const NATIONAL_ID: PresetField = PresetField {
    field: "national_id",
    sources: &[PresetSource::Column(&["身份证号", "身份证号码", "证件号码", "证件号"])],
};

const BANK_ACCOUNT: PresetField = PresetField {
    field: "bank_account",
    sources: &[PresetSource::Column(&["银行账号", "开户账号", "银行卡号", "银行账户"])],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for preset in Preset::all() {
            assert_eq!(Preset::from_id(preset.id()), Some(*preset));
            assert_eq!(preset.id().parse::<Preset>().ok(), Some(*preset));
            assert!(!preset.label_en().is_empty() && !preset.label_zh().is_empty());
        }
        assert_eq!(Preset::from_id("ZOHO-LEADS"), Some(Preset::ZohoLeads));
        assert_eq!(Preset::from_id("salesforce"), None);
    }

    #[test]
    fn every_preset_maps_name_and_stays_within_the_default_schema() {
        const SCHEMA: &[&str] = &[
            "name",
            "company",
            "title",
            "email",
            "phone",
            "mobile",
            "national_id",
            "birth_date",
            "address",
            "region",
            "bank_account",
            "annual_revenue",
            "source",
            "notes",
        ];
        for preset in Preset::all() {
            let mapping = preset.mapping();
            let fields: Vec<&str> = mapping.fields().collect();
            assert!(fields.contains(&"name"), "{preset}");
            assert!(fields.iter().all(|f| SCHEMA.contains(f)), "{preset}: {fields:?}");
        }
    }

    #[test]
    fn no_variant_is_listed_twice_for_different_fields_of_one_preset() {
        for preset in Preset::all() {
            let mut seen: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
            for field in preset.table().fields {
                for header in field.sources.iter().flat_map(PresetSource::headers) {
                    let previous = seen.insert(normalize_header(header), field.field);
                    assert!(
                        previous.is_none_or(|p| p == field.field || is_shared(field.field, p)),
                        "{preset}: {header} used for {} and {previous:?}",
                        field.field
                    );
                }
            }
        }
    }

    /// A header shared by two sources of a field would let the first source
    /// claim files meant for the second and drop the second's other parts.
    #[test]
    fn sources_of_a_field_share_no_header() {
        for preset in Preset::all() {
            for field in preset.table().fields {
                let mut seen = HashSet::new();
                for source in field.sources {
                    let mine: HashSet<String> = source.headers().map(normalize_header).collect();
                    assert!(seen.is_disjoint(&mine), "{preset}: {} sources overlap", field.field);
                    seen.extend(mine);
                }
            }
        }
    }

    /// Fields deliberately fed by the same column (an account's name is
    /// also its company; a state is part of the address and the region).
    fn is_shared(a: &str, b: &str) -> bool {
        let pair = [a, b];
        pair.contains(&"name") && pair.contains(&"company") || pair.contains(&"address") && pair.contains(&"region")
    }
}
