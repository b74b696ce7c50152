//! The password policy, after NIST SP 800-63B: length rather than composition rules, a list
//! of common and breached passwords, context-specific words, no forced periodic change.
//!
//! * Length is counted in Unicode characters after normalisation. The minimum defaults to 12,
//!   above NIST's 8 for a password used with a second factor, because every account here
//!   reaches customer records or the keys and audit log guarding them; it is configurable
//!   (`password.min_length`, 8 to 64). The maximum is 128, twice NIST's "at least 64", so
//!   passphrases fit while the work per sign-in stays bounded.
//! * Any character is allowed, spaces and Chinese included, with no rule on digits, cases or
//!   symbols: such rules make passwords harder to remember, not to guess.
//! * Passwords are normalised to Unicode NFKC before they are checked, hashed or verified
//!   (NIST 5.1.1.2). The same password can reach the server in different forms: an input
//!   method may send full-width `ｐａｓｓ１２３` instead of `pass123`, or `é` as one code
//!   point or two. Without normalisation the user's own password would stop working on the
//!   next device.
//! * Nothing ever expires a password: NIST advises against periodic change, which pushes
//!   people to predictable variations.

mod common;
mod context;
mod patterns;

use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization as _;

use crate::{CoreError, CoreResult};

/// The longest password accepted, in characters.
const MAX_CHARS: usize = 128;
/// The lowest minimum an installation may configure (NIST SP 800-63B).
const LOWEST_MIN_CHARS: usize = 8;
/// The highest minimum an installation may configure: half the maximum, so there is room.
const HIGHEST_MIN_CHARS: usize = 64;

/// Why a password was refused. Shown to the person choosing it, so each says what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PasswordRejection {
    #[error("use at least {min} characters")]
    TooShort { min: usize },
    #[error("use at most {max} characters")]
    TooLong { max: usize },
    #[error("this password is on the list of common or breached passwords")]
    Common,
    #[error("without the e-mail address, name or product name in it, fewer than {min} characters are left")]
    ContextWords { min: usize },
    #[error("repeated characters and runs like aaaa, abcabc or 1234 are too easy to guess")]
    Pattern,
}

impl From<PasswordRejection> for CoreError {
    fn from(r: PasswordRejection) -> Self {
        CoreError::invalid("password", r.to_string())
    }
}

/// The policy of an installation.
#[derive(Debug, Clone)]
pub struct PasswordPolicy {
    min_chars: usize,
    common: &'static common::CommonPasswords,
}

