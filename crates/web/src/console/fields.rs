//! The customer schema as the console shows it: labels in the user's language, the kind of
//! input each field gets, and which kinds a search box value looks like.

use tutela_store::{Classification, FieldDef, FieldKind};

use super::i18n::Lang;

pub fn label(def: &FieldDef, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => def.label_zh.clone(),
        Lang::En => def.label_en.clone(),
    }
}

pub fn ordered(mut fields: Vec<FieldDef>) -> Vec<FieldDef> {
    fields.sort_by(|a, b| a.position.cmp(&b.position).then_with(|| a.id.cmp(&b.id)));
    fields
}

/// The HTML input for a field of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Text,
    Email,
    Tel,
    Date,
    Number,
    Area,
}

impl InputKind {
    pub fn of(kind: FieldKind) -> Self {
        match kind {
            FieldKind::Email => Self::Email,
            FieldKind::Phone => Self::Tel,
            FieldKind::Date => Self::Date,
            FieldKind::Number => Self::Number,
            FieldKind::Address | FieldKind::Notes => Self::Area,
            FieldKind::Text | FieldKind::NationalId | FieldKind::BankAccount => Self::Text,
        }
    }

    pub fn html_type(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Tel => "tel",
            Self::Date => "date",
            Self::Text | Self::Number | Self::Area => "text",
        }
    }

    pub fn is_area(self) -> bool {
        self == Self::Area
    }
}

/// Message key of a classification's name.
pub fn classification_key(c: Classification) -> &'static str {
    match c {
        Classification::Public => "class-public",
        Classification::Internal => "class-internal",
        Classification::Confidential => "class-confidential",
        Classification::Restricted => "class-restricted",
    }
}

/// Message key of a field kind's name.
pub fn kind_key(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "kind-text",
        FieldKind::Email => "kind-email",
        FieldKind::Phone => "kind-phone",
        FieldKind::NationalId => "kind-national-id",
        FieldKind::Date => "kind-date",
        FieldKind::Number => "kind-number",
        FieldKind::BankAccount => "kind-bank-account",
        FieldKind::Address => "kind-address",
        FieldKind::Notes => "kind-notes",
    }
}

/// The kinds of field an exact-match search for `q` should look in: an e-mail address, a
/// resident ID or a phone number; `None` for anything else (a name).
pub fn lookup_kinds(q: &str) -> Option<Vec<FieldKind>> {
    let q = q.trim();
    if q.contains('@') && !q.contains(char::is_whitespace) {
        return Some(vec![FieldKind::Email]);
    }
    let compact: String = q.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{3000}')).collect();
    let body = compact.strip_prefix('+').unwrap_or(&compact);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let id_like = body.is_ascii()
        && body.len() == 18
        && body[..17].chars().all(|c| c.is_ascii_digit())
        && body[17..].chars().all(|c| c.is_ascii_digit() || c == 'X' || c == 'x');
    if id_like && !body.ends_with(|c: char| c.is_ascii_digit()) {
        return Some(vec![FieldKind::NationalId]);
    }
    if digits == body.len() && (5..=20).contains(&digits) {
        // 15 and 18 digits are also resident ID lengths: look in both.
        return Some(if digits == 15 || digits == 18 {
            vec![FieldKind::Phone, FieldKind::NationalId]
        } else {
            vec![FieldKind::Phone]
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_values_are_recognised() {
        assert_eq!(lookup_kinds("zhang@example.com"), Some(vec![FieldKind::Email]));
        assert_eq!(lookup_kinds("+86 138-1234-5678"), Some(vec![FieldKind::Phone]));
        assert_eq!(lookup_kinds("11010519491231002X"), Some(vec![FieldKind::NationalId]));
        assert_eq!(lookup_kinds("110105194912310021"), Some(vec![FieldKind::Phone, FieldKind::NationalId]));
        assert_eq!(lookup_kinds("张三"), None);
        assert_eq!(lookup_kinds("Acme 2000"), None);
        assert_eq!(lookup_kinds("1234"), None);
    }
}
