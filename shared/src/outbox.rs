//! The transactional outbox: a message to another service is a row written in the same
//! transaction as the change it announces, and a dispatcher delivers it afterwards, retrying
//! with capped exponential backoff and jitter until the receiver accepts it. Rows survive
//! restarts; claims are leases, so several copies of a service can dispatch from one database
//! (on PostgreSQL with `FOR UPDATE SKIP LOCKED`) and a dispatcher that dies mid-send only
//! delays the message. Receivers are idempotent, so a resend is harmless.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Timestamp;
use rand::Rng;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Service;
use crate::db::{Db, DbConn, StoreError, Uid, cached, now, param};
use crate::peer::PeerClient;
use crate::schema::outbox;

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct Message {
    /// Messages of one aggregate are delivered in order, e.g. `sale_line:<id>`.
    pub aggregate: String,
    pub target: Service,
    pub method: &'static str,
    pub path: String,
    pub body: serde_json::Value,
    /// The message states an absolute value: a newer one of the same aggregate makes older
    /// undelivered ones pointless, and they are skipped.
    pub absolute: bool,
}

impl Message {
    /// A message carrying `body` as JSON; an error rather than anything else (a `null`) when
    /// the body cannot be written.
    pub fn new(
        aggregate: String,
        target: Service,
        method: &'static str,
        path: String,
        body: &impl serde::Serialize,
        absolute: bool,
    ) -> Result<Message, StoreError> {
        let body = serde_json::to_value(body).map_err(|e| StoreError::Other(format!("outbox message body: {e}")))?;
        Ok(Message { aggregate, target, method, path, body, absolute })
    }
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: Uid,
    pub aggregate: String,
    pub target: String,
    pub method: String,
    pub path: String,
    pub body: String,
    pub absolute: bool,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub request_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Writes `msg` in the caller's transaction; returns its id.
pub fn enqueue(conn: &mut DbConn, msg: Message) -> Result<Uid, StoreError> {
    let row = row_of(msg, now());
    Ok(cached(diesel::insert_into(outbox::table).values(&row).returning(outbox::id)).get_result(conn)?)
}

/// Writes `msgs` in the caller's transaction, in one statement, in their order.
pub fn enqueue_all(conn: &mut DbConn, mut msgs: Vec<Message>) -> Result<(), StoreError> {
    if msgs.len() <= 1 {
        return msgs.pop().map_or(Ok(()), |m| enqueue(conn, m).map(drop));
    }
    let at = now();
    let rows: Vec<OutboxRow> = msgs.into_iter().map(|m| row_of(m, at)).collect();
    // Multi-row inserts exist per backend, not for the multi-backend connection.
    match conn {
        DbConn::Pg(c) => {
            let _: Vec<Uid> = cached(diesel::insert_into(outbox::table).values(&rows).returning(outbox::id)).load(c)?;
        }
        DbConn::Sqlite(c) => {
            diesel::insert_into(outbox::table).values(&rows).execute(c)?;
        }
    }
    Ok(())
}

fn row_of(msg: Message, at: NaiveDateTime) -> OutboxRow {
    OutboxRow {
        id: Uid(uuid::Uuid::now_v7()),
        aggregate: msg.aggregate,
        target: msg.target.name().to_owned(),
        method: msg.method.to_owned(),
        path: msg.path,
        body: msg.body.to_string(),
        absolute: msg.absolute,
        attempts: 0,
        next_attempt_at: at,
        locked_until: None,
        delivered_at: None,
        last_error: None,
        request_id: crate::telemetry::current_request_id(),
        created_at: at,
    }
}

/// Why a delivered message's answer could not be taken in.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The peer answered something this service cannot read: the message stays pending and
    /// counts as failing, and is sent again (its receiver is idempotent) rather than taken as
    /// done with nothing stored.
    #[error("the answer could not be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the service does with a delivered message's answer, in the transaction that marks it
/// delivered (e.g. store the id of the task that was created).
pub type OnDelivered =
    Arc<dyn Fn(&mut DbConn, &OutboxRow, &serde_json::Value) -> Result<(), AnswerError> + Send + Sync>;

/// Backlog figures for `/ready` and metrics.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Backlog {
    pub pending: i64,
    pub oldest_pending_seconds: f64,
    pub failing: i64,
}

const LEASE: Duration = Duration::from_secs(30);
const BATCH: i64 = 200;
const IDLE_POLL: Duration = Duration::from_millis(500);

