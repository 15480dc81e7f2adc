//! SQLite's one writer, with group commit.
//!
//! SQLite lets one transaction write at a time. Every write of a service goes to one thread that
//! owns the writing connection: it takes the writes waiting in the queue (at most
//! [`MAX_BATCH`]), runs each in its own savepoint inside one `BEGIN IMMEDIATE` transaction, and
//! commits them together; only then is each one answered. A write that fails rolls back to its
//! savepoint alone, and the others commit. So concurrent entries share one commit: the pages
//! they all touch (a line's total, the tables' last pages, the indexes) are written to the WAL
//! once per batch instead of once per entry, and no thread hand-off or wake-up happens between
//! two writes while the lock is held. Nobody waits for a batch to fill: a write that finds the
//! queue empty is a batch of one. (BENCHMARKS.md)

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

use diesel::Connection;
use diesel::connection::TransactionManager;
use tokio::sync::oneshot;

use super::{DbConn, Manager, StoreError, begin_write, commit_failed, left_in_transaction};

/// The most writes one commit carries: enough to share the commit under load, few enough that
/// the first of them is not kept long waiting for the last.
const MAX_BATCH: usize = 32;

/// The queue to the writer thread of one SQLite database.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// Starts the writer thread; it ends when the last [`Writer`] is dropped.
    pub(super) fn start(manager: Manager) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel::<Box<dyn Job>>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || write_in_batches(manager, queue))
            .map_err(|e| StoreError::Other(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Writer { jobs })
    }

    /// Runs `f` as one write, committed with the writes queued beside it; answers once committed.
    /// When this future is dropped, the write still runs (as a blocking write would).
    pub(super) async fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job = Write { f, answer, request_id: crate::telemetry::current_request_id() };
        if self.jobs.send(Box::new(job)).is_err() {
            return Err(E::from(StoreError::Unavailable("the SQLite writer has stopped".into())));
        }
        answered.await.unwrap_or_else(|_| Err(E::from(StoreError::Other("the SQLite writer dropped a write".into()))))
    }
}

/// One queued write, its types erased.
trait Job: Send {
    /// Runs inside the batch's transaction, in a savepoint of its own.
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Done>;
    /// Answers without running (no connection, no transaction).
    fn refuse(self: Box<Self>, error: StoreError);
}

/// A write that ran, waiting for its batch's commit.
trait Done: Send {
    fn settle(self: Box<Self>, commit: &Result<(), StoreError>);
}

struct Write<F, T, E> {
    f: F,
    answer: oneshot::Sender<Result<T, E>>,
    request_id: Option<String>,
}

struct Ran<T, E> {
    outcome: Result<T, E>,
    answer: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Write<F, T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut DbConn) -> Box<dyn Done> {
        let Write { f, answer, request_id } = *self;
        let outcome = crate::telemetry::in_blocking(request_id, || in_savepoint(conn, f));
        Box::new(Ran { outcome, answer })
    }

    fn refuse(self: Box<Self>, error: StoreError) {
        let _ = self.answer.send(Err(E::from(error)));
    }
}

impl<T: Send, E: From<StoreError> + Send> Done for Ran<T, E> {
    fn settle(self: Box<Self>, commit: &Result<(), StoreError>) {
        let outcome = match (self.outcome, commit) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(E::from(e.clone())),
            // Rolled back to its savepoint: its own error stands, whatever became of the others.
            (Err(e), _) => Err(e),
        };
        let _ = self.answer.send(outcome);
    }
}

/// Runs `f` in a savepoint: released when it succeeds, rolled back when it fails or panics.
fn in_savepoint<T, E: From<StoreError>>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    <DbConn as Connection>::TransactionManager::begin_transaction(conn).map_err(|e| E::from(StoreError::from(e)))?;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(E::from(StoreError::Other("a write panicked".into()))));
    match outcome {
        Ok(value) => match <DbConn as Connection>::TransactionManager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                Err(E::from(StoreError::from(e)))
            }
        },
        Err(e) => {
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

fn write_in_batches(manager: Manager, queue: mpsc::Receiver<Box<dyn Job>>) {
    let mut kept: Option<DbConn> = None;
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut conn = match kept.take().map_or_else(|| manager.open(), Ok) {
            Ok(c) => c,
            Err(e) => {
                batch.into_iter().for_each(|job| job.refuse(StoreError::Unavailable(e.to_string())));
                continue;
            }
        };
        if let Err(error) = begin_write(&mut conn) {
            batch.into_iter().for_each(|job| job.refuse(error.clone()));
            continue; // the connection is dropped: the next batch opens a fresh one
        }
        let ran: Vec<Box<dyn Done>> = batch.into_iter().map(|job| job.run(&mut conn)).collect();
        let commit = <DbConn as Connection>::TransactionManager::commit_transaction(&mut conn).map_err(|e| {
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
            commit_failed(e)
        });
        ran.into_iter().for_each(|done| done.settle(&commit));
        if !left_in_transaction(&mut conn) {
            kept = Some(conn);
        }
    }
}
