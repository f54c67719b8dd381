//! The listener's own limits: slow request heads, trickled bodies, idle
//! connections and the connection cap, and a shutdown that partial clients
//! cannot hold up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_core::config::GatewayConfig;
use switchyard_core::Gateway;
use switchyard_server::{AppState, ConnLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(limits: ConnLimits, grace: Duration) -> Server {
    let config = GatewayConfig::from_json_str("{\"providers\": {}}").unwrap();
    let gateway = Gateway::with_env(config, Arc::new(std::collections::HashMap::new())).unwrap();
    let app = switchyard_server::router(AppState::new(gateway, 1 << 20));
    let listener = switchyard_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(switchyard_server::serve_with(
        listener,
        app,
        async move {
            let _ = rx.await;
        },
        grace,
        limits,
    ));
    Server { addr, stop: Some(tx), done }
}

fn limits(header: u64, body: u64, idle: u64, max: usize) -> ConnLimits {
    ConnLimits {
        header_read_timeout: Duration::from_millis(header),
        body_read_timeout: Duration::from_millis(body),
        idle_timeout: Duration::from_millis(idle),
        max_connections: max,
    }
}

/// Reads until the peer closes (or `limit` passes); returns what arrived and when it closed.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at((started + limit).into(), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&out).into_owned(), Some(started.elapsed())),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&out).into_owned(), None),
        }
    }
}

#[tokio::test]
async fn a_slow_request_head_is_cut_off() {
    let srv = start(limits(500, 5_000, 10_000, 100), Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let closed = closed.expect("the server closed the connection");
    assert!(closed < Duration::from_secs(3), "closed after {closed:?}");
}

#[tokio::test]
async fn a_trickled_body_gets_408() {
    let srv = start(limits(5_000, 500, 10_000, 100), Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":").await.unwrap();
    let (text, _) = read_until_closed(&mut s, Duration::from_secs(3)).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout") && text.contains("did not arrive within"), "{text}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let srv = start(limits(5_000, 5_000, 400, 100), Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let (text, closed) = read_until_closed(&mut s, Duration::from_secs(4)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let closed = closed.expect("idle connection closed");
    assert!(closed >= Duration::from_millis(300) && closed < Duration::from_secs(3), "{closed:?}");
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let srv = start(limits(1_500, 5_000, 10_000, 1), Duration::from_secs(1)).await;
    let mut holder = TcpStream::connect(srv.addr).await.unwrap();
    holder.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut waiting = TcpStream::connect(srv.addr).await.unwrap();
    waiting.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let (text, _) = read_until_closed(&mut waiting, Duration::from_secs(5)).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // Served only once the holder's slot was freed (its head timed out).
    assert!(started.elapsed() >= Duration::from_millis(1_000), "served after {:?}", started.elapsed());
}

#[tokio::test]
async fn partial_clients_do_not_hold_shutdown() {
    let mut srv = start(limits(30_000, 30_000, 60_000, 100), Duration::from_secs(20)).await;
    let mut partial = TcpStream::connect(srv.addr).await.unwrap();
    partial.write_all(b"GET /health HTTP/1.1\r\nHost: loc").await.unwrap();
    let mut idle = TcpStream::connect(srv.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let _ = idle.read(&mut buf).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let _ = srv.stop.take().unwrap().send(());
    tokio::time::timeout(Duration::from_secs(5), &mut srv.done).await.expect("serve returned").unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "shutdown took {:?}", started.elapsed());
    assert!(TcpStream::connect(srv.addr).await.is_err(), "no new connections after shutdown");
}
