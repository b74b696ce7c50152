//! Context-specific words (NIST SP 800-63B): the product's name and the user's own e-mail
//! address and name are the first guesses of anyone targeting this account.
//!
//! A password is not refused merely for containing one: "my tutela passphrase is long and
//! odd" is fine. What is left once these words are taken out must still meet the minimum
//! length, because they add nothing an attacker has to guess.

/// Shorter words (a two-letter e-mail name, a two-character Chinese name) would cut ordinary
/// passwords apart by accident.
const MIN_WORD_CHARS: usize = 3;

const PRODUCT_WORDS: [&str; 2] = ["tutela", "客户安全管理系统"];

/// The lower-case words to take out for a user with this e-mail address and name: the
/// e-mail's local part whole and split at `.`, `_`, `-` and `+`, the domain's first label
/// (usually the organisation), the name's words, and the product's name.
pub fn words(email: &str, display_name: &str) -> Vec<String> {
    let email = email.to_lowercase();
    let (local, domain) = email.split_once('@').unwrap_or((email.as_str(), ""));
    let mut words: Vec<String> = std::iter::once(local)
        .chain(local.split(['.', '_', '-', '+']))
        .chain(domain.split('.').next())
        .map(ToOwned::to_owned)
        .chain(display_name.to_lowercase().split_whitespace().map(ToOwned::to_owned))
        .chain(PRODUCT_WORDS.iter().map(|w| (*w).to_owned()))
        .filter(|w| w.chars().count() >= MIN_WORD_CHARS)
        .collect();
    // Longest first, so that `zhang.wei` goes before `zhang` takes part of it.
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words.dedup();
    words
}

/// `lowered` with every occurrence of every word removed.
pub fn strip(lowered: &str, words: &[String]) -> String {
    words.iter().fold(lowered.to_owned(), |rest, word| rest.replace(word.as_str(), ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_come_from_the_address_the_name_and_the_product() {
        let w = words("Zhang.Wei+vault@Acme-China.com.cn", "Zhang Wei 张伟");
        for expected in ["zhang.wei+vault", "zhang", "wei", "vault", "acme-china", "tutela", "客户安全管理系统"]
        {
            assert!(w.iter().any(|x| x == expected), "{expected} missing from {w:?}");
        }
        assert!(!w.iter().any(|x| x == "com" || x == "张伟"), "short words and suffixes are left alone: {w:?}");
    }

    #[test]
    fn stripping_takes_every_occurrence_out() {
        let w = words("alice@example.com", "");
        assert_eq!(strip("alice2024tutelaalice", &w), "2024");
        assert_eq!(strip("correct horse", &w), "correct horse");
    }
}
