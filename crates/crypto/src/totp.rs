//! Time-based one-time passwords (RFC 6238), built on `totp-rs`.
//!
//! Profile: HMAC-SHA-1, 6 digits, 30-second steps — the only combination that every common
//! authenticator app honours when scanning a QR code (many silently ignore other
//! parameters and would then show wrong codes).
//!
//! Verification accepts the current step and one step either side (clock drift, slow typing)
//! and refuses any step at or before the last one used, so an observed code cannot be
//! replayed. Callers store the returned step as the new last-used step.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use totp_rs::{Algorithm, TOTP, TotpUrlError};
use zeroize::Zeroizing;

use crate::CryptoError;
use crate::secret::{ct_eq, fill_random};

/// Length of a new TOTP secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Seconds per time step.
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted on either side of the current one.
pub const ALLOWED_SKEW_STEPS: u64 = 1;

/// Who the code is for, as shown by the authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpConfig {
    /// Service name, e.g. "Tutela". Must not contain ':'.
    pub issuer: String,
    /// Account name, e.g. the user's e-mail. Must not contain ':'.
    pub account: String,
}

/// A fresh random TOTP secret (20 bytes).
pub fn generate_secret() -> Zeroizing<Vec<u8>> {
    let mut secret = Zeroizing::new(vec![0u8; SECRET_LEN]);
    fill_random(&mut secret);
    secret
}

/// The `otpauth://totp/…` URL that authenticator apps scan. It contains the secret: treat it
/// (and the QR code made from it) as secret.
pub fn otpauth_url(secret: &[u8], cfg: &TotpConfig) -> Result<String, CryptoError> {
    let issuer = (!cfg.issuer.is_empty()).then(|| cfg.issuer.clone());
    let generator = Profile::AUTHENTICATOR.generator(secret, issuer, cfg.account.clone())?;
    Ok(generator.get_url())
}

/// `otpauth_url` as a QR code in an SVG document (starting at `<svg`, without XML prolog, so
/// it can be served as `image/svg+xml` or inlined in HTML). The SVG holds only a rectangle
/// and a path: no script, no external reference.
pub fn qr_svg(otpauth_url: &str) -> Result<String, CryptoError> {
    let code = QrCode::with_error_correction_level(otpauth_url.as_bytes(), EcLevel::M)
        .map_err(|e| CryptoError::Totp(format!("cannot encode the URL as a QR code: {e}")))?;
    let mut document = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    if let Some(start) = document.find("<svg") {
        document.drain(..start);
    }
    Ok(document)
}

/// Checks `code` at unix time `now_unix` and returns the time step it matched, which the
/// caller must store as the new `last_used_step`.
///
/// Accepts the steps `now - 1 ..= now + 1`; a code matching only steps at or before
/// `last_used_step` is refused as "code already used". If the code matches several steps (a
/// one-in-a-million coincidence), the latest is returned, which retires the earlier ones too.
/// Codes are compared in constant time. Anything but exactly six ASCII digits is refused
/// before any computation.
pub fn verify(secret: &[u8], code: &str, now_unix: u64, last_used_step: Option<u64>) -> Result<u64, CryptoError> {
    let profile = Profile::AUTHENTICATOR;
    if code.len() != profile.digits || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CryptoError::Totp(format!("the code must be {} digits", profile.digits)));
    }
    let generator = profile.generator(secret, None, String::new())?;
    let current = now_unix / profile.step_seconds;
    let mut accepted = None;
    let mut replayed = false;
    // Every candidate is computed and compared, whatever matched before.
    for step in current.saturating_sub(ALLOWED_SKEW_STEPS)..=current.saturating_add(ALLOWED_SKEW_STEPS) {
        let Some(expected) = profile.code_at_step(&generator, step) else {
            continue;
        };
        if ct_eq(expected.as_bytes(), code.as_bytes()) {
            if last_used_step.is_some_and(|last| step <= last) {
                replayed = true;
            } else {
                accepted = Some(step);
            }
        }
    }
    match accepted {
        Some(step) => Ok(step),
        None if replayed => Err(CryptoError::Totp("code already used".into())),
        None => Err(CryptoError::Totp("invalid code".into())),
    }
}

/// The code for unix time `now_unix` (for tests and the CLI).
pub fn current_code(secret: &[u8], now_unix: u64) -> Result<String, CryptoError> {
    let profile = Profile::AUTHENTICATOR;
    let generator = profile.generator(secret, None, String::new())?;
    Ok(code_at(&generator, now_unix).to_string())
}

