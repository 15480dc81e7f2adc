//! `Idempotency-Key` on every POST: a repeat with the same key and body gets the first answer
//! and changes nothing; the same key with another body is a 422. Keys are scoped per method,
//! path and the caller's whole identity (role, customer and subject), and kept 24 hours at
//! least.
//!
//! The answer is stored in the transaction that makes the change ([`Idempotency::write`]), so
//! there is no moment at which the change is committed and its key is not: a crash, a lost
//! answer or a first request still running cannot let a retry make the change twice. A request
//! that fails changes nothing and stores nothing, so it may be sent again with the same key.
//! Two requests with one key at once both run, but only one commits: the other's key row
//! collides (on PostgreSQL its insert waits for the first to commit), it rolls back and answers
//! the first one's answer.
//!
//! The middleware only looks the key up before the handler runs, to replay an answer without
//! running anything; it never writes.

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::db::{Db, DbConn, StoreError, cached, now};
use crate::extract::{BODY_LIMIT, IDEMPOTENCY_KEY};
use crate::problem::{ApiError, FieldError};
use crate::schema::idempotency_keys as keys;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = keys)]
struct KeyRow {
    key: String,
    method: String,
    path: String,
    caller: String,
    body_hash: String,
    status: Option<i32>,
    response_body: Option<String>,
    content_type: Option<String>,
    location: Option<String>,
    created_at: NaiveDateTime,
}

/// A keyed request: its key, where it went, who sent it and what it carried.
#[derive(Debug, Clone)]
pub struct Scope {
    key: String,
    method: String,
    path: String,
    caller: String,
    body_hash: String,
}

impl Scope {
    fn id(&self) -> (&String, &String, &String, &String) {
        (&self.key, &self.method, &self.path, &self.caller)
    }
}

/// The caller's whole identity as a key's scope: two callers that share a `sub` (a portal
/// minting tokens with one subject for many customers) never see each other's answers. The
/// subject comes last, so no subject can pass for another role or customer.
pub fn caller_scope(caller: &Caller) -> String {
    let customer = caller.customer_id.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
    format!("{}|{customer}|{}", caller.role.name(), caller.sub)
}

/// What a POST answered: what is sent, and what a repeat of it gets back.
#[derive(Debug, Clone)]
pub struct Answer {
    status: StatusCode,
    body: String,
    location: Option<String>,
    replayed: bool,
}

impl Answer {
    /// 201 with the created record and its `Location`.
    pub fn created(location: impl Into<String>, body: &impl Serialize) -> Result<Answer, StoreError> {
        Ok(Answer { location: Some(location.into()), ..Answer::ok(body)? }.with_status(StatusCode::CREATED))
    }

    /// 200 with a record.
    pub fn ok(body: &impl Serialize) -> Result<Answer, StoreError> {
        let body = serde_json::to_string(body).map_err(|e| StoreError::Other(format!("answer: {e}")))?;
        Ok(Answer { status: StatusCode::OK, body, location: None, replayed: false })
    }

    fn with_status(mut self, status: StatusCode) -> Answer {
        self.status = status;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// True when this is a stored answer to an earlier request with the same key.
    pub fn is_replay(&self) -> bool {
        self.replayed
    }

    /// The JSON body as sent.
    pub fn body(&self) -> &str {
        &self.body
    }

    fn of(row: KeyRow) -> Answer {
        let status = row.status.and_then(|s| StatusCode::from_u16(s as u16).ok()).unwrap_or(StatusCode::OK);
        Answer { status, body: row.response_body.unwrap_or_default(), location: row.location, replayed: true }
    }

    fn row(&self, scope: &Scope) -> KeyRow {
        KeyRow {
            key: scope.key.clone(),
            method: scope.method.clone(),
            path: scope.path.clone(),
            caller: scope.caller.clone(),
            body_hash: scope.body_hash.clone(),
            status: Some(i32::from(self.status.as_u16())),
            response_body: Some(self.body.clone()),
            content_type: Some("application/json".into()),
            location: self.location.clone(),
            created_at: now(),
        }
    }

    pub fn into_response(self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
        if let Some(loc) = self.location.and_then(|v| HeaderValue::from_str(&v).ok()) {
            res.insert_header((header::LOCATION, loc));
        }
        if self.replayed {
            res.insert_header(("idempotent-replayed", "true"));
        }
        res.insert_header((header::ETAG, crate::respond::etag(self.body.as_bytes())));
        res.body(self.body)
    }
}

impl From<Answer> for HttpResponse {
    fn from(a: Answer) -> HttpResponse {
        a.into_response()
    }
}

/// Why a keyed write did not commit.
enum Failed<E> {
    /// The change itself refused or failed.
    Change(E),
    /// The store failed: beginning, committing, or writing the key (taken meanwhile).
    Store(StoreError),
}

impl<E> From<StoreError> for Failed<E> {
    fn from(e: StoreError) -> Self {
        Failed::Store(e)
    }
}

/// The request's key, when it carried one: taken by every POST handler.
#[derive(Debug, Clone, Default)]
pub struct Idempotency(Option<Scope>);

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Idempotency(req.extensions().get::<Scope>().cloned())))
    }
}

