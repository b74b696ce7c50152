//! What every page's frame shows: the language, the signed-in user, the navigation the user's
//! permissions allow, the CSRF token htmx sends, and the watermark on pages with customer data.

use tutela_core::policy::{Permission, Principal};

use super::assets;
use super::i18n::{I18n, Lang};

/// One entry of the navigation, shown only with its permission (deny by default in the UI
/// too; the server checks every action regardless).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Customers,
    Import,
    Schema,
    Users,
    Org,
    Audit,
    Access,
    BreakGlass,
    Exports,
    Jobs,
    Reviews,
}

impl Nav {
    /// Menu order; the first page a user may open is their start page.
    /// `Reviews` stays last: [`Chrome::with_reviews_waiting`] appends it.
    pub const ALL: [Nav; 11] = [
        Nav::Customers,
        Nav::Import,
        Nav::Schema,
        Nav::Users,
        Nav::Org,
        Nav::Audit,
        Nav::Jobs,
        Nav::Access,
        Nav::BreakGlass,
        Nav::Exports,
        Nav::Reviews,
    ];

    pub fn href(self) -> &'static str {
        match self {
            Self::Customers => "/customers",
            Self::Import => "/import",
            Self::Schema => "/schema",
            Self::Users => "/users",
            Self::Org => "/org",
            Self::Audit => "/audit",
            Self::Access => "/access",
            Self::BreakGlass => "/break-glass",
            Self::Exports => "/exports",
            Self::Jobs => "/jobs",
            // Every user the entry is shown to has this page; it links to the campaigns.
            Self::Reviews => "/access/reviews/mine",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Self::Customers => "nav-customers",
            Self::Import => "nav-import",
            Self::Schema => "nav-schema",
            Self::Users => "nav-users",
            Self::Org => "nav-org",
            Self::Audit => "nav-audit",
            Self::Access => "nav-access",
            Self::BreakGlass => "nav-break-glass",
            Self::Exports => "nav-exports",
            Self::Jobs => "nav-jobs",
            Self::Reviews => "nav-reviews",
        }
    }

    pub fn permission(self) -> Permission {
        match self {
            Self::Customers => Permission::CustomerRead,
            Self::Import => Permission::CustomerImport,
            Self::Schema => Permission::SchemaManage,
            Self::Users | Self::Org => Permission::UserManage,
            Self::Audit | Self::Jobs => Permission::AuditRead,
            Self::Reviews => Permission::AccessReview,
            Self::Access => Permission::RoleManage,
            Self::BreakGlass => Permission::AccessApprove,
            Self::Exports => Permission::CustomerExport,
        }
    }

    /// Whether the principal may open the page. The access policy is edited with
    /// `role.manage` and read by user administrators and auditors too. Emergency access is
    /// asked for with `customer.read`, decided with `access.approve` and its policy set with
    /// `role.manage`.
    pub fn shown_to(self, principal: &Principal) -> bool {
        match self {
            Self::Access => [Permission::RoleManage, Permission::UserManage, Permission::AuditRead]
                .into_iter()
                .any(|p| principal.has(p)),
            Self::BreakGlass => [Permission::CustomerRead, Permission::AccessApprove, Permission::RoleManage]
                .into_iter()
                .any(|p| principal.has(p)),
            // Exports are asked for with `customer.export`, decided with `access.approve`,
            // their policy set with `role.manage` and overseen with `audit.read`.
            Self::Exports => {
                [Permission::CustomerExport, Permission::AccessApprove, Permission::RoleManage, Permission::AuditRead]
                    .into_iter()
                    .any(|p| principal.has(p))
            }
            // Reviews are run with `access.review` and overseen with `audit.read`; reviewers
            // without either get the entry while items wait for them (`with_reviews_waiting`).
            Self::Reviews => [Permission::AccessReview, Permission::AuditRead].into_iter().any(|p| principal.has(p)),
            _ => principal.has(self.permission()),
        }
    }

    /// The pages this principal may open, in menu order.
    pub fn allowed(principal: &Principal) -> Vec<Nav> {
        Self::ALL.into_iter().filter(|n| n.shown_to(principal)).collect()
    }
}