/// Algorithm, length and step of a TOTP generator. Production uses only
/// [`Profile::AUTHENTICATOR`]; the RFC 6238 test vectors use others through the same code.
#[derive(Debug, Clone, Copy)]
struct Profile {
    algorithm: Algorithm,
    digits: usize,
    step_seconds: u64,
}

impl Profile {
    const AUTHENTICATOR: Self = Self { algorithm: Algorithm::SHA1, digits: DIGITS, step_seconds: STEP_SECONDS };

    /// A `totp-rs` generator; it holds a copy of the secret and zeroizes it on drop. Secrets
    /// under 128 bits are refused.
    fn generator(self, secret: &[u8], issuer: Option<String>, account: String) -> Result<TOTP, CryptoError> {
        // Skew is handled by `verify` (it needs the matched step); the generator never checks.
        TOTP::new(self.algorithm, self.digits, 0, self.step_seconds, secret.to_vec(), issuer, account)
            .map_err(|e| describe_totp_error(&e))
    }

    /// The code of time step `step`, or `None` if the step's start time does not fit a `u64`.
    fn code_at_step(self, generator: &TOTP, step: u64) -> Option<Zeroizing<String>> {
        step.checked_mul(self.step_seconds).map(|time| code_at(generator, time))
    }
}

/// The code at unix time `unix_time`.
fn code_at(generator: &TOTP, unix_time: u64) -> Zeroizing<String> {
    Zeroizing::new(generator.generate(unix_time))
}