/// The outbox of one service.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
    peers: PeerClient,
    wake: Arc<Notify>,
    on_delivered: OnDelivered,
    /// The `service` label of this outbox's metrics.
    service: &'static str,
}

impl Outbox {
    pub fn new(db: Db, peers: PeerClient, on_delivered: OnDelivered) -> Outbox {
        Outbox { db, peers, wake: Arc::new(Notify::new()), on_delivered, service: "unknown" }
    }

    /// Labels this outbox's metrics with `service`.
    pub fn for_service(mut self, service: Service) -> Outbox {
        self.service = service.name();
        self
    }

    /// Sets the backlog gauges (`outbox_pending_messages`, `outbox_oldest_pending_age_seconds`,
    /// `outbox_failing_messages`) from the database; called when metrics are scraped.
    pub async fn report_backlog(&self) -> Result<Backlog, StoreError> {
        let backlog = self.backlog().await?;
        let service = self.service;
        metrics::gauge!("outbox_pending_messages", "service" => service).set(backlog.pending as f64);
        metrics::gauge!("outbox_oldest_pending_age_seconds", "service" => service).set(backlog.oldest_pending_seconds);
        metrics::gauge!("outbox_failing_messages", "service" => service).set(backlog.failing as f64);
        Ok(backlog)
    }

    /// Tells the dispatcher that new messages are waiting.
    pub fn kick(&self) {
        self.wake.notify_one();
    }

    /// Delivers what is due right now, once; waits at most `timeout`. Used where a request
    /// wants its messages delivered before it answers (the dispatcher would get there anyway).
    pub async fn flush(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.pass()).await;
    }

    /// The dispatcher loop, until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let busy = match self.pass().await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox pass failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    /// Claims due messages, sends them, records the outcomes; returns how many it sent.
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let claimed = self.db.write_statement(claim).await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut by_aggregate: HashMap<String, Vec<OutboxRow>> = HashMap::new();
        for row in claimed {
            by_aggregate.entry(row.aggregate.clone()).or_default().push(row);
        }
        let sends = by_aggregate.into_values().map(|rows| self.deliver_aggregate(rows));
        let outcomes = futures_util::future::join_all(sends).await;
        let sent = outcomes.iter().map(|o| o.delivered.len()).sum();
        self.record(outcomes).await;
        Ok(sent)
    }

    /// Records a pass's outcomes in one transaction; if that fails (a hook's error, say), each
    /// aggregate's on its own, so one bad outcome does not hold back the others.
    async fn record(&self, outcomes: Vec<Outcome>) {
        let outcomes = Arc::new(outcomes);
        let (all, hook) = (outcomes.clone(), self.on_delivered.clone());
        let together = self
            .db
            .write(move |conn| {
                let mut done = Vec::new();
                for o in all.iter() {
                    done.extend(o.record(conn, &hook)?);
                }
                mark_delivered(conn, &done)
            })
            .await;
        if together.is_ok() {
            return;
        }
        for i in 0..outcomes.len() {
            let (all, hook) = (outcomes.clone(), self.on_delivered.clone());
            let alone = self.db.write(move |conn| {
                let done = all[i].record(conn, &hook)?;
                mark_delivered(conn, &done)
            });
            if let Err(e) = alone.await {
                tracing::warn!(error = %e, "could not record an outbox delivery; its messages will be sent again");
            }
        }
    }

    /// Sends one aggregate's messages in order; an absolute message stands for the older ones.
    async fn deliver_aggregate(&self, mut rows: Vec<OutboxRow>) -> Outcome {
        rows.sort_by_key(|r| r.id);
        if rows.iter().all(|r| r.absolute) {
            rows.drain(..rows.len() - 1);
        }
        let mut outcome = Outcome::default();
        let mut rest = rows.into_iter();
        for row in rest.by_ref() {
            match self.send(&row).await {
                Ok(answer) => {
                    metrics::counter!("outbox_deliveries_total", "service" => self.service, "target" => row.target.clone())
                        .increment(1);
                    outcome.delivered.push((row, answer));
                }
                Err(error) => {
                    metrics::counter!("outbox_delivery_failures_total", "service" => self.service, "target" => row.target.clone())
                        .increment(1);
                    let attempts = row.attempts + 1;
                    tracing::warn!(message = %row.id.0, target = %row.target, attempts, error = %error, "outbox delivery failed");
                    outcome.failed = Some((row.id, attempts, error));
                    break;
                }
            }
        }
        // Messages after a failure wait for it, so the aggregate's order holds.
        outcome.released = rest.map(|r| r.id).collect();
        outcome
    }

    async fn send(&self, row: &OutboxRow) -> Result<serde_json::Value, String> {
        let target = Service::ALL.into_iter().find(|s| s.name() == row.target).ok_or("unknown target")?;
        let method = reqwest::Method::from_bytes(row.method.as_bytes()).map_err(|e| e.to_string())?;
        let body: serde_json::Value = serde_json::from_str(&row.body).map_err(|e| e.to_string())?;
        let key = row.id.0.to_string();
        self.peers
            .call_raw(target, method, &row.path, Some(body), Some(&key), row.request_id.clone())
            .await
            .map_err(|e| e.to_string())
    }

    /// Pending and failing messages, for `/ready` and metrics.
    pub async fn backlog(&self) -> Result<Backlog, StoreError> {
        use diesel::dsl::{count_star, min};
        // Aggregates in SQL: during an outage the backlog is large, and `/ready` and `/metrics`
        // ask for it on every probe and scrape.
        self.db
            .run(|conn| {
                let pending = outbox::table.filter(outbox::delivered_at.is_null());
                let (count, oldest): (i64, Option<NaiveDateTime>) =
                    pending.select((count_star(), min(outbox::created_at))).first(conn)?;
                let failing: i64 = pending.filter(outbox::attempts.gt(0)).count().get_result(conn)?;
                let oldest = oldest.map(|at| (now() - at).num_milliseconds() as f64 / 1000.0);
                Ok(Backlog { pending: count, oldest_pending_seconds: oldest.unwrap_or(0.0).max(0.0), failing })
            })
            .await
    }
}

