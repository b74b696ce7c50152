//! Tutela's OpenID Connect relying party: the protocol half of single sign-on, behind
//! [`tutela_core::identity::IdentityProvider`]. Discovery (`/.well-known/openid-configuration`)
//! and the provider's keys, the authorisation code flow with PKCE (S256), the code exchange
//! with the client's credentials, and every check on the ID token — signature against the
//! provider's JWKS, `iss`, `aud` (and `azp`), `exp`, `nonce`, `at_hash` — are the
//! `openidconnect` crate's; here they are wired, with the user-info endpoint for the claims
//! an ID token leaves out, and errors sorted into "the provider is unreachable" and "the
//! answer is refused". Who may sign in, and as whom, is decided in `tutela-core`.

mod claims;
mod settings;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenClaims, IdTokenFields, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse as _, UserInfoClaims,
};
use secrecy::ExposeSecret as _;
use tokio::sync::Mutex;
use tutela_core::identity::{Authorization, FlowSecrets, IdentityProvider, ProviderError, VerifiedIdentity};

use claims::OtherClaims;
pub use settings::{OidcSettings, SettingsError};

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenAnswer = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long discovery (the provider's endpoints and signing keys) is reused before it is
/// fetched again. A key the cached set lacks (the provider rotated) fetches it at once.
const DISCOVERY_TTL: Duration = Duration::from_mins(15);

/// An OpenID provider, discovered from its issuer URL on first use (so that Tutela starts
/// while the provider is down, and single sign-on works once it is up).
pub struct OidcProvider {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    discovered: Mutex<Option<(Instant, Arc<OidcClient>)>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("issuer", &self.settings.issuer)
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(e.to_string())
}

/// An error with its sources, which for HTTP failures hold the part that says what went wrong.
fn sources(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        text.push_str(": ");
        text.push_str(&s.to_string());
        next = s.source();
    }
    text
}

impl OidcProvider {
    pub fn new(settings: OidcSettings) -> Result<Self, SettingsError> {
        settings.check()?;
        let http = openidconnect::reqwest::ClientBuilder::new()
            // Following redirects would let a hostile answer send the client elsewhere (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .build()
            .map_err(|e| SettingsError::new("issuer", format!("the HTTP client: {e}")))?;
        Ok(Self { settings, http, discovered: Mutex::new(None) })
    }

    /// The client over the provider's discovered metadata, discovering it when there is none
    /// yet, it is older than [`DISCOVERY_TTL`], or `refresh` asks.
    async fn client(&self, refresh: bool) -> Result<Arc<OidcClient>, ProviderError> {
        let mut cached = self.discovered.lock().await;
        if let Some((at, client)) = cached.as_ref()
            && !refresh
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(client.clone());
        }
        let issuer = openidconnect::IssuerUrl::new(self.settings.issuer.clone()).map_err(unavailable)?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| {
            ProviderError::Unavailable(format!("discovery at {}: {}", self.settings.issuer, sources(&e)))
        })?;
        let secret = self.settings.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_owned()));
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone()).map_err(unavailable)?;
        let client = Arc::new(
            OidcClient::from_provider_metadata(metadata, ClientId::new(self.settings.client_id.clone()), secret)
                .set_redirect_uri(redirect),
        );
        *cached = Some((Instant::now(), client.clone()));
        Ok(client)
    }

    /// The ID token's verified claims; once more with freshly fetched keys if its key is
    /// not among those cached.
    async fn verified_claims(
        &self,
        client: &OidcClient,
        answer: &TokenAnswer,
        nonce: &Nonce,
    ) -> Result<IdTokenClaims<OtherClaims, CoreGenderClaim>, ProviderError> {
        let id_token =
            answer.id_token().ok_or_else(|| ProviderError::Refused("the token answer carries no ID token".into()))?;
        let refused = |e: &dyn std::fmt::Display| ProviderError::Refused(format!("the ID token was refused: {e}"));
        let verify =
            |client: &OidcClient| -> Result<IdTokenClaims<OtherClaims, CoreGenderClaim>, ClaimsVerificationError> {
                let verifier = client.id_token_verifier();
                let claims = id_token.claims(&verifier, nonce)?.clone();
                // The access token is the one issued with this ID token (it fetches the user info).
                if let Some(expected) = claims.access_token_hash() {
                    let alg = id_token.signing_alg().map_err(ClaimsVerificationError::SignatureVerification)?;
                    let key =
                        id_token.signing_key(&verifier).map_err(ClaimsVerificationError::SignatureVerification)?;
                    let actual = AccessTokenHash::from_token(answer.access_token(), alg, key)
                        .map_err(|e| ClaimsVerificationError::Other(e.to_string()))?;
                    if actual != *expected {
                        return Err(ClaimsVerificationError::Other("at_hash does not match the access token".into()));
                    }
                }
                Ok(claims)
            };
        match verify(client) {
            Ok(claims) => Ok(claims),
            Err(ClaimsVerificationError::SignatureVerification(_)) => {
                let fresh = self.client(true).await?;
                verify(&fresh).map_err(|e| refused(&e))
            }
            Err(e) => Err(refused(&e)),
        }
    }

    async fn user_info(
        &self,
        client: &OidcClient,
        answer: &TokenAnswer,
        subject: &openidconnect::SubjectIdentifier,
    ) -> Result<Option<UserInfoClaims<OtherClaims, CoreGenderClaim>>, ProviderError> {
        let Ok(request) = client.user_info(answer.access_token().clone(), Some(subject.clone())) else {
            return Ok(None);
        };
        match request.request_async(&self.http).await {
            Ok(claims) => Ok(Some(claims)),
            Err(openidconnect::UserInfoError::Request(e)) => {
                Err(ProviderError::Unavailable(format!("the user-info endpoint: {}", sources(&e))))
            }
            Err(e) => Err(ProviderError::Refused(format!("the user-info answer was refused: {}", sources(&e)))),
        }
    }
}

#[async_trait]
impl IdentityProvider for OidcProvider {
    fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    async fn authorization(&self) -> Result<Authorization, ProviderError> {
        let client = self.client(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = self.settings.scopes.iter().filter(|s| *s != "openid").map(|s| Scope::new(s.clone()));
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(scopes)
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.to_string(),
            flow: FlowSecrets {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        })
    }

    async fn redeem(&self, code: &str, flow: &FlowSecrets) -> Result<VerifiedIdentity, ProviderError> {
        let client = self.client(false).await?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| {
                ProviderError::Unavailable("the provider's discovery document names no token endpoint".into())
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    let detail = answer.error_description().map(|d| format!(" ({d})")).unwrap_or_default();
                    ProviderError::Refused(format!(
                        "the identity provider refused the code: {}{detail}",
                        answer.error()
                    ))
                }
                RequestTokenError::Request(e) => {
                    ProviderError::Unavailable(format!("the token endpoint: {}", sources(&e)))
                }
                other => ProviderError::Unavailable(format!("the token endpoint: {}", sources(&other))),
            })?;
        let claims = self.verified_claims(&client, &answer, &Nonce::new(flow.nonce.clone())).await?;
        let info = self.user_info(&client, &answer, claims.subject()).await?;
        Ok(claims::identity(&claims, info.as_ref(), &self.settings.groups_claim))
    }
}
