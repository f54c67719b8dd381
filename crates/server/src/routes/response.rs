//! Relaying gateway responses.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use switchyard_core::ProxyBody;

use super::in_span::InSpan;

pub(crate) fn relay_response(resp: switchyard_core::ProxyResponse) -> Response {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
    let mut builder = Response::builder().status(status);
    if let Ok(p) = HeaderValue::from_str(&resp.provider) {
        builder = builder.header("x-switchyard-provider", p);
    }
    if let Ok(s) = HeaderValue::from_str(&resp.served_by) {
        builder = builder.header("x-switchyard-served-by", s);
    }
    builder = builder.header("x-switchyard-attempts", resp.attempts);
    if let Some(h) = builder.headers_mut() {
        h.extend(resp.headers);
    }
    let response = match resp.body {
        ProxyBody::Full(bytes) => builder
            .header(
                http::header::CONTENT_TYPE,
                resp.content_type.unwrap_or(HeaderValue::from_static("application/json")),
            )
            .body(Body::from(bytes)),
        ProxyBody::Forward { stream, length, encoding } => {
            builder = builder.header(
                http::header::CONTENT_TYPE,
                resp.content_type.unwrap_or(HeaderValue::from_static("application/json")),
            );
            if let Some(n) = length {
                builder = builder.header(http::header::CONTENT_LENGTH, n);
            }
            // A coding the upstream client could not undo travels with the body it describes.
            if let Some(e) = encoding {
                builder = builder.header(http::header::CONTENT_ENCODING, e);
            }
            builder.body(Body::from_stream(InSpan::current(stream)))
        }
        ProxyBody::Stream(stream) => builder
            .header(http::header::CONTENT_TYPE, "text/event-stream")
            .header(http::header::CACHE_CONTROL, "no-cache")
            // Tell buffering reverse proxies (nginx) in front of us to pass chunks through.
            .header("x-accel-buffering", "no")
            .body(Body::from_stream(InSpan::current(stream))),
    };
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
