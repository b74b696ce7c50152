//! The claims Tutela reads: the standard ones, and the provider's own (the groups claim is
//! named in the configuration).

use openidconnect::core::CoreGenderClaim;
use openidconnect::{AdditionalClaims, IdTokenClaims, UserInfoClaims};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tutela_core::identity::VerifiedIdentity;

/// Every claim beyond the standard ones, by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct OtherClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

impl OtherClaims {
    /// The named claim as a list of strings: an array of them, or one string. Anything else
    /// is not a list of groups and counts as none.
    fn strings(&self, name: &str) -> Option<Vec<String>> {
        match self.rest.get(name)? {
            Value::Array(items) => Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
            Value::String(one) => Some(vec![one.clone()]),
            _ => None,
        }
    }
}

/// The identity from the verified ID token, completed from the user-info answer (whose
/// subject the library checked against the token's) for what the token left out — many
/// providers put e-mail and groups only there.
pub(crate) fn identity(
    token: &IdTokenClaims<OtherClaims, CoreGenderClaim>,
    info: Option<&UserInfoClaims<OtherClaims, CoreGenderClaim>>,
    groups_claim: &str,
) -> VerifiedIdentity {
    let name = |n: Option<&openidconnect::LocalizedClaim<openidconnect::EndUserName>>| {
        n.and_then(|n| n.get(None)).map(|n| n.as_str().to_owned())
    };
    let (email, email_verified) = match token.email() {
        Some(e) => (Some(e.as_str().to_owned()), token.email_verified()),
        None => {
            (info.and_then(|i| i.email()).map(|e| e.as_str().to_owned()), info.and_then(UserInfoClaims::email_verified))
        }
    };
    VerifiedIdentity {
        subject: token.subject().as_str().to_owned(),
        email,
        email_verified,
        name: name(token.name()).or_else(|| info.and_then(|i| name(i.name()))),
        groups: token
            .additional_claims()
            .strings(groups_claim)
            .or_else(|| info.and_then(|i| i.additional_claims().strings(groups_claim)))
            .unwrap_or_default(),
        amr: token.auth_method_refs().map(|v| v.iter().map(|m| m.as_str().to_owned()).collect()).unwrap_or_default(),
        acr: token.auth_context_ref().map(|a| a.as_str().to_owned()),
    }
}
