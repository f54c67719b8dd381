//! OAuth 2.0 client credentials (RFC 6749 §4.4) as a provider's credentials:
//! a bearer token fetched from the identity provider, cached, refreshed ahead
//! of its expiry behind the requests that keep using it, and fetched again
//! when the upstream refuses it. However many requests wait, one token
//! request is in flight; a failed fetch is reported to the requests of the
//! next few seconds without asking again, so an identity provider that is
//! down is not hammered by every request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use http::HeaderValue;
use serde::Deserialize;

use super::send::error_chain;
use crate::config::{ClientAuth, EnvResolver, OAuthConfig};

/// A token without `expires_in` is trusted this long.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// How long one token request may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a failed fetch is reported before the identity provider is asked again.
const FAILURE_HOLD: Duration = Duration::from_secs(2);
/// Most of an error body quoted back.
const ERROR_QUOTE: usize = 300;

#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot get an OAuth token from {token_url}: {message}")]
pub struct TokenError {
    /// Redacted (no userinfo, no query values).
    pub token_url: String,
    pub message: String,
}

#[derive(Clone)]
struct Token {
    /// `Bearer …`, marked sensitive.
    header: HeaderValue,
    /// Refreshed behind the requests from here on.
    refresh_at: Instant,
    expires_at: Instant,
}

pub struct TokenSource {
    token_url: reqwest::Url,
    client_id: String,
    client_secret: String,
    scope: Option<String>,
    client_auth: ClientAuth,
    http: reqwest::Client,
    current: RwLock<Option<Token>>,
    /// Held while a token request is in flight: one at a time.
    fetching: tokio::sync::Mutex<Option<(Instant, TokenError)>>,
    refreshing_behind: AtomicBool,
    fetches: AtomicU64,
}

impl std::fmt::Debug for TokenSource {
    // Never the secret (nor the id, which names the service principal).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource").field("token_url", &crate::redact::url(self.token_url.as_str())).finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<f64>,
}

