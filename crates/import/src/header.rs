//! Forgiving, but exact, header comparison.
//!
//! Headers typed or exported on Chinese systems differ from the documented
//! labels in ways a person does not see: a UTF-8 BOM glued to the first
//! header, full-width letters, spaces and parentheses from a Chinese input
//! method, doubled spaces, different case, or Zoho's API names with
//! underscores (`First_Name`). Those differences are normalised away; the
//! words themselves must match one of the listed variants (no fuzzy
//! matching, which would silently route data into the wrong field).

/// The comparison key of a header: BOM and zero-width characters removed,
/// full-width ASCII and the ideographic space folded to half-width, `_`
/// read as a space, whitespace runs collapsed and trimmed, lower-cased.
pub(crate) fn normalize_header(raw: &str) -> String {
    let mut key = String::with_capacity(raw.len());
    let mut space_pending = false;
    for c in raw.chars() {
        let c = match c {
            '\u{FEFF}' | '\u{200B}' | '\u{200C}' | '\u{200D}' => continue,
            '\u{3000}' | '_' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            other => other,
        };
        if c.is_whitespace() {
            space_pending = !key.is_empty();
            continue;
        }
        if space_pending {
            key.push(' ');
            space_pending = false;
        }
        key.extend(c.to_lowercase());
    }
    key
}

/// The header as shown to people: trimmed, without a BOM.
pub(crate) fn display_header(raw: &str) -> String {
    raw.trim_start_matches('\u{FEFF}').trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_invisible_differences() {
        assert_eq!(normalize_header("\u{FEFF} E-Mail "), "e-mail");
        assert_eq!(normalize_header("Mailing\u{3000}\u{3000}Street"), "mailing street");
        assert_eq!(normalize_header("First_Name"), "first name");
        assert_eq!(normalize_header("电话（办公）"), "电话(办公)");
        assert_eq!(normalize_header("ＥＭＡＩＬ"), "email");
        assert_eq!(normalize_header("  "), "");
    }

    #[test]
    fn keeps_words_distinct() {
        assert_ne!(normalize_header("Email"), normalize_header("E-mail"));
        assert_ne!(normalize_header("电话"), normalize_header("电话1"));
    }

    #[test]
    fn display_strips_bom() {
        assert_eq!(display_header("\u{FEFF}Name "), "Name");
    }
}
