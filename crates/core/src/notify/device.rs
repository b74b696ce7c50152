//! What a "device" is for the new-sign-in notice.
//!
//! A device is the browser family and operating system (from the user agent, without
//! versions, so that a browser update is not a new device) together with the network the
//! sign-in came from: the /24 of an IPv4 address, the /64 of an IPv6 one (one home or office
//! network, not one address, since providers hand out new addresses within their networks
//! all the time). Only a keyed 32-bit hash of the user, that browser and that network is
//! kept (the blind-index key, as for sealed fields): it cannot be turned back into an
//! address or a browser, cannot be linked between users, and being 32 bits it cannot confirm
//! a guess either; the rare collision only means one notice less. The address and browser
//! the notice names go into the notice itself, which the user reads, and nowhere else.

use std::net::IpAddr;

use ipnet::IpNet;

/// The browser and system a user agent names, for people: "Firefox on Linux". Versions are
/// left out on purpose (see the module).
pub fn browser_label(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|u| !u.is_empty()) else {
        return "unknown browser".into();
    };
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari.
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(token, _)| ua.contains(token))
    .map_or("unknown browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// The network an address belongs to, as above; `unknown` without an address.
pub fn network(source: Option<&str>) -> String {
    let Some(ip) = source.and_then(|s| s.trim().parse::<IpAddr>().ok()) else {
        return "unknown".into();
    };
    let prefix = match ip {
        IpAddr::V4(_) => 24,
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => return network(Some(&v6.to_canonical().to_string())),
        IpAddr::V6(_) => 64,
    };
    IpNet::new(ip, prefix).map_or_else(|_| ip.to_string(), |n| n.trunc().to_string())
}

/// The text whose keyed hash names the device of this user.
pub(crate) fn device_text(user_id: uuid::Uuid, source: Option<&str>, user_agent: Option<&str>) -> String {
    format!("{user_id}\n{}\n{}", browser_label(user_agent), network(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const CHROME_WINDOWS: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    const EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                                Chrome/126.0 Safari/537.36 Edg/126.0";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

    #[test]
    fn browsers_are_named_without_versions() {
        assert_eq!(browser_label(Some(FIREFOX_LINUX)), "Firefox on Linux");
        assert_eq!(browser_label(Some(CHROME_WINDOWS)), "Chrome on Windows");
        assert_eq!(browser_label(Some(EDGE_WINDOWS)), "Edge on Windows");
        assert_eq!(browser_label(Some(SAFARI_IPHONE)), "Safari on iOS");
        assert_eq!(browser_label(Some(&FIREFOX_LINUX.replace("128.0", "129.0"))), "Firefox on Linux");
        assert_eq!(browser_label(None), "unknown browser");
    }

    #[test]
    fn networks_are_the_slash_24_or_slash_64() {
        assert_eq!(network(Some("192.0.2.77")), "192.0.2.0/24");
        assert_eq!(network(Some("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(network(Some("::ffff:192.0.2.9")), "192.0.2.0/24");
        assert_eq!(network(Some("not an address")), "unknown");
        assert_eq!(network(None), "unknown");
    }
}
