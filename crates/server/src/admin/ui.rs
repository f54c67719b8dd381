//! The web UI: the files of `assets/ui/` compiled into the binary by
//! `rust-embed` (no separate front-end build, in debug builds too), talking to
//! `/api`. The HTML never contains secrets: everything shown comes from the
//! API, which redacts them.

use std::borrow::Cow;

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rust_embed::RustEmbed;

/// Every file under `assets/ui/`: index.html, the entry module, its ES modules
/// (one per page under `js/pages/`), the style sheet and `vendor/`.
#[derive(RustEmbed)]
#[folder = "assets/ui/"]
struct Assets;

/// The content type a browser needs to run or apply a file; ES modules are
/// refused unless served as JavaScript.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("md") => "text/markdown; charset=utf-8",
        Some(_) => "application/octet-stream",
        // LICENSE files.
        None => "text/plain; charset=utf-8",
    }
}

/// A file of the UI with its content type; `no-cache` so a new binary's UI is
/// picked up at once (the browser revalidates instead of guessing).
fn file(path: &str) -> Option<Response> {
    let data: Cow<'static, [u8]> = Assets::get(path)?.data;
    Some(([(header::CONTENT_TYPE, content_type(path)), (header::CACHE_CONTROL, "no-cache")], data).into_response())
}

pub async fn root() -> Redirect {
    Redirect::to("/ui/")
}

pub async fn index() -> Response {
    file("index.html").unwrap_or_else(|| (StatusCode::NOT_FOUND, "not found").into_response())
}

pub async fn asset(Path(path): Path<String>) -> Response {
    match file(&path) {
        Some(resp) => resp,
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

/// The sign-in page's style: the app's own sheet, served outside `/ui/`
/// because `/ui/` needs a session.
pub async fn login_css() -> Response {
    file("app.css").unwrap_or_else(|| (StatusCode::NOT_FOUND, "not found").into_response())
}

#[cfg(test)]
mod tests {
    use super::{content_type, Assets};

    /// Every file on disk is in the binary (a new page module is never a 404),
    /// and the ones the browser executes or applies get their real type.
    #[test]
    fn every_ui_file_is_embedded_with_its_type() {
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
        files.sort();
        let mut embedded: Vec<String> = Assets::iter().map(|p| p.into_owned()).collect();
        embedded.sort();
        assert_eq!(files, embedded);
        for f in files.iter().filter(|f| f.ends_with(".js")) {
            assert_eq!(content_type(f), "text/javascript; charset=utf-8", "{f}");
        }
        assert!(files.iter().any(|f| f == "vendor/uplot/uPlot.esm.js"));
        assert_eq!(content_type("vendor/uplot/uPlot.min.css"), "text/css; charset=utf-8");
    }
}