/// What sending one aggregate's claimed messages came to.
#[derive(Default)]
struct Outcome {
    delivered: Vec<(OutboxRow, serde_json::Value)>,
    /// The message that failed: id, attempts so far, error.
    failed: Option<(Uid, i32, String)>,
    /// Claimed messages not sent because an older one failed.
    released: Vec<Uid>,
}

impl Outcome {
    /// Runs the delivery hooks and records a failure; answers the messages to mark delivered
    /// (marked by the caller, for a whole pass in one statement).
    fn record<'a>(&'a self, conn: &mut DbConn, hook: &OnDelivered) -> Result<Vec<&'a OutboxRow>, StoreError> {
        let mut done = Vec::new();
        for (i, (row, answer)) in self.delivered.iter().enumerate() {
            match hook(conn, row, answer) {
                Ok(()) => done.push(row),
                Err(AnswerError::Unreadable(e)) => {
                    tracing::warn!(message = %row.id.0, target = %row.target, error = %e, "unreadable answer; sent again later");
                    mark_failed(conn, row.id, row.attempts + 1, &format!("the answer could not be read: {e}"))?;
                    // The aggregate's later messages wait for it, as after a failed send.
                    let later = self.delivered[i + 1..].iter().map(|(r, _)| r.id);
                    let rest: Vec<Uid> =
                        later.chain(self.failed.iter().map(|f| f.0)).chain(self.released.clone()).collect();
                    release(conn, &rest)?;
                    return Ok(done);
                }
                Err(AnswerError::Store(e)) => return Err(e),
            }
        }
        if let Some((id, attempts, error)) = &self.failed {
            mark_failed(conn, *id, *attempts, error)?;
        }
        if !self.released.is_empty() {
            release(conn, &self.released)?;
        }
        Ok(done)
    }
}

