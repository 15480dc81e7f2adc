use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Uid};
use shared::ids::CustomerId;
use shared::page::{Key, ListRequest};

use super::Result;
use super::schema::customers;
use crate::domain::customers::{Customer, CustomerSort};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = customers)]
struct Row {
    id: Uid,
    name: String,
    email: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Customer {
    fn from(r: Row) -> Self {
        Customer {
            id: r.id.into(),
            name: r.name,
            email: r.email,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, c: &Customer) -> Result<()> {
    let row = Row {
        id: c.id.into(),
        name: c.name.clone(),
        email: c.email.clone(),
        created_at: c.created_at.naive_utc(),
        updated_at: c.updated_at.naive_utc(),
    };
    diesel::insert_into(customers::table).values(row).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, c: &Customer) -> Result<()> {
    diesel::update(customers::table.find(Uid::from(c.id)))
        .set((
            customers::name.eq(&c.name),
            customers::email.eq(&c.email),
            customers::updated_at.eq(c.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: CustomerId) -> Result<Option<Customer>> {
    let row = customers::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(Into::into))
}

pub fn list(conn: &mut DbConn, req: &ListRequest<CustomerSort>) -> Result<Vec<Customer>> {
    let mut q = customers::table.select(Row::as_select()).into_boxed();
    match req.sort.field {
        CustomerSort::CreatedAt => shared::keyset!(q, customers::created_at, customers::id, req, Key::time),
        CustomerSort::UpdatedAt => shared::keyset!(q, customers::updated_at, customers::id, req, Key::time),
        CustomerSort::Name => shared::keyset!(q, customers::name, customers::id, req, Key::text),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}
