//! Lists: in the order `sort` asks (newest first by default), `limit` 1..200 (default 50), and
//! an opaque cursor to the next page.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The records, in the list's order (newest first unless `sort` says otherwise).
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

/// How a list is ordered: one of its fields, ascending (`sort=name`) or descending
/// (`sort=-name`). Ties go by id in the same direction, so the order is total and a cursor
/// continues exactly after the last record of its page, whatever is added meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<F> {
    pub field: F,
    pub descending: bool,
}

/// What a sort key is, so a cursor's key is read back as what the column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Time,
    Text,
    Decimal,
    Integer,
    Date,
}

/// The sort key of a record, as a cursor carries it.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Time(chrono::NaiveDateTime),
    Text(String),
    Decimal(rust_decimal::Decimal),
    Integer(i64),
    Date(chrono::NaiveDate),
}

impl Key {
    fn kind(&self) -> KeyKind {
        match self {
            Key::Time(_) => KeyKind::Time,
            Key::Text(_) => KeyKind::Text,
            Key::Decimal(_) => KeyKind::Decimal,
            Key::Integer(_) => KeyKind::Integer,
            Key::Date(_) => KeyKind::Date,
        }
    }

    fn encode(&self) -> String {
        match self {
            Key::Time(t) => t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
            Key::Text(s) => s.clone(),
            Key::Decimal(d) => d.to_string(),
            Key::Integer(n) => n.to_string(),
            Key::Date(d) => d.to_string(),
        }
    }

    fn decode(kind: KeyKind, text: &str) -> Option<Key> {
        Some(match kind {
            KeyKind::Time => Key::Time(chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.6f").ok()?),
            KeyKind::Text => Key::Text(text.to_owned()),
            KeyKind::Decimal => Key::Decimal(text.parse().ok()?),
            KeyKind::Integer => Key::Integer(text.parse().ok()?),
            KeyKind::Date => Key::Date(text.parse().ok()?),
        })
    }

    /// The key as a time (a cursor of a time field always holds one).
    pub fn time(&self) -> chrono::NaiveDateTime {
        match self {
            Key::Time(t) => *t,
            _ => chrono::NaiveDateTime::MIN,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Key::Text(s) => s.clone(),
            other => other.encode(),
        }
    }

    pub fn decimal(&self) -> rust_decimal::Decimal {
        match self {
            Key::Decimal(d) => *d,
            _ => rust_decimal::Decimal::ZERO,
        }
    }

    pub fn integer(&self) -> i64 {
        match self {
            Key::Integer(n) => *n,
            _ => 0,
        }
    }

    pub fn date(&self) -> chrono::NaiveDate {
        match self {
            Key::Date(d) => *d,
            _ => chrono::NaiveDate::MIN,
        }
    }
}

/// The fields a list sorts by (an enum made by [`sort_fields!`](crate::sort_fields)).
pub trait SortField: Sized + Copy + PartialEq + 'static {
    /// Each field: its name in `sort`, and what its key is.
    const FIELDS: &'static [(&'static str, Self, KeyKind)];
    /// The order when `sort` is absent: newest first.
    const DEFAULT: Sort<Self>;
}

impl<F: SortField> Sort<F> {
    /// Reads `sort` (absent: the list's default); anything else is a 422 naming `sort`.
    pub fn parse(value: Option<&str>) -> Result<Sort<F>, ApiError> {
        let Some(v) = value.filter(|v| !v.is_empty()) else { return Ok(F::DEFAULT) };
        let (descending, name) = match v.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, v),
        };
        match F::FIELDS.iter().find(|(n, _, _)| *n == name) {
            Some((_, field, _)) => Ok(Sort { field: *field, descending }),
            None => {
                let names: Vec<String> = F::FIELDS.iter().map(|(n, _, _)| format!("`{n}`, `-{n}`")).collect();
                Err(ApiError::invalid("sort", format!("must be one of {}", names.join(", "))))
            }
        }
    }

    /// As `sort` says it: `-created_at`.
    pub fn name(&self) -> String {
        let field = F::FIELDS.iter().find(|(_, f, _)| *f == self.field).map_or("?", |(n, _, _)| n);
        if self.descending { format!("-{field}") } else { field.to_owned() }
    }

    fn kind(&self) -> KeyKind {
        F::FIELDS.iter().find(|(_, f, _)| *f == self.field).map_or(KeyKind::Text, |(_, _, k)| *k)
    }
}

/// The last record of a page: the next page starts after its key and id.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub key: Key,
    pub id: Uuid,
}

/// What a list asks: how many records, in which order, after which one.
#[derive(Debug, Clone)]
pub struct ListRequest<F> {
    pub limit: i64,
    pub sort: Sort<F>,
    pub after: Option<After>,
}

const CURSOR_INVALID: &str = "is not a cursor this API gave";