impl PasswordPolicy {
    /// Refuses a minimum outside 8 to 64 characters; loads the common-password list.
    pub fn new(min_chars: usize) -> CoreResult<Self> {
        if !(LOWEST_MIN_CHARS..=HIGHEST_MIN_CHARS).contains(&min_chars) {
            return Err(CoreError::invalid(
                "password.min_length",
                format!("use {LOWEST_MIN_CHARS} to {HIGHEST_MIN_CHARS} characters, not {min_chars}"),
            ));
        }
        Ok(Self { min_chars, common: common::list()? })
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    pub fn max_chars(&self) -> usize {
        MAX_CHARS
    }

    /// Checks a password chosen by the user with this e-mail address and name. Creating a
    /// user checks it anyway; the console asks first only to say why in the user's language.
    pub fn check(&self, password: &SecretString, email: &str, display_name: &str) -> Result<(), PasswordRejection> {
        let password = normalise(password);
        let password = password.expose_secret();
        let length = password.chars().count();
        if length < self.min_chars {
            return Err(PasswordRejection::TooShort { min: self.min_chars });
        }
        if length > MAX_CHARS {
            return Err(PasswordRejection::TooLong { max: MAX_CHARS });
        }
        // Lists and attackers ignore case: `Password1234` is as common as `password1234`.
        let lowered = zeroize::Zeroizing::new(password.to_lowercase());
        if self.common.contains(&lowered) {
            return Err(PasswordRejection::Common);
        }
        let rest = zeroize::Zeroizing::new(context::strip(&lowered, &context::words(email, display_name)));
        if rest.chars().count() < self.min_chars {
            return Err(PasswordRejection::ContextWords { min: self.min_chars });
        }
        if patterns::is_trivial(&rest) {
            return Err(PasswordRejection::Pattern);
        }
        if self.common.contains(&rest) {
            return Err(PasswordRejection::Common);
        }
        Ok(())
    }
}

/// Unicode NFKC, applied before every check, hash and verification (see the module notes).
pub fn normalise(password: &SecretString) -> SecretString {
    SecretString::from(password.expose_secret().nfkc().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        PasswordPolicy::new(12).unwrap()
    }

    fn check(password: &str) -> Result<(), PasswordRejection> {
        policy().check(&SecretString::from(password), "li.na@example.com", "Li Na")
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(check("eleven char"), Err(PasswordRejection::TooShort { min: 12 }));
        assert_eq!(check("twelve chars"), Ok(()));
        // Twelve Chinese characters are 36 bytes, and twelve characters.
        assert_eq!(check("一只很长的猫在屋顶上睡觉"), Ok(()));
        assert_eq!(check("一只很长的猫在屋顶上睡"), Err(PasswordRejection::TooShort { min: 12 }));
        let longest = "a horse, ".repeat(14) + "ok";
        assert_eq!(longest.chars().count(), MAX_CHARS);
        assert_eq!(check(&longest), Ok(()));
        assert_eq!(check(&(longest + "!")), Err(PasswordRejection::TooLong { max: MAX_CHARS }));
    }

    #[test]
    fn no_composition_rules() {
        for fine in ["all lower case words", "ALL UPPER CASE WORDS", "kettle cactus", "   spaces around   "] {
            assert_eq!(check(fine), Ok(()), "{fine}");
        }
    }

    #[test]
    fn common_and_breached_passwords_are_refused_in_any_case() {
        for common in ["password1234", "Password1234", "BASEBALL1234", "1q2w3e4r5t6y"] {
            assert_eq!(check(common), Err(PasswordRejection::Common), "{common}");
        }
    }

    #[test]
    fn context_words_do_not_count() {
        assert_eq!(check("tutela2024!!"), Err(PasswordRejection::ContextWords { min: 12 }));
        assert_eq!(check("li.na@tutela"), Err(PasswordRejection::ContextWords { min: 12 }));
        assert_eq!(check("Example 2024 li.na"), Err(PasswordRejection::ContextWords { min: 12 }));
        assert_eq!(check("tutela guards the kettle"), Ok(()), "a word among others is fine");
        // What is left after the context words must not be trivial or common either.
        assert_eq!(check("tutela123456789012"), Err(PasswordRejection::Pattern));
        assert_eq!(check("tutelapassword1234"), Err(PasswordRejection::Common));
    }

    #[test]
    fn repetitive_and_sequential_passwords_are_refused() {
        for trivial in ["aaaaaaaaaaaa", "123456789012", "abcabcabcabc", "qwertyuiopas"] {
            assert!(matches!(check(trivial), Err(PasswordRejection::Pattern | PasswordRejection::Common)), "{trivial}");
        }
        assert_eq!(check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), Err(PasswordRejection::Pattern));
    }

    #[test]
    fn normalisation_makes_full_width_and_decomposed_input_the_same_password() {
        let full_width = normalise(&SecretString::from("ｃｏｒｒｅｃｔ　ｈｏｒｓｅ"));
        assert_eq!(full_width.expose_secret(), "correct horse");
        let decomposed = normalise(&SecretString::from("cafe\u{301} au lait"));
        assert_eq!(decomposed.expose_secret(), "café au lait");
        assert_eq!(check("ｐａｓｓｗｏｒｄ１２３４"), Err(PasswordRejection::Common), "full-width common password");
    }

    #[test]
    fn the_minimum_is_configurable_within_nist_bounds() {
        let eight = PasswordPolicy::new(8).unwrap();
        assert_eq!(eight.check(&SecretString::from("kettle c"), "a@b.c", ""), Ok(()));
        for bad in [0, 7, 65] {
            let err = PasswordPolicy::new(bad).unwrap_err();
            assert!(matches!(&err, CoreError::Invalid { field, .. } if field == "password.min_length"), "{err:?}");
        }
    }
}
