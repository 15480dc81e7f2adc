//! Lists: newest first, `limit` 1..200 (default 50), and an opaque cursor to the next page.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The records, newest first.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What a `limit` that is not one is told.
pub const LIMIT_EXPECTED: &str = "must be an integer between 1 and 200";

/// The `limit` query parameter: an integer from 1 to [`MAX_LIMIT`], read as such (anything else
/// is a 422 naming `limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub i64);

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // A query parameter is text; a JSON body could send a number.
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(D::Error::custom(LIMIT_EXPECTED)),
        };
        let ok = !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit());
        match text.parse::<i64>() {
            Ok(n) if ok && (1..=MAX_LIMIT).contains(&n) => Ok(Limit(n)),
            _ => Err(D::Error::custom(LIMIT_EXPECTED)),
        }
    }
}

impl utoipa::PartialSchema for Limit {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .default(Some(serde_json::json!(DEFAULT_LIMIT)))
            .description(Some("Page size, 1 to 200 (default 50); anything else is a 422 naming `limit`."))
            .examples([serde_json::json!(DEFAULT_LIMIT)])
            .into()
    }
}

impl utoipa::ToSchema for Limit {}

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: i64,
    /// Only records older than this id.
    pub before: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(limit: Option<Limit>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let limit = limit.map_or(DEFAULT_LIMIT, |l| l.0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", LIMIT_EXPECTED));
        }
        let before = match cursor {
            None | Some("") => None,
            Some(c) => {
                Some(Uuid::parse_str(c).map_err(|_| ApiError::invalid("cursor", "is not a cursor this API gave"))?)
            }
        };
        Ok(PageRequest { limit, before })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts fetched rows (newest first) to a page.
    pub fn page<R, T>(&self, mut rows: Vec<R>, id: impl Fn(&R) -> Uuid, map: impl FnMut(R) -> T) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more { rows.last().map(|r| id(r).to_string()) } else { None };
        Page { items: rows.into_iter().map(map).collect(), next_cursor }
    }
}
