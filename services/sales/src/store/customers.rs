use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Uid};
use shared::ids::CustomerId;
use shared::page::PageRequest;

use super::Result;
use super::schema::customers;
use crate::domain::customers::Customer;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = customers)]
struct Row {
    id: Uid,
    name: String,
    email: Option<String>,
    created_at: NaiveDateTime,
}

impl From<Row> for Customer {
    fn from(r: Row) -> Self {
        Customer { id: r.id.into(), name: r.name, email: r.email, created_at: r.created_at.and_utc() }
    }
}

pub fn insert(conn: &mut DbConn, c: &Customer) -> Result<()> {
    let row =
        Row { id: c.id.into(), name: c.name.clone(), email: c.email.clone(), created_at: c.created_at.naive_utc() };
    diesel::insert_into(customers::table).values(row).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, c: &Customer) -> Result<()> {
    diesel::update(customers::table.find(Uid::from(c.id)))
        .set((customers::name.eq(&c.name), customers::email.eq(&c.email)))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: CustomerId) -> Result<Option<Customer>> {
    let row = customers::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

pub fn list(conn: &mut DbConn, page: PageRequest) -> Result<Vec<Customer>> {
    let mut q = customers::table.select(Row::as_select()).into_boxed();
    if let Some(before) = page.before {
        q = q.filter(customers::id.lt(Uid(before)));
    }
    let rows = q.order(customers::id.desc()).limit(page.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
