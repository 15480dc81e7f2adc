//! Checks of sorted lists: pages every `sort` of a list two at a time and compares the result
//! with the records ordered by key then id, as the server must.
//!
//! Names in these tests are lowercase ASCII letters only: PostgreSQL orders text by its
//! database's collation, which (unlike `C`) may order mixed case, spaces or punctuation otherwise
//! than bytes do; plain lowercase letters are ordered alike by every collation and by SQLite.

// A test library: a record without an id is a broken test, told at once.
#![allow(clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::Value;
use shared::config::Service;
use uuid::Uuid;

use crate::{R, System, id, items};

/// What a sort field's values are, to order them as the server does.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Time,
    Text,
    Decimal,
    Integer,
    Date,
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Time(DateTime<Utc>),
    Text(String),
    Decimal(Decimal),
    Integer(i64),
    Date(NaiveDate),
}

pub fn key(record: &Value, field: &str, kind: Kind) -> SortKey {
    let v = &record[field];
    let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    let key = match kind {
        Kind::Time => DateTime::parse_from_rfc3339(&text).ok().map(|t| SortKey::Time(t.with_timezone(&Utc))),
        Kind::Text => Some(SortKey::Text(text.clone())),
        Kind::Decimal => text.parse().ok().map(SortKey::Decimal),
        Kind::Integer => text.parse().ok().map(SortKey::Integer),
        Kind::Date => text.parse().ok().map(SortKey::Date),
    };
    key.unwrap_or_else(|| panic!("{field} of {record}: {text:?} is not a {kind:?}"))
}

pub fn uuid(record: &Value) -> Uuid {
    Uuid::parse_str(&id(record)).expect("a record with an id")
}

/// The ids of `records` ordered by `field` then id, ascending or descending.
pub fn expected(records: &[Value], field: &str, kind: Kind, descending: bool) -> Vec<String> {
    let mut keyed: Vec<(SortKey, Uuid)> = records.iter().map(|r| (key(r, field, kind), uuid(r))).collect();
    keyed.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    if descending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, id)| id.to_string()).collect()
}

pub fn with(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

/// A 422 whose problem names `field`.
pub async fn refused(sys: &System, s: Service, path: &str, field: &str) -> R {
    let v = sys.expect(s, Method::GET, path, None, StatusCode::UNPROCESSABLE_ENTITY).await?;
    let named = v["errors"].as_array().is_some_and(|es| es.iter().any(|e| e["field"] == field));
    assert!(named, "GET {path}: the problem does not name {field}: {v}");
    Ok(())
}

/// Pages through `path` two at a time under `sort`: the ids in order, and the first cursor.
pub async fn walk(sys: &System, s: Service, path: &str, sort: &str, most: usize) -> R<(Vec<String>, Option<String>)> {
    let mut ids = vec![];
    let mut first_cursor = None;
    let mut cursor: Option<String> = None;
    for _ in 0..=most {
        let query = match &cursor {
            Some(c) => format!("sort={sort}&limit=2&cursor={c}"),
            None => format!("sort={sort}&limit=2"),
        };
        let page = sys.get(s, &with(path, &query)).await?;
        let got = items(&page);
        assert!(got.len() <= 2, "{path} sort={sort}: a page of {} items", got.len());
        ids.extend(got.iter().map(id));
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(got.len(), 2, "{path} sort={sort}: a short page before the last");
                first_cursor.get_or_insert_with(|| c.to_owned());
                cursor = Some(c.to_owned());
            }
            None => return Ok((ids, first_cursor)),
        }
    }
    Err(format!("{path} sort={sort}: more pages than records").into())
}

/// Checks every `sort` of a list against its records (all of them, as the list gives them by
/// default), which must be `made` (exactly, or at least when `others` may be listed too).
pub async fn sorts(sys: &System, s: Service, path: &str, fields: &[(&str, Kind)], made: &[String], others: bool) -> R {
    let all = sys.all(s, path).await?;
    let listed: Vec<String> = all.iter().map(id).collect();
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "{path}: a record listed twice: {listed:?}");
    let mut want = made.to_vec();
    want.sort();
    if others {
        assert!(want.iter().all(|m| unique.contains(m)), "{path}: not every record made is listed");
    } else {
        assert_eq!(unique, want, "{path}: not exactly the records made");
    }
    assert!(all.len() >= 3, "{path}: too few records ({}) for more than one page", all.len());

    // Without `sort`: newest first, by creation.
    assert_eq!(listed, expected(&all, "created_at", Kind::Time, true), "{path} without sort is not -created_at");

    for (i, (field, kind)) in fields.iter().enumerate() {
        for descending in [false, true] {
            let sort = if descending { format!("-{field}") } else { (*field).to_owned() };
            let want = expected(&all, field, *kind, descending);
            let (got, cursor) = walk(sys, s, path, &sort, all.len()).await?;
            assert_eq!(got, want, "{path} sort={sort}: pages in the wrong order (or a record missing or twice)");
            let cursor = cursor.ok_or_else(|| format!("{path} sort={sort}: a single page"))?;
            // The same page again, then the cursor under the other direction and another field.
            let again = sys.get(s, &with(path, &format!("sort={sort}&limit=2&cursor={cursor}"))).await?;
            assert_eq!(items(&again).iter().map(id).collect::<Vec<_>>(), want[2..want.len().min(4)].to_vec());
            let flipped = if descending { (*field).to_owned() } else { format!("-{field}") };
            refused(sys, s, &with(path, &format!("sort={flipped}&cursor={cursor}")), "cursor").await?;
            let (other, _) = fields[(i + 1) % fields.len()];
            if other != *field {
                refused(sys, s, &with(path, &format!("sort={other}&cursor={cursor}")), "cursor").await?;
            }
            if *field != "created_at" || !descending {
                // The default sort is `-created_at`: no cursor of another sort continues it.
                refused(sys, s, &with(path, &format!("cursor={cursor}")), "cursor").await?;
            }
        }
    }
    for bad in ["nope", "-nope", "--created_at", "id", "created_at,name", "CREATED_AT", "+hours"] {
        refused(sys, s, &with(path, &format!("sort={bad}")), "sort").await?;
    }
    for bad in ["zz", "x", "00", "2d637265617465645f6174"] {
        refused(sys, s, &with(path, &format!("cursor={bad}")), "cursor").await?;
    }
    Ok(())
}

pub async fn created(sys: &System, s: Service, path: &str, body: Value) -> R<Value> {
    sys.post(s, path, &body, StatusCode::CREATED).await
}
