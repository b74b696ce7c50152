//! A [`ColumnMapping`] bound to one file's header row, and the per-row work
//! of turning cells into an [`ImportRow`].
//!
//! Resolution happens once per file so that the per-row path is index
//! lookups only: no header comparison and no allocation beyond the values
//! handed out.

use std::collections::HashMap;

use crate::error::{ImportError, RowError, quoted_list};
use crate::header::normalize_header;
use crate::mapping::{ColumnMapping, Source};
use crate::row::{ImportRow, RowCells, clean_cell};

/// How many expected headers an error message lists before "…".
const LISTED_EXPECTED: usize = 12;

#[derive(Debug, Clone)]
pub(crate) struct ResolvedMapping {
    fields: Vec<ResolvedField>,
    unmapped: Vec<String>,
}

#[derive(Debug, Clone)]
struct ResolvedField {
    field: String,
    columns: Vec<usize>,
    headers: Vec<String>,
    separator: String,
    drop_repeated_parts: bool,
}

impl ResolvedMapping {
    /// Binds `mapping` to `headers`; fails naming every missing required
    /// header and listing the headers that were found.
    pub(crate) fn resolve(mapping: &ColumnMapping, headers: &[String]) -> Result<Self, ImportError> {
        validate(mapping)?;
        let mut index: HashMap<String, usize> = HashMap::with_capacity(headers.len());
        for (position, header) in headers.iter().enumerate() {
            let key = normalize_header(header);
            if !key.is_empty() {
                // The first of duplicate headers wins.
                index.entry(key).or_insert(position);
            }
        }
        let find =
            |variants: &[String]| variants.iter().find_map(|variant| index.get(&normalize_header(variant)).copied());

        let mut fields = Vec::with_capacity(mapping.rules.len());
        let mut missing: Vec<String> = Vec::new();
        for rule in &mapping.rules {
            let chosen = rule.sources.iter().find_map(|source| {
                let found: Vec<Option<usize>> = source.parts.iter().map(|part| find(part)).collect();
                found.iter().any(Option::is_some).then_some((source, found))
            });
            match chosen {
                Some((source, found)) if rule.required && found.contains(&None) => {
                    missing.extend(missing_parts(&rule.field, source, &found));
                }
                Some((source, found)) => {
                    let columns: Vec<usize> = found.into_iter().flatten().collect();
                    fields.push(ResolvedField {
                        field: rule.field.clone(),
                        headers: columns.iter().map(|&c| headers[c].clone()).collect(),
                        columns,
                        separator: source.separator.clone(),
                        drop_repeated_parts: source.drop_repeated_parts,
                    });
                }
                None if rule.required => {
                    if let Some(source) = rule.sources.first() {
                        missing.extend(missing_parts(&rule.field, source, &vec![None; source.parts.len()]));
                    }
                }
                None => {}
            }
        }

        let found_headers: Vec<&str> = headers.iter().map(String::as_str).filter(|h| !h.is_empty()).collect();
        if !missing.is_empty() {
            return Err(ImportError::Header(format!(
                "the header row has no column {}; the headers found are: {}",
                missing.join(", "),
                quoted_list(&found_headers)
            )));
        }
        if fields.is_empty() {
            let mut expected: Vec<&str> = mapping.header_variants().take(LISTED_EXPECTED + 1).collect();
            let more = if expected.len() > LISTED_EXPECTED { ", …" } else { "" };
            expected.truncate(LISTED_EXPECTED);
            return Err(ImportError::Header(format!(
                "none of the mapped columns is in the header row (expected headers such as {}{more}); \
                 the headers found are: {}",
                quoted_list(&expected),
                quoted_list(&found_headers)
            )));
        }

        let mut used = vec![false; headers.len()];
        for column in fields.iter().flat_map(|f| &f.columns) {
            used[*column] = true;
        }
        let unmapped = headers
            .iter()
            .zip(&used)
            .filter(|(header, used)| !**used && !header.is_empty())
            .map(|(header, _)| header.clone())
            .collect();
        Ok(Self { fields, unmapped })
    }

    /// Headers of columns no field uses (non-empty ones), in file order.
    pub(crate) fn unmapped_headers(&self) -> &[String] {
        &self.unmapped
    }

    /// `(field id, headers feeding it)` for every field found in the file.
    pub(crate) fn mapped_columns(&self) -> Vec<(String, Vec<String>)> {
        self.fields.iter().map(|f| (f.field.clone(), f.headers.clone())).collect()
    }

    /// Builds the row starting at `line` from its cells.
    pub(crate) fn build_row(&self, line: u64, cells: &impl RowCells) -> Result<ImportRow, RowError> {
        let mut values = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            let value = match field.columns.as_slice() {
                [column] => clean_cell(cell(cells, line, field, 0, *column)?).to_owned(),
                columns => {
                    let mut parts = Vec::with_capacity(columns.len());
                    for (i, column) in columns.iter().enumerate() {
                        let part = clean_cell(cell(cells, line, field, i, *column)?);
                        if !part.is_empty() {
                            parts.push(part);
                        }
                    }
                    if field.drop_repeated_parts {
                        drop_repeated(&mut parts);
                    }
                    parts.join(&field.separator)
                }
            };
            if !value.is_empty() {
                values.push((field.field.clone(), value));
            }
        }
        Ok(ImportRow { line, values })
    }
}

