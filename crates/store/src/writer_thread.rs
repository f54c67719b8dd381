//! One SQLite connection owned by a thread of its own (rusqlite), for a
//! database that has a single writer: the request log. A job is a closure run
//! on the connection; its caller awaits the result. SQLite's calls block, so
//! they stay off the runtime's threads, and a batch costs one hand-off each
//! way rather than one per statement (sqlx's worker round trip).

use std::path::Path;
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};
use switchyard_core::config_service::StoreError;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("the log writer connection is closed")]
    Closed,
    #[error("cannot start the log writer thread: {0}")]
    Spawn(#[source] std::io::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

pub(crate) struct WriterThread {
    /// `None` once closed: dropping the sender ends the thread after the jobs queued before it.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Fires when the thread has finished and closed its connection.
    exited: Mutex<Option<oneshot::Receiver<()>>>,
}

impl WriterThread {
    /// Opens `path` (which exists: migrations ran first) with the log's settings and starts the thread.
    pub(crate) fn open(path: &Path, name: &str) -> Result<Self, WriterError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // `journal_mode` answers with a row, so it is read, not executed.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        // WAL with `synchronous=NORMAL`: a power cut may lose the last batch, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // The indexes' hot pages (8 MiB, filled only as the log grows): a miss costs a read per insert.
        conn.pragma_update(None, "cache_size", -8192)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (exit, exited) = oneshot::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = queue.recv() {
                    job(&mut conn);
                }
                drop(conn);
                let _ = exit.send(());
            })
            .map_err(WriterError::Spawn)?;
        Ok(Self { jobs: Mutex::new(Some(jobs)), exited: Mutex::new(Some(exited)) })
    }

    /// Runs `f` on the connection, after the jobs queued before it.
    pub(crate) async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        let sent = match &*self.jobs.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(backend(WriterError::Closed));
        }
        match answer.await {
            Ok(result) => result.map_err(sqlite_error),
            // The thread dropped the job without running it: it has stopped.
            Err(_) => Err(backend(WriterError::Closed)),
        }
    }

    /// Lets the queued jobs finish, then closes the connection (checkpointing the WAL).
    pub(crate) async fn close(&self) {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner).take();
        let exited = self.exited.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(exited) = exited {
            let _ = exited.await;
        }
    }
}

fn backend(e: WriterError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Sorts a full disk (nothing was written; the caller may say so) from the rest.
pub(crate) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    if e.sqlite_error_code() == Some(ErrorCode::DiskFull) {
        StoreError::Full(Box::new(WriterError::Sqlite(e)))
    } else {
        backend(WriterError::Sqlite(e))
    }
}
