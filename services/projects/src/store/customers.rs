//! Whose a sale line or a ticket is, as sales and helpdesk answered when first asked
//! (`crate::peers`). The answers never change, so they are kept for good and only ever added.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable};
use shared::db::{DbConn, DbUuid, Uid, cached, param};
use shared::ids::{SaleLineId, TicketId};

use super::Result;
use crate::domain::customers::Customers;

#[derive(QueryableByName)]
struct Fact {
    #[diesel(sql_type = Integer)]
    kind: i32,
    #[diesel(sql_type = DbUuid)]
    id: Uid,
    #[diesel(sql_type = Nullable<DbUuid>)]
    customer_id: Option<Uid>,
}

const LINE: i32 = 0;
const TICKET: i32 = 1;

/// What is known of these lines and tickets, in one statement (none when nothing is asked).
pub fn find(conn: &mut DbConn, lines: &[SaleLineId], tickets: &[TicketId]) -> Result<Customers> {
    let mut known = Customers::default();
    let mut n = 0;
    let mut list = |conn: &DbConn, count: usize| {
        let params: Vec<String> = (0..count)
            .map(|_| {
                n += 1;
                param(conn, n)
            })
            .collect();
        params.join(", ")
    };
    let mut parts = Vec::new();
    if !lines.is_empty() {
        parts.push(format!(
            "SELECT {LINE} AS kind, sale_line_id AS id, customer_id FROM sale_line_customers \
             WHERE sale_line_id IN ({})",
            list(conn, lines.len())
        ));
    }
    if !tickets.is_empty() {
        parts.push(format!(
            "SELECT {TICKET} AS kind, ticket_id AS id, customer_id FROM ticket_customers WHERE ticket_id IN ({})",
            list(conn, tickets.len())
        ));
    }
    if parts.is_empty() {
        return Ok(known);
    }
    let mut query = diesel::sql_query(parts.join(" UNION ALL ")).into_boxed();
    for id in lines.iter().map(|l| Uid::from(*l)).chain(tickets.iter().map(|t| Uid::from(*t))) {
        query = query.bind::<DbUuid, _>(id);
    }
    let facts: Vec<Fact> = cached(query).load(conn)?;
    for f in facts {
        match (f.kind, f.customer_id) {
            (LINE, Some(c)) => {
                known.lines.insert(f.id.into(), c.into());
            }
            (TICKET, c) => {
                known.tickets.insert(f.id.into(), c.map(Into::into));
            }
            _ => {}
        }
    }
    Ok(known)
}

/// Keeps what the owners answered; what another request learned first stays as it is (it is
/// the same answer).
pub fn remember(conn: &mut DbConn, learned: &Customers) -> Result<()> {
    let (a, b) = (param(conn, 1), param(conn, 2));
    let insert = |table: &str, key: &str| match conn {
        DbConn::Pg(_) => format!("INSERT INTO {table} ({key}, customer_id) VALUES ({a}, {b}) ON CONFLICT DO NOTHING"),
        DbConn::Sqlite(_) => format!("INSERT OR IGNORE INTO {table} ({key}, customer_id) VALUES ({a}, {b})"),
    };
    let (lines, tickets) = (insert("sale_line_customers", "sale_line_id"), insert("ticket_customers", "ticket_id"));
    for (&line, &customer) in &learned.lines {
        diesel::sql_query(&lines)
            .bind::<DbUuid, _>(Uid::from(line))
            .bind::<DbUuid, _>(Uid::from(customer))
            .execute(conn)?;
    }
    for (&ticket, &customer) in &learned.tickets {
        diesel::sql_query(&tickets)
            .bind::<DbUuid, _>(Uid::from(ticket))
            .bind::<Nullable<DbUuid>, _>(customer.map(Uid::from))
            .execute(conn)?;
    }
    Ok(())
}
