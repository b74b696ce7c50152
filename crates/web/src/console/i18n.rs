//! The console's two languages: Fluent messages compiled into the binary, chosen by the
//! `lang` cookie (set by the language switch) or else by `Accept-Language`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use fluent_templates::Loader as _;
use fluent_templates::fluent_bundle::FluentValue;
use unic_langid::LanguageIdentifier;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments confuse copy-and-paste of e-mail addresses
        // and codes; the console has no right-to-left text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

pub const LANG_COOKIE: &str = "lang";

static EN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "en".parse().expect("a valid language id"));
static ZH_CN: LazyLock<LanguageIdentifier> = LazyLock::new(|| "zh-CN".parse().expect("a valid language id"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, for `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, for the switch (never translated).
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::ZhCn => "中文",
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Self::En => &EN,
            Self::ZhCn => &ZH_CN,
        }
    }

    /// `zh`, `zh-CN`, `zh-Hans`… read Chinese; `en…` English; anything else nothing.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Self::ZhCn),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The cookie first (an explicit choice), then the browser's preference by quality, then
    /// Chinese: the installation's users are mostly Chinese-speaking staff.
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        let jar = CookieJar::from_headers(headers);
        if let Some(lang) = jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
            return lang;
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let mut ranked: Vec<(u16, Lang)> = accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                // Thousandths are all the precision Accept-Language has.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let quality = (quality.clamp(0.0, 1.0) * 1000.0) as u16;
                (quality > 0).then_some((quality, lang))
            })
            .collect();
        // Stable sort: among equal qualities the first listed wins.
        ranked.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
        ranked.first().map_or(Lang::ZhCn, |(_, lang)| *lang)
    }

    /// The cookie that remembers an explicit choice for a year. Not secret, so not `HttpOnly`;
    /// SameSite=Strict like every cookie of ours.
    pub fn cookie(self, secure: bool) -> Cookie<'static> {
        Cookie::build((LANG_COOKIE, self.tag()))
            .path("/")
            .secure(secure)
            .same_site(SameSite::Strict)
            .max_age(time::Duration::days(365))
            .build()
    }
}

/// Looks messages up in one language; templates call `i18n.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    pub lang: Lang,
}

impl I18n {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(self.lang.id(), key)
    }

    /// A message with one count, `{ $name }` in the Fluent text (plural rules apply).
    pub fn t1(self, key: &str, name: &'static str, value: u64) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            [(Cow::Borrowed(name), FluentValue::from(value))].into_iter().collect();
        LOCALES.lookup_with_args(self.lang.id(), key, &args)
    }

    /// Whether `key` exists in this language (for tests of the message files).
    pub fn has(self, key: &str) -> bool {
        LOCALES.try_lookup(self.lang.id(), key).is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use axum::http::HeaderValue;

    use super::*;

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// Message ids of a language, each with the variables its text uses.
    fn defined(lang: &str) -> BTreeMap<String, Vec<String>> {
        let mut paths = Vec::new();
        files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang), &mut paths);
        paths
            .iter()
            .flat_map(|p| std::fs::read_to_string(p).unwrap().lines().map(str::to_owned).collect::<Vec<_>>())
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| {
                let (key, text) = l.split_once(" =")?;
                let vars = text.split("{ $").skip(1).filter_map(|v| v.split(' ').next()).map(str::to_owned).collect();
                Some((key.trim().to_owned(), vars))
            })
            .collect()
    }

    /// Keys in `t("…")` calls of templates, and key-shaped literals of the handlers (not
    /// those matched on with `=>`, which are query values).
    fn used() -> BTreeSet<String> {
        const PREFIXES: [&str; 25] = [
            "app-",
            "nav-",
            "error-",
            "class-",
            "kind-",
            "login-",
            "second-factor-",
            "enrol-",
            "recovery-",
            "setup-",
            "customer-",
            "customers-",
            "reveal-",
            "erase-",
            "schema-",
            "users-",
            "import-",
            "audit-",
            "org-",
            "access-",
            "roles-",
            "share-",
            "explain-",
            "reviews-",
            "jobs-",
        ];
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut keys = BTreeSet::new();
        let mut templates = Vec::new();
        files(&root.join("templates"), &mut templates);
        for path in templates {
            let text = std::fs::read_to_string(&path).unwrap();
            for call in text.split(".t(\"").skip(1).chain(text.split(".t1(\"").skip(1)) {
                keys.insert(call.split('"').next().unwrap().to_owned());
            }
        }
        let mut sources = Vec::new();
        files(&root.join("src/console"), &mut sources);
        for path in sources.iter().filter(|p| !p.ends_with("i18n.rs")) {
            let text = std::fs::read_to_string(path).unwrap();
            let parts: Vec<&str> = text.split('"').collect();
            for (i, literal) in parts.iter().enumerate().skip(1).step_by(2) {
                let key_like = literal.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                let matched_on = parts.get(i + 1).is_some_and(|after| after.trim_start().starts_with("=>"));
                if key_like && !matched_on && PREFIXES.iter().any(|p| literal.starts_with(p)) {
                    keys.insert((*literal).to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn both_languages_define_every_message_used() {
        let (en, zh) = (defined("en"), defined("zh-CN"));
        assert_eq!(en, zh, "en and zh-CN differ in messages or their variables");
        let missing: Vec<_> = used().into_iter().filter(|k| !en.contains_key(k)).collect();
        assert!(missing.is_empty(), "used but not defined: {missing:?}");
        for (key, vars) in &en {
            let args: HashMap<Cow<'static, str>, FluentValue> =
                vars.iter().map(|v| (Cow::Owned(v.clone()), FluentValue::from(1))).collect();
            for lang in Lang::ALL {
                assert!(
                    LOCALES.try_lookup_with_args(lang.id(), key, &args).is_some(),
                    "{key} does not load in {}",
                    lang.tag()
                );
            }
        }
    }

    fn headers(accept: Option<&str>, cookie: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(a).unwrap());
        }
        if let Some(c) = cookie {
            h.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        h
    }

    #[test]
    fn cookie_beats_accept_language_which_beats_the_default() {
        assert_eq!(Lang::negotiate(&headers(None, None)), Lang::ZhCn);
        assert_eq!(Lang::negotiate(&headers(Some("en-US,en;q=0.9"), None)), Lang::En);
        assert_eq!(Lang::negotiate(&headers(Some("fr;q=1, zh-Hans;q=0.5, en;q=0.4"), None)), Lang::ZhCn);
        assert_eq!(Lang::negotiate(&headers(Some("zh;q=0.2, en;q=0.8"), None)), Lang::En);
        assert_eq!(Lang::negotiate(&headers(Some("en"), Some("lang=zh-CN"))), Lang::ZhCn);
        assert_eq!(Lang::negotiate(&headers(Some("zh-CN"), Some("lang=en"))), Lang::En);
        assert_eq!(Lang::negotiate(&headers(Some("de"), Some("lang=xx"))), Lang::ZhCn);
    }

    #[test]
    fn messages_resolve_with_arguments() {
        let en = I18n::new(Lang::En);
        let zh = I18n::new(Lang::ZhCn);
        assert_eq!(en.t("nav-customers"), "Customers");
        assert_eq!(zh.t("nav-customers"), "客户");
        assert!(en.t1("import-rows", "rows", 12).contains("12"));
    }
}