impl<F: SortField> ListRequest<F> {
    /// Reads `limit`, `sort` and `cursor`; a cursor made under another `sort` is a 422 (it
    /// would not continue the same order).
    pub fn parse(limit: Option<Limit>, cursor: Option<&str>, sort: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.map_or(DEFAULT_LIMIT, |l| l.0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", LIMIT_EXPECTED));
        }
        let sort = Sort::<F>::parse(sort)?;
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let text = unhex(c).ok_or_else(|| ApiError::invalid("cursor", CURSOR_INVALID))?;
                let mut parts = text.splitn(3, '\n');
                let (given, id, key) = (parts.next(), parts.next(), parts.next());
                if given != Some(sort.name().as_str()) {
                    return Err(ApiError::invalid("cursor", "was given for another `sort`; start again without it"));
                }
                let id = id.and_then(|i| Uuid::parse_str(i).ok());
                let key = key.and_then(|k| Key::decode(sort.kind(), k));
                match (id, key) {
                    (Some(id), Some(key)) => Some(After { key, id }),
                    _ => return Err(ApiError::invalid("cursor", CURSOR_INVALID)),
                }
            }
        };
        Ok(ListRequest { limit, sort, after })
    }

    /// How many rows to fetch: one more than the page, to know whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts fetched rows (in the request's order) to a page; `key` gives a row's sort key and id.
    pub fn page<R, T>(&self, mut rows: Vec<R>, key: impl Fn(&R) -> (Key, Uuid), map: impl FnMut(R) -> T) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| {
                let (k, id) = key(r);
                debug_assert_eq!(k.kind(), self.sort.kind(), "a sort key of another kind");
                hex(&format!("{}\n{id}\n{}", self.sort.name(), k.encode()))
            })
        } else {
            None
        };
        Page { items: rows.into_iter().map(map).collect(), next_cursor }
    }
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<String> {
    if !text.len().is_multiple_of(2) || text.len() > 2048 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect();
    String::from_utf8(bytes?).ok()
}

/// Declares a list's sort fields: an enum, its [`SortField`] catalogue (newest first by
/// default), and its OpenAPI schema, the enum of every `sort` value (`name`, `-name`, ...).
#[macro_export]
macro_rules! sort_fields {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident = $field:literal : $kind:ident,)+ } default $default:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($variant,)+ }

        impl $crate::page::SortField for $name {
            const FIELDS: &'static [(&'static str, Self, $crate::page::KeyKind)] =
                &[$(($field, $name::$variant, $crate::page::KeyKind::$kind),)+];
            const DEFAULT: $crate::page::Sort<Self> = $crate::page::Sort { field: $name::$default, descending: true };
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let default = <Self as $crate::page::SortField>::DEFAULT.name();
                let values: Vec<String> = [$($field,)+].iter().flat_map(|f| [format!("-{f}"), f.to_string()]).collect();
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(values))
                    .default(Some(serde_json::Value::String(default.clone())))
                    .description(Some(format!(
                        "A field to sort by, ascending, or with `-` descending; ties go by id in the same \
                         direction. Default `{default}` (newest first)."
                    )))
                    .examples([serde_json::Value::String(default)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

/// Orders a boxed query by `column` then `id` in the request's direction, after the request's
/// cursor (`key` reads the cursor's key as the column's value).
#[macro_export]
macro_rules! keyset {
    ($query:ident, $column:expr, $id:expr, $request:expr, $key:expr) => {{
        let descending = $request.sort.descending;
        if let Some(after) = &$request.after {
            let key = $key(&after.key);
            let id = $crate::db::Uid(after.id);
            $query = if descending {
                $query.filter($column.lt(key.clone()).or($column.eq(key).and($id.lt(id))))
            } else {
                $query.filter($column.gt(key.clone()).or($column.eq(key).and($id.gt(id))))
            };
        }
        $query = if descending {
            $query.order(($column.desc(), $id.desc()))
        } else {
            $query.order(($column.asc(), $id.asc()))
        };
    }};
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod sort_tests {
    use super::*;

    crate::sort_fields! {
        enum Things { CreatedAt = "created_at": Time, Name = "name": Text, Total = "amount": Decimal, }
        default CreatedAt
    }

    #[test]
    fn sort_reads_fields_and_directions_and_cursors_continue_only_their_sort() {
        let r = ListRequest::<Things>::parse(None, None, None).unwrap();
        assert_eq!((r.sort, r.limit), (Sort { field: Things::CreatedAt, descending: true }, DEFAULT_LIMIT));
        let r = ListRequest::<Things>::parse(None, None, Some("name")).unwrap();
        assert_eq!(r.sort, Sort { field: Things::Name, descending: false });
        assert!(ListRequest::<Things>::parse(None, None, Some("-nope")).is_err());
        let rows: Vec<(Key, Uuid)> = (0..3).map(|i| (Key::Text(format!("n\n{i}")), Uuid::now_v7())).collect();
        let page = ListRequest::<Things> { limit: 2, ..r }.page(rows.clone(), |r| r.clone(), |r| r);
        let cursor = page.next_cursor.unwrap();
        let next = ListRequest::<Things>::parse(None, Some(&cursor), Some("name")).unwrap();
        assert_eq!(next.after, Some(After { key: rows[1].0.clone(), id: rows[1].1 }));
        assert!(ListRequest::<Things>::parse(None, Some(&cursor), Some("-name")).is_err());
        assert!(ListRequest::<Things>::parse(None, Some("zz"), Some("name")).is_err());
        let t = Key::Time(crate::db::now());
        let r = ListRequest::<Things> { limit: 1, ..ListRequest::<Things>::parse(None, None, None).unwrap() };
        let cursor = r.page(vec![(t.clone(), Uuid::nil()), (t.clone(), Uuid::nil())], |r| r.clone(), |r| r);
        let back = ListRequest::<Things>::parse(None, cursor.next_cursor.as_deref(), None).unwrap();
        assert_eq!(back.after.map(|a| a.key), Some(t));
    }
}
