//! Bearer secrets: session cookies, API tokens, setup links, recovery codes.
//!
//! Tokens carry 256 bits of randomness, so the server stores only their SHA-256: a slow
//! password hash would add nothing against guessing (2^256 is out of reach either way) and
//! would cost CPU on every request. A stolen database then yields hashes, not usable tokens.
//!
//! Recovery codes are shorter because people type them: 12 characters of a 32-letter
//! alphabet = 60 bits each. That is ample against online guessing (rate-limited, and a code
//! only replaces the second factor, never the password), and the same SHA-256 storage is used
//! for them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::hash::sha256;
use crate::secret::fill_random;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Length of those bytes in unpadded base64url.
const TOKEN_BASE64_LEN: usize = 43;

/// Recovery code alphabet: Crockford's base32 in lowercase — digits and letters without
/// `i`, `l`, `o` and `u`, so nothing can be misread (`1`/`l`, `0`/`o`). Exactly 32 symbols,
/// so 5 random bits pick one without bias.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters per recovery code group, and groups per code.
const RECOVERY_GROUP_LEN: usize = 4;
const RECOVERY_GROUPS: usize = 3;
const RECOVERY_CHARS: usize = RECOVERY_GROUP_LEN * RECOVERY_GROUPS;

/// A new token `prefix` + base64url(32 random bytes), and its hash for storage.
///
/// The prefix (e.g. `tut_`) is not secret: it lets people and secret scanners recognise a
/// leaked token. It is part of the hashed string.
pub fn new_token(prefix: &str) -> (SecretString, [u8; 32]) {
    let random = Zeroizing::new({
        let mut bytes = [0u8; TOKEN_BYTES];
        fill_random(&mut bytes);
        bytes
    });
    // Exact capacity: `SecretString::from` then keeps this buffer instead of reallocating and
    // leaving an unzeroized copy behind.
    let mut token = String::with_capacity(prefix.len() + TOKEN_BASE64_LEN);
    token.push_str(prefix);
    URL_SAFE_NO_PAD.encode_string(*random, &mut token);
    let hash = hash_token(&token);
    (SecretString::from(token), hash)
}

/// SHA-256 of a token, as stored and looked up.
pub fn hash_token(token: &str) -> [u8; 32] {
    sha256(&[token.as_bytes()])
}

/// `n` fresh recovery codes formatted `xxxx-xxxx-xxxx`.
pub fn recovery_codes(n: usize) -> Vec<SecretString> {
    (0..n).map(|_| recovery_code()).collect()
}

fn recovery_code() -> SecretString {
    let mut random = Zeroizing::new([0u8; RECOVERY_CHARS]);
    fill_random(random.as_mut_slice());
    let mut code = String::with_capacity(RECOVERY_CHARS + RECOVERY_GROUPS - 1);
    for (i, byte) in random.iter().enumerate() {
        if i > 0 && i % RECOVERY_GROUP_LEN == 0 {
            code.push('-');
        }
        code.push(char::from(RECOVERY_ALPHABET[usize::from(byte & 0x1f)]));
    }
    SecretString::from(code)
}

/// The canonical form of a typed recovery code, for hashing and comparing: lowercase, spaces
/// and dashes removed, dashes re-inserted every four characters. Letters people confuse are
/// mapped as Crockford's base32 does (`o` → `0`, `i`/`l` → `1`). Input that is not a valid
/// code still normalises to something; it simply matches no stored hash.
pub fn normalise_recovery_code(input: &str) -> String {
    let mut out = String::with_capacity(RECOVERY_CHARS + RECOVERY_GROUPS - 1);
    let symbols = input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| match c.to_ascii_lowercase() {
        'o' => '0',
        'i' | 'l' => '1',
        other => other,
    });
    for (i, c) in symbols.enumerate() {
        if i > 0 && i % RECOVERY_GROUP_LEN == 0 {
            out.push('-');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn new_token_has_prefix_entropy_and_matching_hash() {
        let (token, hash) = new_token("tut_");
        let token = token.expose_secret();
        assert!(token.starts_with("tut_"));
        assert_eq!(token.len(), 4 + TOKEN_BASE64_LEN);
        let decoded = URL_SAFE_NO_PAD.decode(&token[4..]).unwrap();
        assert_eq!(decoded.len(), TOKEN_BYTES);
        assert_eq!(hash_token(token), hash);
        let (other, other_hash) = new_token("tut_");
        assert_ne!(other.expose_secret(), token);
        assert_ne!(other_hash, hash);
    }

    #[test]
    fn hash_token_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(hex::encode(hash_token("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn recovery_codes_have_the_canonical_format() {
        let codes = recovery_codes(10);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            let code = code.expose_secret();
            assert_eq!(code.len(), 14);
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(groups.iter().all(|g| g.len() == 4));
            assert!(code.bytes().filter(|&b| b != b'-').all(|b| RECOVERY_ALPHABET.contains(&b)));
            assert_eq!(normalise_recovery_code(code), code);
        }
        assert_ne!(codes[0].expose_secret(), codes[1].expose_secret());
    }

    #[test]
    fn recovery_code_normalisation() {
        assert_eq!(normalise_recovery_code("ABCD-EFGH-JKMN"), "abcd-efgh-jkmn");
        assert_eq!(normalise_recovery_code("abcdefghjkmn"), "abcd-efgh-jkmn");
        assert_eq!(normalise_recovery_code("  abcd efgh\tjkmn \n"), "abcd-efgh-jkmn");
        assert_eq!(normalise_recovery_code("ab-cd--ef gh-jk mn"), "abcd-efgh-jkmn");
        assert_eq!(normalise_recovery_code("O0Il-1aaa-bbbb"), "0011-1aaa-bbbb");
        assert_eq!(normalise_recovery_code(""), "");
        assert_eq!(normalise_recovery_code("abc"), "abc");
        assert_eq!(normalise_recovery_code("abcd-efgh-jkmn-p"), "abcd-efgh-jkmn-p");
    }

    #[test]
    fn alphabet_is_unambiguous_and_complete() {
        let mut sorted = RECOVERY_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32);
        for ambiguous in [b'i', b'l', b'o', b'u'] {
            assert!(!RECOVERY_ALPHABET.contains(&ambiguous));
        }
    }
}
