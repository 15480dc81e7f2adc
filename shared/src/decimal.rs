//! Exact decimals on the wire: sent as strings with two decimals (`"4.50"`), accepted as a
//! string or a JSON number (parsed exactly, never through f64) that matches
//! [`PATTERN`] exactly: no exponent, no `+`, no `_`, no spaces, at most two decimals. A value
//! that does not is refused where it is read (a 422 naming the field); the sign and range
//! rules of each field are checked by the domain.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A quantity, price, amount, percentage or number of hours, shown with two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec2(pub Decimal);

impl Dec2 {
    pub const ZERO: Dec2 = Dec2(Decimal::ZERO);

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Dec2 {
    fn from(d: Decimal) -> Self {
        Dec2(d)
    }
}

impl std::fmt::Display for Dec2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = round_half_up(self.0, 2);
        d.rescale(2);
        write!(f, "{d}")
    }
}

impl Serialize for Dec2 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The one form a decimal takes in a request, as a string or a JSON number.
pub const PATTERN: &str = r"^-?\d+(\.\d{1,2})?$";

/// What a decimal that does not match [`PATTERN`] is told.
pub const EXPECTED: &str =
    "must be a decimal like \"4.50\" (digits, an optional \"-\", at most 2 decimals; no exponent, \"+\" or \"_\")";

/// Parses a decimal exactly by [`PATTERN`]; the error is the message for the client.
pub fn parse_wire(text: &str) -> Result<Decimal, &'static str> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(EXPECTED);
    }
    if frac.is_some_and(|f| f.len() > 2) {
        return Err("must have at most 2 decimals");
    }
    // Far beyond any amount stored (10^12), and beyond what a decimal holds exactly.
    if int.trim_start_matches('0').len() > 20 {
        return Err("is too large");
    }
    text.parse::<Decimal>().map_err(|_| "is too large")
}

impl<'de> Deserialize<'de> for Dec2 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Through a JSON value: serde_json's arbitrary precision keeps a number's own text.
        let text = match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(D::Error::custom(EXPECTED)),
        };
        parse_wire(&text).map(Dec2).map_err(D::Error::custom)
    }
}

impl utoipa::PartialSchema for Dec2 {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(PATTERN))
            .description(Some(
                "Exact decimal, sent as a string with two decimals; requests also accept a JSON number. \
                 Either must match the pattern exactly: no exponent, no `+`, no `_`, at most two decimals \
                 (anything else is a 422 naming the field).",
            ))
            .examples([serde_json::json!("4.50")])
            .into()
    }
}

impl utoipa::ToSchema for Dec2 {}

/// Checks a decimal from a request: at most two decimals, and within `min..=max` when given.
pub fn check_decimal(checks: &mut crate::error::Checks, field: &str, d: Decimal, positive: bool, max: Option<Decimal>) {
    if !fits_scale(d, 2) {
        checks.push(field, "must have at most 2 decimals");
    } else if positive && d <= Decimal::ZERO {
        checks.push(field, "must be greater than 0");
    } else if !positive && d < Decimal::ZERO {
        checks.push(field, "must not be negative");
    } else if let Some(m) = max.filter(|m| d > *m) {
        checks.push(field, format!("must be at most {m}"));
    } else if too_large(d) {
        checks.push(field, "is too large");
    }
}

/// True when `d` is beyond what any stored amount may be (10^12 or more, either sign): the bound
/// of every decimal read from a request, and of every amount computed from them (a line total,
/// an order total), which storage could not hold otherwise.
pub fn too_large(d: Decimal) -> bool {
    d.abs() >= Decimal::from(1_000_000_000_000i64)
}

/// A line's amounts, the one rule for sales order lines and invoice lines alike: subtotal =
/// quantity × price × (1 − discount/100) and tax = subtotal × rate/100, each rounded half up
/// to the cent; total = subtotal + tax.
pub fn line_amounts(
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    tax_rate: Decimal,
) -> (Decimal, Decimal, Decimal) {
    let hundred = Decimal::ONE_HUNDRED;
    let subtotal = round_half_up(quantity * unit_price * (hundred - discount) / hundred, 2);
    let tax = round_half_up(subtotal * tax_rate / hundred, 2);
    (subtotal, tax, subtotal + tax)
}

/// Rounds half away from zero (1.625 → 1.63, -1.625 → -1.63): the one rounding rule here.
/// rust_decimal's `round_dp` rounds half to even, which is not it.
pub fn round_half_up(d: Decimal, places: u32) -> Decimal {
    d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
}

/// True when `d` needs no more than `places` decimals ("4.500" is fine, "1.234" is not).
pub fn fits_scale(d: Decimal, places: u32) -> bool {
    d.normalize().scale() <= places
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_half_up_not_to_even() {
        assert_eq!(round_half_up(dec!(1.625), 2), dec!(1.63));
        assert_eq!(round_half_up(dec!(-1.625), 2), dec!(-1.63));
        assert_eq!(round_half_up(dec!(4.5) / dec!(8), 2), dec!(0.56));
        assert_eq!(round_half_up(dec!(13) / dec!(8), 2), dec!(1.63));
    }

    #[test]
    fn wire_form_has_two_decimals_and_reads_numbers_exactly() -> Result<(), serde_json::Error> {
        assert_eq!(serde_json::to_string(&Dec2(dec!(4.5)))?, "\"4.50\"");
        let n: Dec2 = serde_json::from_str("12345678901234567.89")?;
        assert_eq!(n.0, dec!(12345678901234567.89));
        let n: Dec2 = serde_json::from_str("-0.5")?;
        assert_eq!(n.0, dec!(-0.5));
        assert!(fits_scale(dec!(4.500), 2));
        Ok(())
    }

    #[test]
    fn only_the_documented_pattern_is_read() {
        for bad in [
            "\"1e2\"",
            "\"1E2\"",
            "\"1.0e1\"",
            "\"+5\"",
            "\"1_000\"",
            "\"1e-2\"",
            "1e2",
            "1E2",
            "1.0e1",
            "1e-2",
            "\" 1\"",
            "\"1.\"",
            "\".5\"",
            "\"\"",
            "\"1.234\"",
            "1.234",
            "\"ten\"",
            "true",
            "null",
            "[1]",
            "\"99999999999999999999999999999999\"",
            "1e400",
        ] {
            assert!(serde_json::from_str::<Dec2>(bad).is_err(), "{bad} was read");
        }
        for good in ["\"1\"", "\"1.5\"", "\"-1.25\"", "7", "0.05", "\"007.50\""] {
            assert!(serde_json::from_str::<Dec2>(good).is_ok(), "{good} was refused");
        }
    }
}
