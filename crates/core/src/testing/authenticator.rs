//! A software WebAuthn authenticator for tests: makes ES256 passkeys with "none" attestation
//! and signs assertions, as a platform authenticator with user verification would, so that
//! the whole ceremony — the server's options, the browser's answer, the server's checks —
//! runs without a browser. Fields are public so tests can misbehave on purpose (a wrong
//! origin, no user verification, a counter that goes backwards).
//!
//! The formats are WebAuthn Level 3's: authenticator data (§6.1), the attestation object
//! (§6.5) and client data (§5.8.1), with CBOR encoded by hand (RFC 8949, the few types used).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use data_encoding::BASE64URL_NOPAD;
use serde_json::{Value, json};

/// Authenticator data flags.
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_CREDENTIAL: u8 = 0x40;

/// One passkey held by the authenticator.
pub struct SoftCredential {
    pub id: Vec<u8>,
    pub rp_id: String,
    /// The user handle given at registration, returned with every assertion.
    pub user_handle: Vec<u8>,
    /// The signature counter: incremented before each assertion.
    pub counter: u32,
    key: EcdsaKeyPair,
}

pub struct SoftAuthenticator {
    /// The origin the "browser" reports in client data.
    pub origin: String,
    /// Whether the user is verified (PIN, biometric) at each operation.
    pub user_verification: bool,
    pub credentials: Vec<SoftCredential>,
}

fn b64(bytes: &[u8]) -> String {
    BASE64URL_NOPAD.encode(bytes)
}

fn unb64(value: &Value, what: &str) -> Vec<u8> {
    let text = value.as_str().unwrap_or_else(|| panic!("{what} is not a string: {value}"));
    BASE64URL_NOPAD.decode(text.trim_end_matches('=').as_bytes()).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// The head of a CBOR item: major type and argument (24, 25, 26: one, two, four more bytes).
fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | u8::try_from(n).expect("small")),
        24..=0xff => out.extend([major | 0x18, u8::try_from(n).expect("one byte")]),
        0x100..=0xffff => {
            out.push(major | 0x19);
            out.extend(u16::try_from(n).expect("two bytes").to_be_bytes());
        }
        _ => {
            out.push(major | 0x1a);
            out.extend(u32::try_from(n).expect("lengths here fit four bytes").to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        cbor_head(out, 0, v.unsigned_abs());
    } else {
        cbor_head(out, 1, (-1 - v).unsigned_abs());
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, t: &str) {
    cbor_head(out, 3, t.len() as u64);
    out.extend_from_slice(t.as_bytes());
}

/// The credential public key as a `COSE_Key`: EC2, ES256, P-256, x and y.
fn cose_key(public: &[u8]) -> Vec<u8> {
    assert_eq!((public.len(), public[0]), (65, 4), "an uncompressed P-256 point");
    let mut out = Vec::new();
    cbor_head(&mut out, 5, 5);
    cbor_int(&mut out, 1);
    cbor_int(&mut out, 2);
    cbor_int(&mut out, 3);
    cbor_int(&mut out, -7);
    cbor_int(&mut out, -1);
    cbor_int(&mut out, 1);
    cbor_int(&mut out, -2);
    cbor_bytes(&mut out, &public[1..33]);
    cbor_int(&mut out, -3);
    cbor_bytes(&mut out, &public[33..]);
    out
}

fn client_data(kind: &str, challenge: &Value, origin: &str) -> Vec<u8> {
    let challenge = challenge.as_str().expect("the challenge is base64url text");
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false }).to_string().into_bytes()
}

impl SoftAuthenticator {
    pub fn new(origin: &str) -> Self {
        Self { origin: origin.to_owned(), user_verification: true, credentials: Vec::new() }
    }

    fn flags(&self) -> u8 {
        if self.user_verification { USER_PRESENT | USER_VERIFIED } else { USER_PRESENT }
    }

    /// Answers `navigator.credentials.create` for `options` (a `CreationChallengeResponse`
    /// as JSON); keeps the new credential.
    pub fn register(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rp"]["id"].as_str().expect("rp.id").to_owned();
        let user_handle = unb64(&public_key["user"]["id"], "user.id");
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("a P-256 key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).expect("the key parses");
        let id = tutela_crypto::secret::random_bytes::<32>().to_vec();

        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        auth_data.push(self.flags() | ATTESTED_CREDENTIAL);
        auth_data.extend(0_u32.to_be_bytes());
        auth_data.extend([0_u8; 16]); // AAGUID: none
        auth_data.extend(u16::try_from(id.len()).expect("a short id").to_be_bytes());
        auth_data.extend(&id);
        auth_data.extend(cose_key(key.public_key().as_ref()));

        let mut attestation = Vec::new();
        cbor_head(&mut attestation, 5, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, 5, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);

        let client = client_data("webauthn.create", &public_key["challenge"], &self.origin);
        self.credentials.push(SoftCredential { id: id.clone(), rp_id, user_handle, counter: 0, key });
        json!({
            "id": b64(&id),
            "rawId": b64(&id),
            "type": "public-key",
            "response": { "attestationObject": b64(&attestation), "clientDataJSON": b64(&client) },
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get` for `options` (a `RequestChallengeResponse` as
    /// JSON) with the first held credential it allows (any of the relying party's, if it
    /// lists none: a discoverable credential).
    pub fn assert(&mut self, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rpId"].as_str().expect("rpId");
        let allowed: Vec<Vec<u8>> = public_key["allowCredentials"]
            .as_array()
            .map(|list| list.iter().map(|c| unb64(&c["id"], "allowCredentials.id")).collect())
            .unwrap_or_default();
        let index = self
            .credentials
            .iter()
            .position(|c| c.rp_id == rp_id && (allowed.is_empty() || allowed.contains(&c.id)))
            .expect("the authenticator holds a credential the options allow");
        self.assert_with(options, index)
    }

    /// Answers with the credential at `index`, allowed or not (as a misbehaving client could).
    pub fn assert_with(&mut self, options: &Value, index: usize) -> Value {
        let flags = self.flags();
        let public_key = &options["publicKey"];
        let client = client_data("webauthn.get", &public_key["challenge"], &self.origin);
        let credential = &mut self.credentials[index];
        credential.counter += 1;
        let mut auth_data = digest(&SHA256, credential.rp_id.as_bytes()).as_ref().to_vec();
        auth_data.push(flags);
        auth_data.extend(credential.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(digest(&SHA256, &client).as_ref());
        let signature = credential.key.sign(&SystemRandom::new(), &signed).expect("signing");
        json!({
            "id": b64(&credential.id),
            "rawId": b64(&credential.id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&credential.user_handle),
            },
            "extensions": {},
        })
    }
}
