//! The web UI: static files compiled into the binary (no separate front-end
//! build), talking to `/api`. The HTML never contains secrets: everything
//! shown comes from the API, which redacts them.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};

const INDEX: &str = include_str!("../../assets/ui/index.html");
const JS: &str = "text/javascript; charset=utf-8";

/// `(path under /ui/, content type, body)` for a file of `assets/ui/`.
macro_rules! asset {
    ($path:literal, $mime:expr) => {
        ($path, $mime, include_str!(concat!("../../assets/ui/", $path)))
    };
}

/// Every file of the UI: the entry module, its ES modules (one per page
/// under `js/pages/`), the style sheet.
const ASSETS: &[(&str, &str, &str)] = &[
    asset!("app.js", JS),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/router.js", JS),
    asset!("js/provider-fields.js", JS),
    asset!("js/pages/providers.js", JS),
    asset!("js/pages/provider-add.js", JS),
    asset!("js/pages/provider-edit.js", JS),
    asset!("js/pages/routes.js", JS),
    asset!("js/pages/playground.js", JS),
    asset!("js/governance.js", JS),
    asset!("js/pages/keys.js", JS),
    asset!("js/pages/teams.js", JS),
    asset!("js/pages/policies.js", JS),
    asset!("js/pages/prices.js", JS),
];

pub async fn root() -> Redirect {
    Redirect::to("/ui/")
}

pub async fn index() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(INDEX)).into_response()
}

pub async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == path) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        // Unknown paths under /ui/ are client-side routes: serve the app.
        None if !path.contains('.') => index().await,
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub fn login_html(error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"form-error\" role=\"alert\">{e}</p>")).unwrap_or_default();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Switchyard</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/login.css"></head>
<body class="login-body"><main class="login-card"><h1 class="brand">Switchyard</h1>
<p class="muted">This gateway is bound to a network address, so the admin token is required.</p>
<form method="post" action="/login"><label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
{error}<button class="btn primary" type="submit">Sign in</button></form></main></body></html>"#
    )
}

pub async fn login_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../../assets/ui/app.css")).into_response()
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    /// A module added under assets/ui/ but not to the table would be a 404 in the browser.
    #[test]
    fn every_ui_file_is_served() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/ui");
        let mut pending = vec![root.clone()];
        let mut files = Vec::new();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(rel) = path.strip_prefix(&root) {
                    files.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        files.retain(|f| f != "index.html");
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|(p, _, _)| p.to_string()).collect();
        served.sort();
        assert_eq!(files, served);
    }
}