/// RFC 6749 §5.2's error body (`error`, `error_description`).
#[derive(Deserialize)]
struct TokenErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenSource {
    /// `Err` names what is wrong (an unset variable, a bad URL): the config was
    /// validated, so this is the environment changing since.
    pub fn new(cfg: &OAuthConfig, env: &dyn EnvResolver) -> Result<Self, String> {
        let token_url = reqwest::Url::parse(&cfg.token_url).map_err(|e| format!("oauth.token_url: {e}"))?;
        let resolve = |v: &str, field: &str| {
            crate::config::env_resolve(v, env)
                .map_err(|name| format!("oauth.{field}: environment variable {name} is not set"))
        };
        super::client::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("oauth: cannot build the HTTP client: {e}"))?;
        Ok(Self {
            token_url,
            client_id: resolve(&cfg.client_id, "client_id")?,
            client_secret: resolve(&cfg.client_secret, "client_secret")?,
            scope: cfg.scope.clone(),
            client_auth: cfg.client_auth,
            http,
            current: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
            refreshing_behind: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
        })
    }

    /// Token requests sent so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn current(&self) -> Option<Token> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The `Authorization` value for the next upstream request.
    pub async fn bearer(self: &Arc<Self>) -> Result<HeaderValue, TokenError> {
        let now = Instant::now();
        if let Some(t) = self.current() {
            if now < t.refresh_at {
                return Ok(t.header);
            }
            if now < t.expires_at {
                self.refresh_behind();
                return Ok(t.header);
            }
        }
        self.fetch_once().await
    }

    /// Forgets `used` (the upstream refused it), unless a newer token replaced it already.
    pub fn invalidate(&self, used: &HeaderValue) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|t| t.header == *used) {
            *current = None;
        }
    }

    /// Fetches a token now (Test connection), whatever is cached.
    pub async fn fetch_now(&self) -> Result<Duration, TokenError> {
        let mut failed = self.fetching.lock().await;
        let token = self.fetch_locked(&mut failed).await?;
        Ok(token.expires_at.saturating_duration_since(Instant::now()))
    }

    fn refresh_behind(self: &Arc<Self>) {
        if self.refreshing_behind.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            if let Err(e) = me.fetch_once().await {
                // The current token still works until it expires; the next request past that reports it.
                tracing::warn!(error = %e, "OAuth token refresh failed; the current token is used until it expires");
            }
            me.refreshing_behind.store(false, Ordering::Release);
        });
    }

    /// One token request for all who wait: a waiter finding a token fetched
    /// while it waited (or a fresh failure) takes that instead.
    async fn fetch_once(&self) -> Result<HeaderValue, TokenError> {
        let mut failed = self.fetching.lock().await;
        if let Some(t) = self.current().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(t.header);
        }
        if let Some((at, e)) = failed.as_ref() {
            if at.elapsed() < FAILURE_HOLD {
                return Err(e.clone());
            }
        }
        Ok(self.fetch_locked(&mut failed).await?.header)
    }

    async fn fetch_locked(&self, failed: &mut Option<(Instant, TokenError)>) -> Result<Token, TokenError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = tokio::time::timeout(FETCH_TIMEOUT, self.request())
            .await
            .unwrap_or_else(|_| Err(self.error(format!("no answer within {} s", FETCH_TIMEOUT.as_secs()))));
        match result {
            Ok(token) => {
                *failed = None;
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
                Ok(token)
            }
            Err(e) => {
                *failed = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    fn error(&self, message: String) -> TokenError {
        TokenError { token_url: crate::redact::url(self.token_url.as_str()), message }
    }

    async fn request(&self) -> Result<Token, TokenError> {
        let mut req = self.http.post(self.token_url.clone()).header(http::header::ACCEPT, "application/json");
        // The serializer is not `Send`: the body is finished before any await.
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "client_credentials");
            if let Some(scope) = &self.scope {
                form.append_pair("scope", scope);
            }
            match self.client_auth {
                ClientAuth::Basic => {
                    // RFC 6749 §2.3.1: each part form-encoded before the Basic encoding.
                    let enc = |v: &str| form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
                    req = req.basic_auth(enc(&self.client_id), Some(enc(&self.client_secret)));
                }
                ClientAuth::Body => {
                    form.append_pair("client_id", &self.client_id);
                    form.append_pair("client_secret", &self.client_secret);
                }
            }
            form.finish()
        };
        let sent_at = Instant::now();
        let resp = req
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| self.error(error_chain(e)))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| self.error(error_chain(e)))?;
        if !status.is_success() {
            return Err(self.error(format!("HTTP {}: {}", status.as_u16(), error_text(&body))));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| self.error(format!("the answer is not an OAuth token response ({e})")))?;
        if parsed.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
            return Err(self.error(format!("token_type {:?} is not Bearer", parsed.token_type.unwrap_or_default())));
        }
        let mut header = HeaderValue::from_str(&format!("Bearer {}", parsed.access_token))
            .map_err(|_| self.error("the access token is not a valid header value".into()))?;
        header.set_sensitive(true);
        let lifetime = parsed
            .expires_in
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(DEFAULT_LIFETIME, |s| Duration::from_secs_f64(s.min(86_400.0 * 365.0)));
        // Counted from the request's start: the token's clock started no later.
        let expires_at = sent_at + lifetime;
        // A fifth of the lifetime ahead, at most five minutes.
        let lead = (lifetime / 5).min(Duration::from_secs(300));
        Ok(Token { header, refresh_at: expires_at - lead, expires_at })
    }
}

/// The identity provider's own words: `error: error_description`, or the start of the body.
fn error_text(body: &[u8]) -> String {
    if let Ok(e) = serde_json::from_slice::<TokenErrorBody>(body) {
        return match e.error_description.filter(|d| !d.is_empty()) {
            Some(d) => format!("{}: {d}", e.error),
            None => e.error,
        };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "no body".into();
    }
    let mut end = text.len().min(ERROR_QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_quotes_the_identity_provider() {
        assert_eq!(
            error_text(br#"{"error":"invalid_client","error_description":"Client authentication failed"}"#),
            "invalid_client: Client authentication failed"
        );
        assert_eq!(error_text(br#"{"error":"invalid_scope"}"#), "invalid_scope");
        assert_eq!(error_text(b""), "no body");
        assert_eq!(error_text("é".repeat(400).as_bytes()).len(), 300);
    }
}