impl Idempotency {
    /// The client's key, if it sent one.
    pub fn key(&self) -> Option<&str> {
        self.0.as_ref().map(|s| s.key.as_str())
    }

    /// A key for a call this request makes to a peer, derived from the client's key and whole
    /// identity (so two callers' keys never meet at the peer, where every caller is this
    /// service), or, without one, made afresh for this request: either way each retry of
    /// the call within this request sends the same key, and a client's retry sends it again.
    pub fn key_for(&self, purpose: &str) -> String {
        match &self.0 {
            Some(s) => {
                let text = format!("{}\n{}\n{}\n{}\n{}", purpose, s.method, s.path, s.caller, s.key);
                let digest = format!("{:x}", Sha256::digest(text.as_bytes()));
                format!("{purpose}:{}", &digest[..40])
            }
            None => format!("{purpose}:{}", uuid::Uuid::now_v7()),
        }
    }

    /// Runs `change` in one write transaction and, with a key, stores its answer with the key
    /// in that same transaction. A repeat (found meanwhile or colliding at commit) answers the
    /// stored answer; the same key with another body a 422.
    pub async fn write<E>(
        &self,
        db: &Db,
        change: impl FnOnce(&mut DbConn) -> Result<Answer, E> + Send + 'static,
    ) -> Result<Answer, ApiError>
    where
        E: Into<ApiError> + Send + 'static,
    {
        let (answer, _) = self.write_keeping(db, move |c| change(c).map(|a| (a, ()))).await?;
        Ok(answer)
    }

    /// As [`Idempotency::write`], for a change that knows its answer before its last step:
    /// `change` answers it and hands back that step, which runs after the key is written. On
    /// the time-logging path the last step takes the hot rows' locks (the running totals), and
    /// every statement before it is one fewer held under them.
    pub async fn write_then<E, Tail>(
        &self,
        db: &Db,
        change: impl FnOnce(&mut DbConn) -> Result<(Answer, Tail), E> + Send + 'static,
    ) -> Result<Answer, ApiError>
    where
        E: Into<ApiError> + Send + 'static,
        Tail: FnOnce(&mut DbConn) -> Result<(), E>,
    {
        self.run(db, change).await.map(|(a, _)| a)
    }

    /// As [`Idempotency::write`], also handing back what the change made (`None` when the
    /// answer is a repeat's), for work that follows the commit.
    pub async fn write_keeping<T, E>(
        &self,
        db: &Db,
        change: impl FnOnce(&mut DbConn) -> Result<(Answer, T), E> + Send + 'static,
    ) -> Result<(Answer, Option<T>), ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        self.run(db, move |conn| change(conn).map(|(answer, made)| (answer, move |_: &mut DbConn| Ok(made)))).await
    }

    /// The one keyed write: the change, then its key with its answer, then the change's last
    /// step, in one transaction; then [`Idempotency::settle`].
    async fn run<T, E, Tail>(
        &self,
        db: &Db,
        change: impl FnOnce(&mut DbConn) -> Result<(Answer, Tail), E> + Send + 'static,
    ) -> Result<(Answer, Option<T>), ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
        Tail: FnOnce(&mut DbConn) -> Result<T, E>,
    {
        let scope = self.0.clone();
        let outcome = db
            .write(move |conn| {
                let (answer, tail) = change(conn).map_err(Failed::Change)?;
                if let Some(s) = &scope {
                    crate::fault::point("idempotency.before_key", &s.path);
                    insert(conn, &answer.row(s))?;
                }
                let made = tail(conn).map_err(Failed::Change)?;
                if let Some(s) = &scope
                    && crate::fault::armed("db.commit_lost", &s.path)
                {
                    crate::db::lose_connection(conn);
                }
                Ok::<_, Failed<E>>((answer, made))
            })
            .await;
        self.settle(db, outcome).await
    }

    /// What a keyed write answers: its answer once committed; else, when the key was stored
    /// meanwhile (or the commit's answer was lost), the stored answer; else its error.
    async fn settle<T, E: Into<ApiError>>(
        &self,
        db: &Db,
        outcome: Result<(Answer, T), Failed<E>>,
    ) -> Result<(Answer, Option<T>), ApiError> {
        let failure = match outcome {
            Ok((answer, made)) => {
                crate::fault::point("idempotency.after_commit", self.0.as_ref().map_or("", |s| s.path.as_str()));
                return Ok((answer, Some(made)));
            }
            Err(f) => f,
        };
        // It did not commit, or we cannot tell (a commit whose answer was lost): the key says.
        if let Some(s) = self.0.clone() {
            match stored(db, &s).await {
                Ok(Some(answer)) => return answer.map(|a| (a, None)),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not look up an idempotency key after a failed write"),
            }
        }
        Err(match failure {
            Failed::Change(e) => e.into(),
            Failed::Store(e) => e.into(),
        })
    }

    /// Remembers the answer of a POST whose change a peer made, under a key derived from this
    /// one ([`Idempotency::key_for`]): the change is exactly-once there; this only spares a
    /// repeat the round trip. Also refreshes a stored answer (a confirmation that waited for
    /// its tasks). Best effort: a repeat that finds nothing asks the peer again with the same
    /// key and gets the same answer.
    pub async fn remember(&self, db: &Db, answer: &Answer) {
        let Some(s) = self.0.clone() else { return };
        let row = answer.row(&s);
        let saved = db
            .write(move |conn| {
                let target = keys::table.find((&row.key, &row.method, &row.path, &row.caller));
                let n = diesel::update(target)
                    .set((
                        keys::status.eq(row.status),
                        keys::response_body.eq(&row.response_body),
                        keys::location.eq(&row.location),
                    ))
                    .execute(conn)?;
                if n == 0 {
                    diesel::insert_into(keys::table).values(&row).execute(conn)?;
                }
                Ok::<_, StoreError>(())
            })
            .await;
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not remember the answer of an idempotent request");
        }
    }
}

