//! `network_config.oauth`: an OAuth 2.0 client-credentials token source (a
//! Databricks service principal, Microsoft Entra ID, …) instead of a static
//! `Authorization` header.

use serde::Serialize;
use serde_json::{Map, Value};

use super::env::{check_env, EnvResolver};
use super::reader::{check_keys, join, opt_object, opt_str, Diags};
use crate::url_rule::parse_http_url;

const OAUTH_KNOWN: &[&str] = &["token_url", "client_id", "client_secret", "scope", "client_auth"];

/// How the client id and secret reach the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// HTTP Basic (RFC 6749 §2.3.1's preferred form; Databricks' own).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body (Entra ID accepts both).
    Body,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthConfig {
    pub token_url: String,
    /// As written: may be `env.NAME`.
    pub client_id: String,
    /// As written: may be `env.NAME`.
    pub client_secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub client_auth: ClientAuth,
}

pub(super) fn read_oauth(
    network: &Map<String, Value>,
    network_path: &str,
    env: &dyn EnvResolver,
    d: &mut Diags,
) -> Option<OAuthConfig> {
    let map = opt_object(network, "oauth", network_path, d)?;
    let path = join(network_path, "oauth");
    check_keys(map, &path, OAUTH_KNOWN, &[], d);
    let example = "for example https://<workspace-host>/oidc/v1/token";
    let token_url = match opt_str(map, "token_url", &path, d) {
        None => {
            d.error(&join(&path, "token_url"), "is required", Some(example.into()));
            None
        }
        Some(u) => match parse_http_url(&u) {
            Ok(_) => Some(u),
            Err(why) => {
                d.error(&join(&path, "token_url"), format!("{:?} {why}", crate::redact::url(&u)), Some(example.into()));
                None
            }
        },
    };
    let mut secret = |key: &str, hint: &str| {
        let at = join(&path, key);
        match opt_str(map, key, &path, d) {
            Some(v) if !v.trim().is_empty() => {
                // Resolved only to check it is set; the reference is what is kept.
                check_env(&v, &at, env, d);
                Some(v)
            }
            _ => {
                d.error(&at, "is required (a non-empty string)", Some(hint.into()));
                None
            }
        }
    };
    let client_id = secret("client_id", "the service principal's application id, e.g. \"env.DATABRICKS_CLIENT_ID\"");
    let client_secret =
        secret("client_secret", "an OAuth secret of the service principal, e.g. \"env.DATABRICKS_CLIENT_SECRET\"");
    let scope = opt_str(map, "scope", &path, d).filter(|s| !s.trim().is_empty());
    let client_auth = match opt_str(map, "client_auth", &path, d).as_deref() {
        None | Some("basic") => ClientAuth::Basic,
        Some("body") => ClientAuth::Body,
        Some(other) => {
            d.error(
                &join(&path, "client_auth"),
                format!("{other:?} is not a client authentication method"),
                Some("\"basic\" (HTTP Basic, the default; Databricks) or \"body\" (id and secret in the form)".into()),
            );
            ClientAuth::Basic
        }
    };
    Some(OAuthConfig {
        token_url: token_url?,
        client_id: client_id?,
        client_secret: client_secret?,
        scope,
        client_auth,
    })
}