/// Rejects rules that could never match, which would otherwise surface as
/// a confusing "missing column" or be silently ignored.
pub(crate) fn validate(mapping: &ColumnMapping) -> Result<(), ImportError> {
    if mapping.is_empty() {
        return Err(ImportError::Mapping("no columns are mapped: map at least one field, e.g. name=Name".to_owned()));
    }
    for rule in &mapping.rules {
        if rule.field.trim().is_empty() {
            return Err(ImportError::Mapping("a mapping has an empty field id".to_owned()));
        }
        let blank_header = rule
            .sources
            .iter()
            .flat_map(|source| &source.parts)
            .flatten()
            .any(|header| normalize_header(header).is_empty());
        if rule.sources.iter().any(|source| source.parts.is_empty()) || blank_header {
            return Err(ImportError::Mapping(format!(
                "field \"{}\" is mapped to an empty header name; name the column it comes from",
                rule.field
            )));
        }
    }
    Ok(())
}

fn cell<'a>(
    cells: &'a impl RowCells,
    line: u64,
    field: &ResolvedField,
    part: usize,
    column: usize,
) -> Result<&'a str, RowError> {
    cells.cell(column).map_err(|message| RowError::cell(line, &field.headers[part], message))
}

/// Removes parts contained in a later part: of `广东省`, `深圳市` and
/// `广东省深圳市南山区科技园` only the last is kept.
fn drop_repeated(parts: &mut Vec<&str>) {
    let mut i = 0;
    while i < parts.len() {
        if parts[i + 1..].iter().any(|later| later.contains(parts[i])) {
            parts.remove(i);
        } else {
            i += 1;
        }
    }
}

fn missing_parts(field: &str, source: &Source, found: &[Option<usize>]) -> Vec<String> {
    source
        .parts
        .iter()
        .zip(found)
        .filter(|(_, found)| found.is_none())
        .map(|(variants, _)| {
            let names = quoted_list(variants).replace(", ", " or ");
            format!("{names} (for field {field})")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cells(Vec<&'static str>);

    impl RowCells for Cells {
        fn cell(&self, column: usize) -> Result<&str, String> {
            Ok(self.0.get(column).copied().unwrap_or(""))
        }
    }

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn joins_skip_empty_parts_and_track_unmapped() {
        let mapping = ColumnMapping::new().join("name", &["Last Name", "First Name"], " ").map("email", "email");
        let resolved =
            ResolvedMapping::resolve(&mapping, &headers(&["First Name", "Last Name", "EMAIL", "Fax"])).unwrap();
        assert_eq!(resolved.unmapped_headers(), ["Fax"]);
        let row = resolved.build_row(2, &Cells(vec!["John", "Smith", " a@b.c ", "1"])).unwrap();
        assert_eq!(row.get("name"), Some("Smith John"));
        assert_eq!(row.get("email"), Some("a@b.c"));
        let row = resolved.build_row(3, &Cells(vec!["", "Smith", ""])).unwrap();
        assert_eq!(row.values, vec![("name".to_owned(), "Smith".to_owned())]);
    }

    #[test]
    fn missing_required_headers_are_all_named() {
        let mapping = ColumnMapping::new().map("email", "E-mail").join("name", &["Name", "Surname"], " ");
        let err = ResolvedMapping::resolve(&mapping, &headers(&["Name", "Phone"])).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("\"E-mail\" (for field email)"), "{message}");
        assert!(message.contains("\"Surname\" (for field name)"), "{message}");
        assert!(message.contains("\"Name\", \"Phone\""), "{message}");
    }

    #[test]
    fn unusable_rules_are_mapping_errors() {
        let found = headers(&["Name"]);
        for mapping in [
            ColumnMapping::new(),
            ColumnMapping::new().map("", "Name"),
            ColumnMapping::new().map("name", " "),
            ColumnMapping::new().join("name", &[], " "),
        ] {
            let err = ResolvedMapping::resolve(&mapping, &found).unwrap_err();
            assert!(matches!(err, ImportError::Mapping(_)), "{mapping:?}: {err:?}");
        }
    }

    #[test]
    fn repeated_address_parts_are_dropped() {
        let mut parts = vec!["广东省", "深圳市", "南山区", "广东省深圳市南山区科技园"];
        drop_repeated(&mut parts);
        assert_eq!(parts, ["广东省深圳市南山区科技园"]);
        let mut parts = vec!["广东省", "深圳市", "科技园"];
        drop_repeated(&mut parts);
        assert_eq!(parts, ["广东省", "深圳市", "科技园"]);
    }
}
