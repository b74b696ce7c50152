//! Masked display of sealed values: enough to recognise a record, not enough to use the data.

use tutela_store::FieldKind;

/// Keeps the first `head` and last `tail` characters, starring the rest (length preserved).
fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(1));
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// 138****5678, z***@example.com, 110***********1234, ************1234.
pub fn mask(kind: FieldKind, value: &str) -> String {
    match kind {
        // Masked in normalised form, so +86 138-1234-5678 reads 138****5678.
        FieldKind::Phone => keep_ends(&super::values::normalise_phone(value), 3, 4),
        FieldKind::NationalId => keep_ends(value, 3, 4),
        FieldKind::BankAccount => keep_ends(value, 0, 4),
        FieldKind::Email => match value.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => keep_ends(value, 1, 0),
        },
        FieldKind::Text | FieldKind::Address => {
            let head: String = value.chars().take(2).collect();
            format!("{head}***")
        }
        FieldKind::Date => "****-**-**".to_owned(),
        FieldKind::Number | FieldKind::Notes => "******".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_familiar_forms() {
        assert_eq!(mask(FieldKind::Phone, "13812345678"), "138****5678");
        assert_eq!(mask(FieldKind::Email, "zhang@example.com"), "z***@example.com");
        assert_eq!(mask(FieldKind::NationalId, "110105194912311234"), "110***********1234");
        assert_eq!(mask(FieldKind::BankAccount, "6222020200112233"), "************2233");
        assert_eq!(mask(FieldKind::Phone, "123"), "***");
        assert_eq!(mask(FieldKind::Address, "北京市朝阳区建国路1号"), "北京***");
    }
}
