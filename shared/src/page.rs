//! Lists: newest first, `limit` 1..200 (default 50), and an opaque cursor to the next page.

use serde::Serialize;
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

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: i64,
    /// Only records older than this id.
    pub before: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
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
