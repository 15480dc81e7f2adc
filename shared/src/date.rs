//! Days in requests: strictly `YYYY-MM-DD` (four-digit year, two-digit month and day, nothing
//! else), a day of the calendar, between [`FIRST_DAY`] and [`LAST_DAY`]. Work dates, payment and
//! invoice dates and the date filters of lists all read this way, so a typo such as `0000-01-01`
//! or `+002026-01-01` is a 422 naming the field, not a record dated in another era.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The first day a request may name.
pub const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The last day a request may name.
pub const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2099, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// What a date that is not one is told.
pub const EXPECTED: &str = "must be a date as YYYY-MM-DD between 2000-01-01 and 2099-12-31";

/// A day read from a request (see the module).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Date {
    pub fn day(self) -> NaiveDate {
        self.0
    }
}

impl From<Date> for NaiveDate {
    fn from(d: Date) -> NaiveDate {
        d.0
    }
}

/// Parses `YYYY-MM-DD` within the window; the error is the message for the client.
pub fn parse_day(text: &str) -> Result<NaiveDate, &'static str> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(EXPECTED);
    }
    let number = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    let (y, m, d) = (number(0..4), number(5..7), number(8..10));
    let day = NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or("must be a day of the calendar as YYYY-MM-DD, between 2000-01-01 and 2099-12-31")?;
    if !(FIRST_DAY..=LAST_DAY).contains(&day) {
        return Err(EXPECTED);
    }
    Ok(day)
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Day;
        impl serde::de::Visitor<'_> for Day {
            type Value = Date;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a date as YYYY-MM-DD between 2000-01-01 and 2099-12-31")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Date, E> {
                parse_day(v).map(Date).map_err(E::custom)
            }
        }
        d.deserialize_str(Day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(r"^\d{4}-\d{2}-\d{2}$"))
            .description(Some(
                "A day as `YYYY-MM-DD`, between 2000-01-01 and 2099-12-31 (anything else is a 422 naming \
                 the field).",
            ))
            .examples([serde_json::json!("2026-11-29")])
            .into()
    }
}

impl utoipa::ToSchema for Date {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strict_days_in_the_window_are_read() {
        for bad in [
            "0000-01-01",
            "9999-12-31",
            "-0001-01-01",
            "+002026-01-01",
            "1999-12-31",
            "2100-01-01",
            "2026-02-30",
            "2026-1-1",
            "2026-01-01T00:00:00",
            " 2026-01-01",
            "2026/01/01",
            "20260101",
            "",
        ] {
            assert!(serde_json::from_value::<Date>(serde_json::json!(bad)).is_err(), "{bad} was read");
        }
        assert!(serde_json::from_value::<Date>(serde_json::json!(20260101)).is_err());
        for good in ["2000-01-01", "2026-02-28", "2024-02-29", "2099-12-31"] {
            assert!(serde_json::from_value::<Date>(serde_json::json!(good)).is_ok(), "{good} was refused");
        }
    }
}
