//! `Idempotency-Key` on every POST: a repeat with the same key and body gets the first answer
//! and changes nothing; the same key with another body is a 422; a repeat while the first is
//! still running is a 409. Keys are scoped per method, path and caller, and kept 24 hours at
//! least. A 5xx answer is not kept, so the client may retry it.

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpResponse, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{Db, DbConn, StoreError, now};
use crate::extract::{BODY_LIMIT, IDEMPOTENCY_KEY};
use crate::problem::{ApiError, FieldError};
use crate::schema::idempotency_keys as keys;

/// A first request that has not answered within this long is taken to have died.
const ABANDONED_AFTER_SECS: i64 = 60;

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

enum Claim {
    Fresh,
    Replay(Box<KeyRow>),
    InFlight,
    Mismatch,
}

fn claim(conn: &mut DbConn, row: KeyRow) -> Result<Claim, StoreError> {
    let existing: Option<KeyRow> = keys::table
        .find((&row.key, &row.method, &row.path, &row.caller))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    match existing {
        None => {
            diesel::insert_into(keys::table).values(&row).execute(conn)?;
            Ok(Claim::Fresh)
        }
        Some(old) if old.body_hash != row.body_hash => Ok(Claim::Mismatch),
        Some(old) if old.status.is_some() => Ok(Claim::Replay(Box::new(old))),
        Some(old) if (now() - old.created_at).num_seconds() > ABANDONED_AFTER_SECS => {
            diesel::update(keys::table.find((&row.key, &row.method, &row.path, &row.caller)))
                .set(keys::created_at.eq(now()))
                .execute(conn)?;
            Ok(Claim::Fresh)
        }
        Some(_) => Ok(Claim::InFlight),
    }
}

/// Claims the key. Two requests with one key at once may both find it free and both insert it;
/// the loser's insert is a unique violation (PostgreSQL) and its transaction rolls back: it
/// looks again, in a new transaction, and sees the winner's row (in flight, or answered).
async fn claim_looking_again(db: &Db, row: KeyRow) -> Result<Claim, StoreError> {
    let mut tries = 0;
    loop {
        let r = row.clone();
        match db.write(move |conn| claim(conn, r)).await {
            Err(StoreError::Conflict(_)) if tries < 3 => tries += 1,
            other => return other,
        }
    }
}

/// Middleware body; the service's `Db` must be in the app data.
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
    let caller = req.extensions().get::<crate::auth::Caller>().map(|c| c.sub.clone()).unwrap_or_default();
    let row = KeyRow {
        key: key.clone(),
        method: req.method().to_string(),
        path: req.path().to_owned(),
        caller,
        body_hash: format!("{:x}", Sha256::digest(&bytes)),
        status: None,
        response_body: None,
        content_type: None,
        location: None,
        created_at: now(),
    };
    let id = (row.key.clone(), row.method.clone(), row.path.clone(), row.caller.clone());
    let claimed = claim_looking_again(&db, row).await;
    match claimed {
        Err(e) => return Ok(req.error_response(ApiError::from(e))),
        Ok(Claim::Mismatch) => return Ok(req.error_response(ApiError::IdempotencyMismatch)),
        Ok(Claim::InFlight) => {
            let err = ApiError::conflict(
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed; retry shortly",
            );
            return Ok(req.error_response(err));
        }
        Ok(Claim::Replay(old)) => return Ok(req.into_response(replay(*old))),
        Ok(Claim::Fresh) => {}
    }
    req.set_payload(bytes_to_payload(bytes));
    let res = next.call(req).await?;
    let status = res.status();
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let body = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let store = if status.is_server_error() {
        None
    } else {
        Some((
            status.as_u16() as i32,
            String::from_utf8_lossy(&body).into_owned(),
            header_text(head.headers(), header::CONTENT_TYPE),
            header_text(head.headers(), header::LOCATION),
        ))
    };
    let saved = db
        .write(move |conn| {
            let target = keys::table.find((&id.0, &id.1, &id.2, &id.3));
            match store {
                Some((s, b, ct, loc)) => diesel::update(target)
                    .set((
                        keys::status.eq(Some(s)),
                        keys::response_body.eq(Some(b)),
                        keys::content_type.eq(ct),
                        keys::location.eq(loc),
                    ))
                    .execute(conn),
                None => diesel::delete(target).execute(conn),
            }
            .map_err(StoreError::from)
        })
        .await;
    if let Err(e) = saved {
        tracing::warn!(error = %e, "could not record the answer of an idempotent request");
    }
    let response = head.set_body(body).map_into_boxed_body();
    Ok(ServiceResponse::new(http_req, response))
}

fn header_text(h: &header::HeaderMap, name: header::HeaderName) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn replay(old: KeyRow) -> HttpResponse {
    let status = StatusCode::from_u16(old.status.unwrap_or(200) as u16).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Some(ct) = old.content_type.and_then(|v| HeaderValue::from_str(&v).ok()) {
        res.insert_header((header::CONTENT_TYPE, ct));
    }
    if let Some(loc) = old.location.and_then(|v| HeaderValue::from_str(&v).ok()) {
        res.insert_header((header::LOCATION, loc));
    }
    res.insert_header(("idempotent-replayed", "true"));
    res.body(old.response_body.unwrap_or_default())
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

fn bytes_to_payload(bytes: web::Bytes) -> actix_web::dev::Payload {
    actix_web::dev::Payload::from(bytes)
}

/// Forgets keys older than `hours` (at least 24 are kept).
pub fn purge(conn: &mut DbConn, hours: i64) -> Result<usize, StoreError> {
    let before = now() - chrono::Duration::hours(hours.max(24));
    Ok(diesel::delete(keys::table.filter(keys::created_at.lt(before))).execute(conn)?)
}
