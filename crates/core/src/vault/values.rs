//! Validation and normalisation of field values by kind.

use tutela_store::FieldKind;

use crate::{CoreError, CoreResult};

const MAX_TEXT: usize = 1_000;
const MAX_LONG: usize = 20_000;

/// Checks a value against its field's kind and returns it in stored form (trimmed, and for
/// some kinds canonicalised). `field` names the field in the error.
pub fn validate(field: &str, kind: FieldKind, raw: &str) -> CoreResult<String> {
    let value = raw.trim();
    let bad = |message: &str| Err(CoreError::invalid(field, message.to_owned()));
    let long = matches!(kind, FieldKind::Notes | FieldKind::Address);
    let limit = if long { MAX_LONG } else { MAX_TEXT };
    if value.chars().count() > limit {
        return bad(&format!("longer than {limit} characters"));
    }
    if value.chars().any(|c| c.is_control() && !(long && (c == '\n' || c == '\t'))) {
        return bad("contains control characters");
    }
    match kind {
        FieldKind::Email => {
            let ok = value.len() <= 254
                && value.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
                })
                && value.matches('@').count() == 1
                && !value.contains(char::is_whitespace);
            if !ok {
                return bad("not an e-mail address");
            }
        }
        FieldKind::Phone => {
            let digits = normalise_phone(value);
            let count = digits.trim_start_matches('+').len();
            if !(5..=20).contains(&count) || !digits.trim_start_matches('+').chars().all(|c| c.is_ascii_digit()) {
                return bad("not a phone number (5 to 20 digits, optionally with +, spaces, dashes or parentheses)");
            }
        }
        FieldKind::NationalId => {
            if !valid_resident_id(&normalise_national_id(value)) {
                return bad("not a valid resident ID number (18 characters with a valid check digit, or 15 digits)");
            }
            return Ok(normalise_national_id(value));
        }
        FieldKind::Date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            if time::Date::parse(value, &format).is_err() {
                return bad("not a date in the form YYYY-MM-DD");
            }
        }
        FieldKind::Number => {
            if value.replace(',', "").parse::<f64>().map_or(true, |n| !n.is_finite()) {
                return bad("not a number");
            }
        }
        FieldKind::BankAccount => {
            let compact: String = value.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
            if !(8..=34).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
                return bad("not a bank account number (8 to 34 letters or digits)");
            }
        }
        FieldKind::Text | FieldKind::Address | FieldKind::Notes => {}
    }
    Ok(value.to_owned())
}

/// The form a value is blind-indexed in, so that equal values written differently match.
pub fn normalise_for_index(kind: FieldKind, value: &str) -> Option<String> {
    match kind {
        FieldKind::Email => Some(value.trim().to_lowercase()),
        FieldKind::Phone => Some(normalise_phone(value)),
        FieldKind::NationalId => Some(normalise_national_id(value)),
        _ => None,
    }
}

/// Drops separators and a mainland-China country prefix (+86, 0086, 86) before an 11-digit
/// mobile number, so "+86 138-0013-8000" and "13800138000" are one number.
pub fn normalise_phone(value: &str) -> String {
    let compact: String = value.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{3000}')).collect();
    for prefix in ["+86", "0086", "86"] {
        if let Some(rest) = compact.strip_prefix(prefix)
            && rest.len() == 11
            && rest.starts_with('1')
            && rest.chars().all(|c| c.is_ascii_digit())
        {
            return rest.to_owned();
        }
    }
    compact
}

pub fn normalise_national_id(value: &str) -> String {
    value.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

/// GB 11643: 17 digits and an ISO 7064 MOD 11-2 check character, or the old 15-digit form.
fn valid_resident_id(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let chars: Vec<char> = id.chars().collect();
    match chars.len() {
        15 => chars.iter().all(char::is_ascii_digit),
        18 => {
            let Some(digits) = chars[..17].iter().map(|c| c.to_digit(10)).collect::<Option<Vec<u32>>>() else {
                return false;
            };
            let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
            CHECK[(sum % 11) as usize] == chars[17]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalise_across_notations() {
        for v in ["+86 138-0013-8000", "0086 13800138000", "8613800138000", "138 0013 8000", "(138)00138000"] {
            assert_eq!(normalise_phone(v), "13800138000", "{v}");
        }
        assert_eq!(normalise_phone("+1 (415) 555-0100"), "+14155550100");
    }

    #[test]
    fn resident_ids_check_their_digit() {
        assert!(valid_resident_id("11010519491231002X"));
        assert!(!valid_resident_id("110105194912310021"));
        assert!(valid_resident_id("110105491231002"));
        assert!(!valid_resident_id("11010519491231002"));
        assert_eq!(
            validate("national_id", FieldKind::NationalId, " 11010519491231002x ").unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        let err = validate("email", FieldKind::Email, "not-an-address").unwrap_err();
        assert!(err.to_string().starts_with("email:"), "{err}");
        assert!(validate("d", FieldKind::Date, "2026-02-30").is_err());
        assert!(validate("n", FieldKind::Number, "12,345.5").is_ok());
        assert!(validate("n", FieldKind::Number, "NaN").is_err());
        assert!(validate("t", FieldKind::Text, "a\u{0}b").is_err());
        assert!(validate("a", FieldKind::Address, "line 1\nline 2").is_ok());
    }
}
