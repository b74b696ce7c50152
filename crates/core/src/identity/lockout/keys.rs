//! What the sign-in state is keyed by: the account as claimed, and the source address.

use std::net::IpAddr;

/// An e-mail address is at most 254 bytes; anything longer is cut there, so that made-up
/// megabyte "addresses" cannot fill memory through the keys.
const MAX_ACCOUNT_BYTES: usize = 254;

/// The account as typed (trimmed, lower case), whether or not it exists: unknown accounts are
/// tracked and locked exactly like real ones, so a lock tells nothing about existence.
pub fn account(claimed: &str) -> String {
    let claimed = claimed.trim().to_lowercase();
    let mut end = claimed.len().min(MAX_ACCOUNT_BYTES);
    while !claimed.is_char_boundary(end) {
        end -= 1;
    }
    claimed[..end].to_owned()
}

/// The source address, with IPv6 taken per /64: one subscriber usually holds a whole /64, so
/// counting single IPv6 addresses would let one attacker rotate through 2^64 of them.
/// IPv4-mapped IPv6 addresses count as the IPv4 address they map. `None` (a caller inside the
/// process) is its own key.
pub fn address(source: Option<&str>) -> String {
    let Some(source) = source else { return String::new() };
    match source.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            format!("{}/64", std::net::Ipv6Addr::from(segments))
        }
        // Not an address (an in-process label): used as it is, shortened like an account.
        Err(_) => account(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_trimmed_lowered_and_bounded() {
        assert_eq!(account("  Alice@Example.COM "), "alice@example.com");
        let long = "é".repeat(1000);
        let key = account(&long);
        assert!(key.len() <= MAX_ACCOUNT_BYTES && long.starts_with(&key));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(address(Some("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), "2001:db8:1:2::/64");
        assert_eq!(address(Some("2001:db8:1:2::1")), address(Some("2001:db8:1:2:ffff::9")));
        assert_ne!(address(Some("2001:db8:1:2::1")), address(Some("2001:db8:1:3::1")));
        assert_eq!(address(Some("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(address(Some("192.0.2.7")), "192.0.2.7");
        assert_eq!(address(None), "");
    }
}
