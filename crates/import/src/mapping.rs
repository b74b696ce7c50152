//! Which columns of a file feed which Tutela fields.
//!
//! A [`ColumnMapping`] is a list of rules, one per target field id. A rule
//! lists alternative sources; the first source with a column present in the
//! file's header row is used. A source is one column, or several columns
//! joined with a separator (family and given name, address parts). Each
//! column of a source may itself have header variants (English and Chinese
//! labels of the same CRM field).
//!
//! Rules made with [`ColumnMapping::map`] / [`ColumnMapping::join`] /
//! [`ColumnMapping::parse_pairs`] are *required*: the user named those
//! headers, so a missing one is an error rather than a silently empty field.
//! Preset rules are optional: an export need not contain every field a CRM
//! can have.

use crate::error::ImportError;

/// Target field id → source column(s). Build with [`ColumnMapping::map`],
/// [`ColumnMapping::join`], [`ColumnMapping::parse_pairs`] or take a
/// [`crate::Preset::mapping`]. Mapping a field again replaces its rule, so a
/// preset can be adjusted: `Preset::ZohoContacts.mapping().map("notes", "Remarks")`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMapping {
    pub(crate) rules: Vec<FieldRule>,
}

/// How one target field is filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldRule {
    pub(crate) field: String,
    /// Alternatives, first present wins.
    pub(crate) sources: Vec<Source>,
    /// Whether every column of the (single) source must be present.
    pub(crate) required: bool,
}

/// One way of filling a field: one or more columns joined by `separator`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source {
    /// Each part is a column, given as header variants (first present wins).
    pub(crate) parts: Vec<Vec<String>>,
    pub(crate) separator: String,
    /// Drop a part whose text reappears in a later part, for Chinese
    /// addresses whose "detailed address" often repeats province and city.
    pub(crate) drop_repeated_parts: bool,
}

impl ColumnMapping {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// `field` takes the value of the column headed `header`.
    #[must_use]
    pub fn map(self, field: &str, header: &str) -> Self {
        self.join(field, &[header], "")
    }

    /// `field` takes the non-empty values of `headers`, in order, joined with
    /// `separator` (e.g. "Last Name" + "First Name" with a space).
    #[must_use]
    pub fn join(self, field: &str, headers: &[&str], separator: &str) -> Self {
        let source = Source {
            parts: headers.iter().map(|header| vec![(*header).to_owned()]).collect(),
            separator: separator.to_owned(),
            drop_repeated_parts: false,
        };
        self.with_rule(FieldRule { field: field.to_owned(), sources: vec![source], required: true })
    }

    /// Adds or replaces the rule for `rule.field`, keeping the field's position.
    #[must_use]
    pub(crate) fn with_rule(mut self, rule: FieldRule) -> Self {
        match self.rules.iter_mut().find(|existing| existing.field == rule.field) {
            Some(existing) => *existing = rule,
            None => self.rules.push(rule),
        }
        self
    }

    /// Parses `field=Header` and `field=Header1+Header2` pairs (joined parts
    /// are separated by a space). Each string may hold several pairs, one per
    /// line; blank lines and lines starting with `#` are skipped, so a pasted
    /// mapping file works too. A header containing `+` cannot be written this
    /// way; use [`ColumnMapping::join`].
    pub fn parse_pairs(pairs: &[String]) -> Result<Self, ImportError> {
        let mut mapping = Self::new();
        for pair in pairs.iter().flat_map(|text| text.lines()) {
            let pair = pair.trim();
            if pair.is_empty() || pair.starts_with('#') {
                continue;
            }
            let (field, headers) = parse_pair(pair)?;
            if mapping.rules.iter().any(|rule| rule.field == field) {
                return Err(ImportError::Mapping(format!(
                    "invalid mapping \"{pair}\": field \"{field}\" is mapped twice; \
                     to combine columns write {field}=Header1+Header2"
                )));
            }
            mapping = match headers.as_slice() {
                [header] => mapping.map(field, header),
                _ => mapping.join(field, &headers, " "),
            };
        }
        Ok(mapping)
    }

    /// This mapping with `other`'s rules laid over it: a field `other` maps takes `other`'s
    /// rule (how a user adjusts a preset with a few `field=Header` pairs).
    #[must_use]
    pub fn overlay(self, other: ColumnMapping) -> Self {
        other.rules.into_iter().fold(self, Self::with_rule)
    }

    /// The target field ids, in mapping order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.field.as_str())
    }

    /// Whether no field is mapped.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every header variant the mapping can use.
    pub(crate) fn header_variants(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().flat_map(|rule| &rule.sources).flat_map(|source| &source.parts).flatten().map(String::as_str)
    }
}

fn parse_pair(pair: &str) -> Result<(&str, Vec<&str>), ImportError> {
    let invalid = |why: &str| ImportError::Mapping(format!("invalid mapping \"{pair}\": {why}"));
    let Some((field, headers)) = pair.split_once('=') else {
        return Err(invalid("expected field=Header or field=Header1+Header2"));
    };
    let field = field.trim();
    if field.is_empty() {
        return Err(invalid("the field id before \"=\" is empty"));
    }
    if field.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("a field id cannot contain spaces"));
    }
    let headers: Vec<&str> = headers.split('+').map(str::trim).collect();
    if headers.iter().any(|header| header.is_empty()) {
        return Err(invalid("a header name after \"=\" is empty"));
    }
    Ok((field, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remapping_a_field_replaces_it_in_place() {
        let mapping = ColumnMapping::new().map("name", "Name").map("email", "Email").map("name", "Full Name");
        assert_eq!(mapping.fields().collect::<Vec<_>>(), ["name", "email"]);
        assert_eq!(mapping.rules[0].sources[0].parts, vec![vec!["Full Name".to_owned()]]);
    }

    #[test]
    fn pairs_accept_lines_and_comments() {
        let pairs = vec!["# customer file\nname = Last Name + First Name\n\n".to_owned(), "email=E-mail".to_owned()];
        let mapping = ColumnMapping::parse_pairs(&pairs).unwrap();
        assert_eq!(
            mapping,
            ColumnMapping::new().join("name", &["Last Name", "First Name"], " ").map("email", "E-mail")
        );
    }

    #[test]
    fn header_may_contain_equals_sign() {
        let mapping = ColumnMapping::parse_pairs(&["notes=a=b".to_owned()]).unwrap();
        assert_eq!(mapping, ColumnMapping::new().map("notes", "a=b"));
    }
}
