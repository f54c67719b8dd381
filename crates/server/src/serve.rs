//! Listening and graceful shutdown.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::TcpListener;

/// Pending connections the kernel queues before `accept` (capped by
/// `net.core.somaxconn`): a burst of thousands of clients must not overflow it.
const BACKLOG: u32 = 8192;

pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves until `shutdown` completes; then stops accepting and lets requests
/// and streams in flight finish, for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    // Without TCP_NODELAY each small SSE frame can wait ~40 ms for a delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("set_nodelay failed: {e}");
        }
    });
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: no new connections; waiting up to {} s for requests in flight", grace.as_secs());
        let _ = tx.send(true);
    };
    let server = // A make-service built once: the router is not re-bound to its state per connection.
    axum::serve(listener, app.into_make_service()).with_graceful_shutdown(signal).into_future();
    let deadline = async move {
        let _ = rx.wait_for(|stop| *stop).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r,
        _ = deadline => {
            tracing::warn!("grace period over; closing the remaining connections");
            Ok(())
        }
    }
}
