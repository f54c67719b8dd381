//! Listening, per-connection limits and graceful shutdown.
//!
//! Our own accept loop on hyper (rather than `axum::serve`) because the limits
//! a public listener needs are set per connection: a bound on connections, a
//! header-read timeout (hyper's; on HTTP/1.1 it also bounds the wait for the
//! next request on a kept-alive connection), a whole-body read deadline, and an
//! idle timeout (no byte either way) after which the connection is shut down
//! gracefully, so that a request in flight still finishes.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::body::{DeadlineBody, Guarded, InFlight, Watched};
use crate::edge::App;

/// Pending connections the kernel queues before `accept` (capped by
/// `net.core.somaxconn`): a burst of thousands of clients must not overflow it.
const BACKLOG: u32 = 8192;

/// Limits on what a client connection may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// Time to send a request head, counted from when the connection waits for one.
    pub header_read_timeout: Duration,
    /// Time to send a whole request body, counted from the request's arrival.
    pub body_read_timeout: Duration,
    /// No byte in either direction for this long: the connection is closed
    /// once its requests in flight are done.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the kernel's backlog.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(120),
            max_connections: 4096,
        }
    }
}

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
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, grace, ConnLimits::default()).await
}

pub async fn serve_with(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: ConnLimits,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let mut conns = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            permit = slots.clone().acquire_owned() => {
                let Ok(permit) = permit else { break };
                let (tcp, peer) = tokio::select! {
                    () = &mut shutdown => break,
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // EMFILE and friends: back off instead of spinning.
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                // Without TCP_NODELAY each small SSE frame can wait ~40 ms for a delayed ACK.
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!("set_nodelay failed: {e}");
                }
                let conn = Connection { builder: builder.clone(), app: app.clone(), limits, stop: stop_rx.clone() };
                conns.spawn(async move {
                    conn.run(tcp, peer).await;
                    drop(permit);
                });
            }
        }
    }
    tracing::info!("shutting down: no new connections; waiting up to {} s for requests in flight", grace.as_secs());
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(open = conns.len(), "grace period over; closing the remaining connections");
        conns.abort_all();
    }
    Ok(())
}

struct Connection {
    builder: Arc<auto::Builder<TokioExecutor>>,
    app: App,
    limits: ConnLimits,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn run(mut self, tcp: tokio::net::TcpStream, peer: SocketAddr) {
        let (io, activity) = Watched::new(tcp);
        let app = self.app.clone();
        let body_timeout = self.limits.body_read_timeout;
        let in_flight = InFlight::default();
        let counter = in_flight.clone();
        let service = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
            let guard = counter.enter();
            let req = req.map(|b| DeadlineBody::new(b, body_timeout));
            let app = app.clone();
            async move {
                let resp = app.serve(req, peer).await;
                Ok::<_, std::convert::Infallible>(resp.map(|b| Guarded::new(b, guard)))
            }
        });
        let conn = self.builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        let mut conn = std::pin::pin!(conn);
        let idle = self.limits.idle_timeout;
        // The idle check looks at an activity counter a few times per period.
        let tick = (idle / 4).max(Duration::from_millis(10));
        let mut seen = activity.count();
        let mut quiet = Duration::ZERO;
        let mut closing = *self.stop.borrow();
        if closing {
            return;
        }
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                    return;
                }
                changed = self.stop.changed(), if !closing => {
                    if changed.is_err() || *self.stop.borrow() {
                        // Nothing in flight (idle, or a request head still arriving):
                        // close now; otherwise let the requests finish, then close.
                        if in_flight.count() == 0 {
                            return;
                        }
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
                () = tokio::time::sleep(tick), if !closing => {
                    let now = activity.count();
                    if now == seen {
                        quiet += tick;
                        if quiet >= idle {
                            tracing::debug!(%peer, "idle connection closed");
                            closing = true;
                            conn.as_mut().graceful_shutdown();
                        }
                    } else {
                        seen = now;
                        quiet = Duration::ZERO;
                    }
                }
            }
        }
    }
}
