//! Success answers in the contract's shapes. Every record answer carries an `ETag`, a strong
//! tag of its exact representation, which a later `PATCH` or `DELETE` may send back in
//! `If-Match` (see [`crate::extract::IfMatch`]).

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// 201 with the created record, its `Location` and its `ETag`.
pub fn created(location: String, body: impl Serialize) -> HttpResponse {
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, location));
    tagged(builder, &body)
}

/// 200 with a record (or a page of them) and its `ETag`.
pub fn ok(body: impl Serialize) -> HttpResponse {
    tagged(HttpResponse::Ok(), &body)
}

/// The entity tag of a representation: quoted hex of the first 16 bytes of its SHA-256.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The entity tag `value` is answered with (the same bytes as the answer's body).
pub fn etag_of(value: &impl Serialize) -> Option<String> {
    serde_json::to_vec(value).ok().map(|bytes| etag(&bytes))
}

fn tagged(mut builder: HttpResponseBuilder, body: &impl Serialize) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => builder.insert_header((header::ETAG, etag(&bytes))).content_type("application/json").body(bytes),
        Err(e) => ApiError::Internal(format!("could not serialize an answer: {e}")).error_response(),
    }
}
