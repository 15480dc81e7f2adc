//! Success answers in the contract's shapes.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Serialize;

/// 201 with the created record and its `Location`.
pub fn created(location: String, body: impl Serialize) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).json(body)
}

/// 200 with a record.
pub fn ok(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().json(body)
}
