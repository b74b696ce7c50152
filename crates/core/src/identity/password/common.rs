//! The shipped list of common and breached passwords (provenance in `README.md` beside this
//! file), embedded compressed and decompressed once per process.
//!
//! Kept as one string of sorted lines plus their start offsets: about 2.8 MB for ~200,000
//! entries, where a `HashSet<String>` would take twice that, and a lookup is a binary search.

use std::sync::LazyLock;

use crate::{CoreError, CoreResult};

const COMPRESSED: &[u8] = include_bytes!("common-passwords.txt.zst");

/// Decompressed on first use; an installation asks for it when it opens, so a damaged
/// binary fails at start rather than letting weak passwords through later.
static LIST: LazyLock<Result<CommonPasswords, String>> = LazyLock::new(CommonPasswords::decode);

pub struct CommonPasswords {
    /// Normalised passwords, one per line, sorted by bytes, no duplicates.
    text: String,
    /// Where each line starts in `text`.
    starts: Vec<u32>,
}

impl std::fmt::Debug for CommonPasswords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Two megabytes of passwords say nothing useful in a log.
        f.debug_struct("CommonPasswords").field("entries", &self.starts.len()).finish_non_exhaustive()
    }
}

/// The list, decompressed the first time it is asked for.
pub fn list() -> CoreResult<&'static CommonPasswords> {
    LIST.as_ref().map_err(|e| CoreError::Internal(format!("the common-password list: {e}")))
}

impl CommonPasswords {
    fn decode() -> Result<Self, String> {
        let bytes = zstd::decode_all(COMPRESSED).map_err(|e| format!("cannot decompress: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
        let mut starts = Vec::with_capacity(200_000);
        let mut at = 0;
        for line in text.split_terminator('\n') {
            starts.push(u32::try_from(at).map_err(|_| "too large".to_owned())?);
            at += line.len() + 1;
        }
        Ok(Self { text, starts })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether `normalised` (NFKC, lower case) is on the list.
    pub fn contains(&self, normalised: &str) -> bool {
        self.starts.binary_search_by(|&start| self.line_at(start).cmp(normalised)).is_ok()
    }

    fn line_at(&self, start: u32) -> &str {
        let rest = &self.text[start as usize..];
        rest.split_once('\n').map_or(rest, |(line, _)| line)
    }

    #[cfg(test)]
    fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.split_terminator('\n')
    }
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization as _;

    use super::*;

    #[test]
    fn the_list_is_large_sorted_and_normalised() {
        let list = list().unwrap();
        assert!(list.len() > 100_000, "{} entries", list.len());
        let mut previous: Option<&str> = None;
        for line in list.lines() {
            assert!(previous.is_none_or(|p| p < line), "not sorted or duplicated at {line:?}");
            assert!(line.chars().count() >= 8, "{line:?} is shorter than any allowed password");
            assert_eq!(line.nfkc().collect::<String>().to_lowercase(), line, "{line:?} is not normalised");
            previous = Some(line);
        }
    }

    #[test]
    fn lookups_find_entries_and_only_them() {
        let list = list().unwrap();
        for common in ["password1234", "baseball1234", "qwertyuiopasdfgh", "1q2w3e4r5t6y"] {
            assert!(list.contains(common), "{common}");
        }
        for rare in ["correct horse battery staple", "password1234x", "", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzz"] {
            assert!(!list.contains(rare), "{rare}");
        }
        // The first and last entries, where an off-by-one in the search would show.
        let lowest = list.lines().next().unwrap();
        let highest = list.lines().last().unwrap();
        assert!(list.contains(lowest) && list.contains(highest));
    }
}
