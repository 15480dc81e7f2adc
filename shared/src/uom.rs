//! Units of measure, one set for every service: sales sells in them, invoicing bills in them,
//! and hours are converted through them.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// A unit of measure: `unit` (category unit), `hour` and `day` (category time; a day is 8 hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "hour")]
pub enum Uom {
    Unit,
    Hour,
    Day,
}

/// The category of a unit of measure; only units of one category convert into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "time")]
pub enum UomCategory {
    Unit,
    Time,
}

impl Uom {
    pub const ALL: &'static [Uom] = &[Uom::Unit, Uom::Hour, Uom::Day];

    pub fn as_str(self) -> &'static str {
        match self {
            Uom::Unit => "unit",
            Uom::Hour => "hour",
            Uom::Day => "day",
        }
    }

    pub fn parse(s: &str) -> Option<Uom> {
        Uom::ALL.iter().copied().find(|u| u.as_str() == s)
    }

    /// The accepted spellings, for error messages.
    pub fn choices() -> String {
        Uom::ALL.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
    }

    pub fn category(self) -> UomCategory {
        match self {
            Uom::Unit => UomCategory::Unit,
            Uom::Hour | Uom::Day => UomCategory::Time,
        }
    }

    /// Hours in one of this unit; a `unit` counts as one hour where hours are needed (Odoo's
    /// allocated hours rule).
    pub fn hours(self) -> Decimal {
        match self {
            Uom::Unit | Uom::Hour => Decimal::ONE,
            Uom::Day => Decimal::from(8),
        }
    }

    pub fn is_time(self) -> bool {
        self.category() == UomCategory::Time
    }
}

impl UomCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            UomCategory::Unit => "unit",
            UomCategory::Time => "time",
        }
    }
}

impl std::fmt::Display for Uom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for UomCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
