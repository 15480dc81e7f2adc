//! Native column types per backend: a UUID is `uuid` on PostgreSQL and canonical TEXT on SQLite;
//! an exact decimal is `NUMERIC` on PostgreSQL and an INTEGER scaled by 10^4 on SQLite, because
//! TEXT decimals on SQLite compare, sort and sum wrongly.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, HasSqlType, Numeric, Text};
use diesel::sqlite::{Sqlite, SqliteValue};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::MultiBackend;

/// SQL type of an id column.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct DbUuid;

/// SQL type of an exact decimal column (at most 4 decimal places stored).
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1700, array_oid = 1231))]
#[diesel(sqlite_type(name = "Long"))]
pub struct DbDecimal;

impl diesel::sql_types::Foldable for DbDecimal {
    type Sum = diesel::sql_types::Nullable<DbDecimal>;
    type Avg = diesel::sql_types::Nullable<DbDecimal>;
}

impl HasSqlType<DbUuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbUuid>(lookup)
    }
}

impl HasSqlType<DbDecimal> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<DbDecimal>(lookup)
    }
}

/// A UUID as bound to and read from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = DbUuid)]
pub struct Uid(pub Uuid);

impl ToSql<DbUuid, Pg> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        use std::io::Write;
        out.write_all(self.0.as_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<DbUuid, Pg> for Uid {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Uid(Uuid::from_slice(bytes.as_bytes())?))
    }
}

impl ToSql<DbUuid, Sqlite> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<DbUuid, Sqlite> for Uid {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(Uid(Uuid::parse_str(&text)?))
    }
}

impl ToSql<DbUuid, MultiBackend> for Uid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbUuid, self));
        Ok(IsNull::No)
    }
}

impl FromSql<DbUuid, MultiBackend> for Uid {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, DbUuid>()
    }
}

/// An exact decimal as bound to and read from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = DbDecimal)]
pub struct Dec(pub Decimal);

/// SQLite stores decimals as integers of ten-thousandths.
const SQLITE_SCALE: u32 = 4;

impl ToSql<DbDecimal, Pg> for Dec {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Decimal as ToSql<Numeric, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<DbDecimal, Pg> for Dec {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        <Decimal as FromSql<Numeric, Pg>>::from_sql(bytes).map(Dec)
    }
}

impl ToSql<DbDecimal, Sqlite> for Dec {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        let mut d = self.0;
        if d.normalize().scale() > SQLITE_SCALE {
            return Err(format!("decimal {d} has more than {SQLITE_SCALE} decimal places").into());
        }
        d.rescale(SQLITE_SCALE);
        let scaled = i64::try_from(d.mantissa()).map_err(|_| format!("decimal {d} out of range"))?;
        out.set_value(scaled);
        Ok(IsNull::No)
    }
}

impl FromSql<DbDecimal, Sqlite> for Dec {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let scaled = <i64 as FromSql<BigInt, Sqlite>>::from_sql(value)?;
        Ok(Dec(Decimal::new(scaled, SQLITE_SCALE)))
    }
}

impl ToSql<DbDecimal, MultiBackend> for Dec {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((DbDecimal, self));
        Ok(IsNull::No)
    }
}

impl FromSql<DbDecimal, MultiBackend> for Dec {
    fn from_sql(bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, DbDecimal>()
    }
}

diesel::infix_operator!(PlusDecimal, " + ", DbDecimal);

/// `column + delta` for a decimal column: the table macro only makes `+` for the SQL types it
/// knows, and a decimal here is our own type.
pub fn plus<L>(column: L, delta: Decimal) -> PlusDecimal<L, diesel::dsl::AsExprOf<Dec, DbDecimal>>
where
    L: diesel::Expression<SqlType = DbDecimal>,
{
    use diesel::IntoSql;
    PlusDecimal::new(column, Dec(delta).into_sql::<DbDecimal>())
}