/// Error text without echoing inputs that may be secret.
fn describe_totp_error(e: &TotpUrlError) -> CryptoError {
    CryptoError::Totp(
        match e {
            TotpUrlError::SecretSize(_) => "the secret must be at least 16 bytes",
            TotpUrlError::Issuer(_) => "the issuer must not contain ':'",
            TotpUrlError::AccountName(_) => "the account name must not contain ':'",
            TotpUrlError::Digits(_) | TotpUrlError::DigitsNumber(_) => "unsupported number of digits",
            _ => "invalid TOTP parameters",
        }
        .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    /// RFC 6238 Appendix B: (time, SHA-1, SHA-256, SHA-512), 8 digits, 30-second steps.
    const RFC_6238_VECTORS: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1_111_111_109, "07081804", "68084774", "25091201"),
        (1_111_111_111, "14050471", "67062674", "99943326"),
        (1_234_567_890, "89005924", "91819424", "93441116"),
        (2_000_000_000, "69279037", "90698825", "38618901"),
        (20_000_000_000, "65353130", "77737706", "47863826"),
    ];

    fn rfc_code(algorithm: Algorithm, seed: &[u8], time: u64) -> String {
        let profile = Profile { algorithm, digits: 8, step_seconds: 30 };
        let generator = profile.generator(seed, None, String::new()).unwrap();
        code_at(&generator, time).to_string()
    }

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        for (time, sha1, sha256, sha512) in RFC_6238_VECTORS {
            assert_eq!(rfc_code(Algorithm::SHA1, SEED_SHA1, time), sha1, "SHA-1 at {time}");
            assert_eq!(rfc_code(Algorithm::SHA256, SEED_SHA256, time), sha256, "SHA-256 at {time}");
            assert_eq!(rfc_code(Algorithm::SHA512, SEED_SHA512, time), sha512, "SHA-512 at {time}");
        }
    }

    #[test]
    fn production_code_is_the_last_six_rfc_digits() {
        // Same truncation, fewer digits: the 6-digit SHA-1 code is the 8-digit one mod 10^6.
        for (time, sha1, _, _) in RFC_6238_VECTORS {
            assert_eq!(current_code(SEED_SHA1, time).unwrap(), sha1[2..]);
        }
    }

    #[test]
    fn current_code_verifies_and_returns_its_step() {
        let secret = generate_secret();
        let now = 1_700_000_000;
        let code = current_code(&secret, now).unwrap();
        assert_eq!(verify(&secret, &code, now, None).unwrap(), now / 30);
    }

    #[test]
    fn one_step_of_skew_either_side() {
        let secret = SEED_SHA1;
        let now = 1_700_000_000;
        let previous = current_code(secret, now - 30).unwrap();
        let next = current_code(secret, now + 30).unwrap();
        assert_eq!(verify(secret, &previous, now, None).unwrap(), now / 30 - 1);
        assert_eq!(verify(secret, &next, now, None).unwrap(), now / 30 + 1);
    }

    #[test]
    fn codes_two_steps_away_are_refused() {
        // A fixed secret keeps this deterministic (a random one could, once in ~10^6 runs,
        // give two steps the same code).
        let secret = SEED_SHA1;
        let now = 1_700_000_000;
        for other in [now - 60, now + 60] {
            let code = current_code(secret, other).unwrap();
            assert!(matches!(verify(secret, &code, now, None), Err(CryptoError::Totp(m)) if m == "invalid code"));
        }
    }

    #[test]
    fn replay_of_the_same_code_is_refused() {
        let secret = SEED_SHA1;
        let now = 1_700_000_000;
        let code = current_code(secret, now).unwrap();
        let step = verify(secret, &code, now, None).unwrap();
        let replay = verify(secret, &code, now + 5, Some(step));
        assert!(matches!(replay, Err(CryptoError::Totp(m)) if m == "code already used"));
        // The next step's code is still fine.
        let later = current_code(secret, now + 30).unwrap();
        assert_eq!(verify(secret, &later, now + 30, Some(step)).unwrap(), step + 1);
    }

    #[test]
    fn older_step_than_last_used_is_refused() {
        let secret = SEED_SHA1;
        let now = 1_700_000_000;
        let previous = current_code(secret, now - 30).unwrap();
        assert!(verify(secret, &previous, now, Some(now / 30)).is_err());
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = generate_secret();
        for code in ["", "12345", "1234567", "12345a", "12 456", "１２３４５６", "-12345", "123456\n"] {
            assert!(matches!(verify(&secret, code, 1_700_000_000, None), Err(CryptoError::Totp(_))), "{code:?}");
        }
    }

    #[test]
    fn short_secret_is_an_error() {
        assert!(matches!(current_code(&[1; 15], 0), Err(CryptoError::Totp(_))));
        assert!(matches!(verify(&[1; 15], "123456", 0, None), Err(CryptoError::Totp(_))));
    }

    #[test]
    fn extreme_times_do_not_panic() {
        let secret = generate_secret();
        for now in [0, 29, u64::MAX - 1, u64::MAX] {
            let code = current_code(&secret, now).unwrap();
            assert!(verify(&secret, &code, now, None).is_ok());
        }
    }

    #[test]
    fn otpauth_url_round_trips_through_totp_rs() {
        let secret = generate_secret();
        let cfg = TotpConfig { issuer: "Tutela".into(), account: "alice@example.org".into() };
        let url = otpauth_url(&secret, &cfg).unwrap();
        assert!(url.starts_with("otpauth://totp/Tutela:alice%40example.org?secret="), "{url}");
        let parsed = TOTP::from_url(&url).unwrap();
        assert_eq!(parsed.secret.as_slice(), secret.as_slice());
        assert_eq!((parsed.digits, parsed.step, parsed.algorithm), (6, 30, Algorithm::SHA1));
        assert_eq!(parsed.issuer.as_deref(), Some("Tutela"));
    }

    #[test]
    fn otpauth_url_refuses_colons() {
        let secret = generate_secret();
        let bad_issuer = TotpConfig { issuer: "a:b".into(), account: "x".into() };
        let bad_account = TotpConfig { issuer: "a".into(), account: "x:y".into() };
        assert!(matches!(otpauth_url(&secret, &bad_issuer), Err(CryptoError::Totp(_))));
        assert!(matches!(otpauth_url(&secret, &bad_account), Err(CryptoError::Totp(_))));
    }

    #[test]
    fn qr_svg_is_a_plain_svg_document() {
        let secret = generate_secret();
        let cfg = TotpConfig { issuer: "Tutela".into(), account: "alice@example.org".into() };
        let svg = qr_svg(&otpauth_url(&secret, &cfg).unwrap()).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.trim_end().ends_with("</svg>"));
        let lower = svg.to_lowercase();
        for forbidden in ["<script", "href", "onload", "<?xml", "foreignobject"] {
            assert!(!lower.contains(forbidden), "{forbidden}");
        }
    }

    #[test]
    fn qr_svg_refuses_oversized_input() {
        assert!(matches!(qr_svg(&"x".repeat(10_000)), Err(CryptoError::Totp(_))));
    }

    #[test]
    fn generated_secrets_are_20_random_bytes() {
        let a = generate_secret();
        assert_eq!(a.len(), SECRET_LEN);
        assert_ne!(a.as_slice(), generate_secret().as_slice());
    }
}
