//! SHA-256 (aws-lc-rs) for the hash chain and token storage.

use aws_lc_rs::digest;

/// SHA-256 over the concatenation of `parts`, without copying them into one buffer (the audit
/// verifier hashes millions of events).
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_concatenated() {
        assert_eq!(sha256(&[b"ab", b"", b"c"]), sha256(&[b"abc"]));
        // FIPS 180-2 B.1
        assert_eq!(hex::encode(sha256(&[b"abc"])), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
