//! Notices in words: Fluent templates in `crates/core/locales/{en,zh-CN}/notify.ftl`,
//! compiled into the binary. The same template serves the inbox and the e-mail.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use fluent_templates::Loader as _;
use fluent_templates::fluent_bundle::FluentValue;
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

fluent_templates::static_loader! {
    static NOTICES = {
        locales: "./locales",
        fallback_language: "en",
        // Isolation marks around e-mail addresses and ids break copying them from a mail.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "en".parse().expect("a valid language id"));
static ZH_CN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "zh-CN".parse().expect("a valid language id"));

/// The languages notices are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Language {
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// `zh`, `zh-CN`, `zh-Hans`… are Chinese; `en…` English; anything else is not known.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase().as_str() {
            "zh" => Some(Self::ZhCn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// A user's stored locale; Chinese when it names neither language (the default of
    /// every account, see `identity::users`).
    pub fn of_user(locale: &str) -> Self {
        Self::parse(locale).unwrap_or(Self::ZhCn)
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Self::En => &EN,
            Self::ZhCn => &ZH_CN,
        }
    }
}

/// A notice in words, plain text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Renders `notice-<kind>-subject` and `-body` with the notice's parameters. Link
/// parameters (`link`, `inbox`) are paths; `base` (the console's public URL) makes them
/// absolute for e-mail, where a path alone would not lead anywhere.
pub(crate) fn render(
    language: Language,
    template: &str,
    params: &BTreeMap<String, String>,
    base: Option<&str>,
) -> Rendered {
    let mut args: HashMap<Cow<'static, str>, FluentValue> = params
        .iter()
        .map(|(k, v)| {
            let value = match (k.as_str(), base) {
                ("link" | "inbox", Some(base)) => format!("{}{v}", base.trim_end_matches('/')),
                _ => v.clone(),
            };
            (Cow::Owned(k.clone()), FluentValue::from(value))
        })
        .collect();
    let inbox = base
        .map_or_else(|| super::INBOX_PATH.to_owned(), |b| format!("{}{}", b.trim_end_matches('/'), super::INBOX_PATH));
    args.insert(Cow::Borrowed("inbox"), FluentValue::from(inbox));
    let lookup = |key: String| NOTICES.lookup_with_args(language.id(), &key, &args);
    let body =
        format!("{}\n\n{}\n", lookup(format!("notice-{template}-body")).trim_end(), lookup("notice-footer".into()));
    Rendered { subject: lookup(format!("notice-{template}-subject")), body }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn every_template_exists_in_both_languages_with_its_parameters_filled() {
        for template in
            ["sign-in-new-device", "break-glass-request", "break-glass-decision", "access-review-reminder", "test"]
        {
            for language in [Language::En, Language::ZhCn] {
                let p = params(&[
                    ("account", "a@example.com"),
                    ("time", "2025-01-01T00:00:00Z"),
                    ("address", "192.0.2.7"),
                    ("browser", "Firefox on Linux"),
                    ("method", "totp"),
                    ("link", "/account"),
                    ("requester", "b@example.com"),
                    ("record", "0190"),
                    ("status", "pending"),
                    ("minutes", "30"),
                    ("justification_length", "42"),
                    ("approver", "c@example.com"),
                    ("until", "2026-12-31T01:00:00Z"),
                    ("campaign", "2026 Q4"),
                    ("open", "3"),
                    ("deadline", "2026-12-31T00:00:00Z"),
                ]);
                let r = render(language, template, &p, Some("https://tutela.example/"));
                for text in [&r.subject, &r.body] {
                    assert!(!text.contains("notice-"), "{template} {language:?} is missing: {text}");
                    assert!(!text.contains("{$") && !text.contains("{ $"), "{template} {language:?}: {text}");
                }
                assert!(r.body.contains("https://tutela.example/notifications"), "{}", r.body);
            }
        }
    }

    #[test]
    fn links_become_absolute_only_with_a_base() {
        let p = params(&[
            ("account", "a"),
            ("time", "t"),
            ("address", "x"),
            ("browser", "b"),
            ("method", "passkey"),
            ("link", "/account"),
        ]);
        let with = render(Language::En, "sign-in-new-device", &p, Some("https://t.example"));
        assert!(with.body.contains("(https://t.example/account)"), "{}", with.body);
        let without = render(Language::En, "sign-in-new-device", &p, None);
        assert!(without.body.contains("(/account)"), "{}", without.body);
    }

    #[test]
    fn languages_parse_from_tags() {
        assert_eq!(Language::parse("zh-Hans"), Some(Language::ZhCn));
        assert_eq!(Language::parse("en-GB"), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
        assert_eq!(Language::of_user("fr"), Language::ZhCn);
    }
}