fn insert(conn: &mut DbConn, row: &KeyRow) -> Result<(), StoreError> {
    // Kept prepared and with `RETURNING` (see `cached`): it is on the time-logging path.
    let _: String = cached(diesel::insert_into(keys::table).values(row).returning(keys::key)).get_result(conn)?;
    Ok(())
}

fn find(conn: &mut DbConn, s: &Scope) -> Result<Option<KeyRow>, StoreError> {
    Ok(keys::table.find(s.id()).select(KeyRow::as_select()).first(conn).optional()?)
}

/// The stored answer for this key, or the mismatch when the key came with another body.
async fn stored(db: &Db, s: &Scope) -> Result<Option<Result<Answer, ApiError>>, StoreError> {
    let scope = s.clone();
    let row = db.run(move |conn| find(conn, &scope)).await?;
    Ok(row
        .filter(|r| r.status.is_some())
        .map(|r| if r.body_hash == s.body_hash { Ok(Answer::of(r)) } else { Err(ApiError::IdempotencyMismatch) }))
}

/// Middleware body; the service's `Db` must be in the app data. Hashes a keyed POST's body,
/// answers a repeat from the store, and hands the key to the handler.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = req.headers().get(IDEMPOTENCY_KEY).map(|v| v.to_str().map(str::to_owned));
    let (Some(key), true) = (key, req.method() == Method::POST) else {
        return next.call(req).await;
    };
    let Some(db) = req.app_data::<web::Data<Db>>().map(|d| d.get_ref().clone()) else {
        return next.call(req).await;
    };
    let key = match key {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k,
        _ => {
            let err = ApiError::BadRequest {
                detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                errors: vec![FieldError::new("Idempotency-Key", "must be 1 to 255 visible ASCII characters")],
            };
            return Ok(req.error_response(err));
        }
    };
    let bytes = match read_payload(&mut req).await {
        Ok(b) => b,
        Err(e) => return Ok(req.error_response(e)),
    };
    let caller = req.extensions().get::<Caller>().cloned();
    let scope = Scope {
        key,
        method: req.method().to_string(),
        path: req.path().to_owned(),
        caller: caller.as_ref().map(caller_scope).unwrap_or_else(|| "anonymous".into()),
        body_hash: format!("{:x}", Sha256::digest(&bytes)),
    };
    // A peer sends a key on every create and repeats it only after an unknown outcome, and
    // the operations peers call check everything inside their write, whose key collides with
    // the first one's: so for a service, the look-up would be a read on every entry of the
    // time-logging path to spare a rare repeat a rolled-back write.
    let peer = caller.is_some_and(|c| c.role == crate::auth::Role::Service);
    if !peer {
        match stored(&db, &scope).await {
            Err(e) => return Ok(req.error_response(ApiError::from(e))),
            Ok(Some(Ok(answer))) => return Ok(req.into_response(answer.into_response())),
            Ok(Some(Err(mismatch))) => return Ok(req.error_response(mismatch)),
            Ok(None) => {}
        }
    }
    req.extensions_mut().insert(scope);
    req.set_payload(Payload::from(bytes));
    next.call(req).await
}

async fn read_payload(req: &mut ServiceRequest) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut payload = req.take_payload();
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::BadRequest { detail: format!("could not read the body: {e}"), errors: vec![] })?;
        if buf.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Forgets keys older than `hours` (at least 24 are kept).
pub fn purge(conn: &mut DbConn, hours: i64) -> Result<usize, StoreError> {
    let before = now() - chrono::Duration::hours(hours.max(24));
    Ok(diesel::delete(keys::table.filter(keys::created_at.lt(before))).execute(conn)?)
}
