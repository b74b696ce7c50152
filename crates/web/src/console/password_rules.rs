//! The password policy in the user's language. Before creating a user the console asks the
//! domain's policy why a password would be refused, only to say it in Chinese or English;
//! creating the user checks again, so the rule lives in one place.

use secrecy::SecretString;
use tutela_core::Tutela;
use tutela_core::identity::PasswordRejection;

use super::layout::Chrome;

/// Why the policy refuses `password` for this user, translated; `None` when it is fine.
pub fn refusal(
    tutela: &Tutela,
    chrome: &Chrome,
    password: &SecretString,
    email: &str,
    display_name: &str,
) -> Option<String> {
    let rejection = tutela.password_policy().check(password, email, display_name).err()?;
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    Some(match rejection {
        PasswordRejection::TooShort { min } => chrome.t1("password-too-short", "min", count(min)),
        PasswordRejection::TooLong { max } => chrome.t1("password-too-long", "max", count(max)),
        PasswordRejection::Common => chrome.t("password-common"),
        PasswordRejection::ContextWords { min } => chrome.t1("password-context", "min", count(min)),
        PasswordRejection::Pattern => chrome.t("password-pattern"),
    })
}

/// What a new-password field needs: the minimum (for `minlength`) and the hint under it.
pub struct NewPasswordField {
    pub min: usize,
    pub hint: String,
}

impl NewPasswordField {
    pub fn new(tutela: &Tutela, chrome: &Chrome) -> Self {
        let min = tutela.password_policy().min_chars();
        Self { min, hint: chrome.t1("password-hint", "min", u64::try_from(min).unwrap_or(u64::MAX)) }
    }
}
