use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::error::Precondition;
use shared::ids::{CustomerId, SaleLineId};
use shared::page::{Key, ListRequest, Page};

use super::{Checks, Error, OrderState, Result, access, check_text};
use crate::store;

#[derive(Debug, Clone)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When it last changed (its creation at first).
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
}

/// A loose email check: one `@` with something on each side, a dot in the domain, no spaces.
fn check_email(checks: &mut Checks, email: &str) {
    let ok = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if !ok {
        checks.push("email", "is not an email address");
    } else if email.len() > 254 {
        checks.push("email", "must be at most 254 characters");
    }
}

fn normalize_email(email: Option<String>) -> Option<String> {
    email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty())
}

pub fn create(conn: &mut DbConn, caller: &Caller, new: NewCustomer) -> Result<Customer> {
    access::may_sell(caller)?;
    let email = normalize_email(new.email);
    let mut checks = Checks::new();
    check_text(&mut checks, "name", &new.name, 200);
    if let Some(e) = &email {
        check_email(&mut checks, e);
    }
    checks.finish()?;
    let now = shared::db::now_utc();
    let customer =
        Customer { id: CustomerId::new(), name: new.name.trim().to_owned(), email, created_at: now, updated_at: now };
    store::customers::insert(conn, &customer)?;
    Ok(customer)
}

/// A customer; a `customer` caller sees only its own (404 for any other).
pub fn get(conn: &mut DbConn, caller: &Caller, id: CustomerId) -> Result<Customer> {
    access::may_read_accounts(caller)?;
    caller.must_see(id, "customer", id)?;
    find(conn, id)
}

fn find(conn: &mut DbConn, id: CustomerId) -> Result<Customer> {
    store::customers::find(conn, id)?.ok_or_else(|| Error::not_found("customer", id))
}

pub fn update(
    conn: &mut DbConn,
    caller: &Caller,
    id: CustomerId,
    changes: CustomerChanges,
    expected: Precondition<Customer>,
) -> Result<Customer> {
    access::may_sell(caller)?;
    expected.lock(conn, "customers", id.0)?;
    let mut customer = find(conn, id)?;
    expected.check(&customer)?;
    let email = changes.email.map(normalize_email);
    let mut checks = Checks::new();
    if let Some(name) = &changes.name {
        check_text(&mut checks, "name", name, 200);
    }
    if let Some(Some(e)) = &email {
        check_email(&mut checks, e);
    }
    checks.finish()?;
    if let Some(name) = changes.name {
        customer.name = name.trim().to_owned();
    }
    if let Some(e) = email {
        customer.email = e;
    }
    customer.updated_at = shared::db::now_utc();
    store::customers::update(conn, &customer)?;
    Ok(customer)
}

shared::sort_fields! {
    /// How the customer list can be ordered.
    pub enum CustomerSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Name = "name": Text,
    }
    default CreatedAt
}

impl CustomerSort {
    pub fn key(self, c: &Customer) -> Key {
        match self {
            CustomerSort::CreatedAt => Key::Time(c.created_at.naive_utc()),
            CustomerSort::UpdatedAt => Key::Time(c.updated_at.naive_utc()),
            CustomerSort::Name => Key::Text(c.name.clone()),
        }
    }
}

/// Customers, in the asked order (newest first by default); a `customer` caller lists only
/// itself.
pub fn list(conn: &mut DbConn, caller: &Caller, req: ListRequest<CustomerSort>) -> Result<Page<Customer>> {
    access::may_read_accounts(caller)?;
    if let Some(own) = caller.own_customer() {
        let mine = store::customers::find(conn, own)?.filter(|_| req.after.is_none());
        return Ok(Page { items: mine.into_iter().collect(), next_cursor: None });
    }
    let rows = store::customers::list(conn, &req)?;
    Ok(req.page(rows, |c| (req.sort.field.key(c), c.id.0), |c| c))
}

/// One confirmed prepaid line of a customer, in hours.
#[derive(Debug, Clone)]
pub struct PrepaidLine {
    pub sale_line_id: SaleLineId,
    pub order_name: String,
    pub product_name: String,
    pub ordered_hours: Decimal,
    pub delivered_hours: Decimal,
    pub remaining_hours: Decimal,
}

#[derive(Debug, Clone)]
pub struct PrepaidHours {
    pub customer_id: CustomerId,
    pub remaining_hours: Decimal,
    pub lines: Vec<PrepaidLine>,
}

/// The customer's confirmed prepaid lines in a time uom, oldest first (first bought, first
/// used), and the sum of their remaining hours (an overrun line counts negative).
pub fn prepaid_hours(conn: &mut DbConn, caller: &Caller, id: CustomerId) -> Result<PrepaidHours> {
    get(conn, caller, id)?;
    let lines = store::lines::of_customer(conn, id)?;
    let orders = store::orders::names_and_states(conn, &lines.iter().map(|l| l.order_id).collect::<Vec<_>>())?;
    let products = store::products::names(conn, &lines.iter().map(|l| l.product_id).collect::<Vec<_>>())?;
    let mut out = Vec::new();
    for line in lines {
        let Some((order_name, OrderState::Sale)) = orders.get(&line.order_id).cloned() else {
            continue;
        };
        let Some(remaining) = line.remaining_hours() else {
            continue;
        };
        out.push(PrepaidLine {
            sale_line_id: line.id,
            order_name,
            product_name: products.get(&line.product_id).cloned().unwrap_or_else(|| line.description.clone()),
            ordered_hours: line.ordered_hours(),
            delivered_hours: line.delivered_hours,
            remaining_hours: remaining,
        });
    }
    let total = out.iter().map(|l| l.remaining_hours).sum();
    Ok(PrepaidHours { customer_id: id, remaining_hours: total, lines: out })
}