#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct LangLink {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct SignedInUser {
    pub display_name: String,
    pub email: String,
}

/// The frame of a page. Templates reach it as `chrome`.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub i18n: I18n,
    pub lang_tag: &'static str,
    /// Sent by htmx as `X-CSRF-Token` and by plain forms as `_csrf`; empty before sign-in.
    pub csrf: String,
    pub user: Option<SignedInUser>,
    pub nav: Vec<NavLink>,
    pub langs: Vec<LangLink>,
    /// The watermark image, on pages that show customer data.
    pub watermark: Option<String>,
    /// Unread notices for the header's badge, when there are any and they were counted.
    pub unread: Option<u64>,
    pub css: String,
    pub htmx: String,
}

impl Chrome {
    /// A frame without a user (sign-in, setup, errors). `path` is where the language switch
    /// returns to.
    pub fn bare(lang: Lang, path: &str) -> Self {
        let langs = Lang::ALL
            .into_iter()
            .map(|l| LangLink { href: lang_href(l, path), label: l.native_name(), current: l == lang })
            .collect();
        Self {
            i18n: I18n::new(lang),
            lang_tag: lang.tag(),
            csrf: String::new(),
            user: None,
            nav: Vec::new(),
            langs,
            watermark: None,
            unread: None,
            css: assets::url("console.css"),
            htmx: assets::url("vendor/htmx-2.0.11.min.js"),
        }
    }

    pub fn signed_in(
        lang: Lang,
        path: &str,
        principal: &Principal,
        user: SignedInUser,
        csrf: String,
        active: Option<Nav>,
    ) -> Self {
        let i18n = I18n::new(lang);
        let nav = Nav::allowed(principal)
            .into_iter()
            .map(|n| NavLink { href: n.href(), label: i18n.t(n.key()), active: Some(n) == active })
            .collect();
        Self { csrf, user: Some(user), nav, ..Self::bare(lang, path) }
    }

    /// The unread count for the header; none or zero shows no badge.
    #[must_use]
    pub fn with_unread(mut self, unread: Option<u64>) -> Self {
        self.unread = unread.filter(|n| *n > 0);
        self
    }

    /// Offers "Access reviews" to a user whose permissions do not, while review items wait for
    /// their decision. It is the last entry of the menu, so it is appended.
    #[must_use]
    pub fn with_reviews_waiting(mut self, waiting: bool, active: Option<Nav>) -> Self {
        let nav = Nav::Reviews;
        if waiting && !self.nav.iter().any(|l| l.href == nav.href()) {
            self.nav.push(NavLink { href: nav.href(), label: self.i18n.t(nav.key()), active: active == Some(nav) });
        }
        self
    }

    /// Adds the viewer's watermark; `now` is shown on it so a photo of the screen says when.
    #[must_use]
    pub fn with_watermark(mut self, now: time::OffsetDateTime) -> Self {
        self.watermark = Some(format!("/console/watermark.svg?at={}", now.unix_timestamp()));
        self
    }

    pub fn t(&self, key: &str) -> String {
        self.i18n.t(key)
    }

    /// Templates hand counts over by reference; both forms are taken.
    pub fn t1(&self, key: &str, name: &'static str, value: impl std::borrow::Borrow<u64> + Copy) -> String {
        self.i18n.t1(key, name, *value.borrow())
    }
}

fn lang_href(lang: Lang, path: &str) -> String {
    let next = if path.is_empty() { "/".to_owned() } else { path.to_owned() };
    let query = serde_html_form::to_string([("next", next.as_str())]).unwrap_or_default();
    format!("/lang/{}?{query}", lang.tag())
}