/// Leases due messages, in one statement, and returns them.
fn claim(conn: &mut DbConn) -> Result<Vec<OutboxRow>, StoreError> {
    let at = now();
    // A message waits for every older undelivered one of its aggregate (one failing in backoff
    // included), unless both state absolute values, where the newer simply wins: an absolute
    // value is claimed only when it is its aggregate's newest, and delivering it marks the older
    // ones delivered. (Claiming the oldest 200 instead made each pass advance a busy line by at
    // most 200 messages, and the dispatcher fell behind the writers; BENCHMARKS.md.)
    let due = "SELECT o.id FROM outbox o WHERE o.delivered_at IS NULL AND o.next_attempt_at <= $1 \
               AND (o.locked_until IS NULL OR o.locked_until < $1) \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.aggregate = o.aggregate AND p.delivered_at IS NULL \
                   AND p.id < o.id AND NOT (p.absolute AND o.absolute)) \
               AND NOT (o.absolute AND EXISTS (SELECT 1 FROM outbox n WHERE n.aggregate = o.aggregate \
                   AND n.delivered_at IS NULL AND n.id > o.id AND n.absolute)) \
               ORDER BY o.id LIMIT $2";
    // SQLite, without statistics, would rather walk the primary key to get `ORDER BY o.id`,
    // reading every message ever delivered at each pass (the pass then grows with the table:
    // BENCHMARKS.md); the partial index of pending messages keeps it to those.
    let sql = match conn {
        DbConn::Pg(_) => format!("{due} FOR UPDATE OF o SKIP LOCKED"),
        DbConn::Sqlite(_) => due
            .replace("FROM outbox o WHERE", "FROM outbox o INDEXED BY outbox_pending WHERE")
            .replace("$1", "?1")
            .replace("$2", "?2"),
    };
    let lease = at + chrono::Duration::milliseconds(LEASE.as_millis() as i64);
    let lease_param = param(conn, 3);
    let sql = format!("UPDATE outbox SET locked_until = {lease_param} WHERE id IN ({sql}) RETURNING *");
    // Planned afresh each time, never kept prepared (`cached`): once kept, PostgreSQL moved it
    // to a generic plan that took more than 30 s over a backlog of 10,000 messages, and the
    // dispatcher stalled (BENCHMARKS.md). It runs once per pass, not once per entry.
    Ok(diesel::sql_query(sql)
        .bind::<Timestamp, _>(at)
        .bind::<diesel::sql_types::BigInt, _>(BATCH)
        .bind::<Timestamp, _>(lease)
        .load::<OutboxRow>(conn)?)
}

/// Marks `rows` delivered and, for each that states an absolute value, every older undelivered
/// absolute message of its aggregate with it (they are superseded), in one statement.
fn mark_delivered(conn: &mut DbConn, rows: &[&OutboxRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // One statement for a pass, not one per message (on the time-logging path a pass carries a
    // line's total and each ticket's). A delivered absolute value also marks its aggregate's
    // older undelivered values: it stands for them. Any other message marks only itself (an
    // older one may commit after it was claimed, and must still be sent).
    let p = |n: usize| param(conn, n);
    let mut terms = Vec::with_capacity(rows.len());
    let mut n = 1;
    for row in rows {
        if row.absolute {
            terms.push(format!("(aggregate = {} AND absolute AND id <= {})", p(n + 1), p(n + 2)));
            n += 2;
        } else {
            terms.push(format!("id = {}", p(n + 1)));
            n += 1;
        }
    }
    let sql = format!(
        "UPDATE outbox SET delivered_at = {}, locked_until = NULL, last_error = NULL \
         WHERE delivered_at IS NULL AND ({})",
        p(1),
        terms.join(" OR ")
    );
    // Not kept prepared: its text varies with the pass, and a generic plan of an `OR` could
    // scan the whole table.
    let mut query = diesel::sql_query(sql).into_boxed().bind::<Timestamp, _>(now());
    for row in rows {
        if row.absolute {
            query = query.bind::<diesel::sql_types::Text, _>(row.aggregate.clone());
        }
        query = query.bind::<crate::db::DbUuid, _>(row.id);
    }
    query.execute(conn)?;
    Ok(())
}

/// Capped exponential backoff with full jitter: 0.2 s, 0.4 s, ... up to 60 s.
pub fn backoff(attempts: i32) -> Duration {
    let base_ms = 200u64.saturating_mul(1u64 << attempts.clamp(0, 16) as u64).min(60_000);
    let jitter = rand::rng().random_range(base_ms / 2..=base_ms);
    Duration::from_millis(jitter)
}

fn mark_failed(conn: &mut DbConn, id: Uid, attempts: i32, error: &str) -> Result<(), StoreError> {
    let next = now() + chrono::Duration::milliseconds(backoff(attempts).as_millis() as i64);
    diesel::update(outbox::table.find(id))
        .set((
            outbox::attempts.eq(attempts),
            outbox::next_attempt_at.eq(next),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error.chars().take(500).collect::<String>())),
        ))
        .execute(conn)?;
    Ok(())
}

fn release(conn: &mut DbConn, ids: &[Uid]) -> Result<(), StoreError> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set(outbox::locked_until.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) <= Duration::from_millis(200));
        assert!(backoff(3) >= Duration::from_millis(800));
        assert!(backoff(30) <= Duration::from_secs(60));
        assert!(backoff(30) >= Duration::from_secs(30));
    }
}
