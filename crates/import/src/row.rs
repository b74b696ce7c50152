//! The rows handed to the vault, and cell clean-up shared by CSV and xlsx.

use serde::Serialize;

/// One customer row, mapped to Tutela field ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRow {
    /// 1-based physical line (CSV; the header is line 1) or sheet row number
    /// (xlsx) where the row starts, for error reports.
    pub line: u64,
    /// `(field id, value)` in mapping order; values are trimmed and empty
    /// values are left out.
    pub values: Vec<(String, String)>,
}

impl ImportRow {
    /// The value of `field`, if the row has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.values.iter().find(|(id, _)| id == field).map(|(_, value)| value.as_str())
    }
}

/// Read access to the cells of one source row, by column index.
pub(crate) trait RowCells {
    /// The cell's text (`""` when the row is shorter), or why the cell
    /// cannot be used.
    fn cell(&self, column: usize) -> Result<&str, String>;
}

/// Trims a cell and unwraps Excel's "keep as text" formula `="0755-1234"`,
/// which CRM exports write so that Excel keeps leading zeros of phone
/// numbers and IDs; storing the formula syntax would corrupt the value.
pub(crate) fn clean_cell(raw: &str) -> &str {
    let trimmed = raw.trim();
    match trimmed.strip_prefix("=\"").and_then(|rest| rest.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => inner.trim(),
        _ => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_cells() {
        assert_eq!(clean_cell("  张三 \u{3000}"), "张三");
        assert_eq!(clean_cell("=\"0755-1234\""), "0755-1234");
        assert_eq!(clean_cell("\t13800138000\t"), "13800138000");
        assert_eq!(clean_cell("=\"a\"b\""), "=\"a\"b\"");
        assert_eq!(clean_cell("=SUM(A1)"), "=SUM(A1)");
    }
}
