//! Payments against posted invoices: each lowers the residual, never below zero.

use super::Refusal;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::check_decimal;
use shared::ids::{InvoiceId, PaymentId};
use shared::page::{Key, ListRequest, Page};

use super::invoices::{self, MAX_AMOUNT, PaymentState, State};
use super::{Checks, Error, Result, access};
use crate::store;

#[derive(Debug, Clone)]
pub struct Payment {
    pub id: PaymentId,
    pub invoice_id: InvoiceId,
    pub amount: Decimal,
    pub date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Decimal,
    /// Default today (UTC).
    pub date: Option<NaiveDate>,
}

/// Records a payment on a posted invoice, at most its residual; returns the payment and the
/// invoice's new residual and payment state.
pub fn pay(
    conn: &mut DbConn,
    caller: &Caller,
    id: InvoiceId,
    new: NewPayment,
) -> Result<(Payment, Decimal, PaymentState)> {
    access::may_keep_books(caller)?;
    let mut invoice = invoices::lock(conn, id)?;
    if invoice.state != State::Posted {
        return Err(Error::conflict(
            Refusal::InvoiceNotPosted,
            format!("invoice {id} is {}; only a posted invoice can be paid", invoice.state.as_str()),
        ));
    }
    let mut checks = Checks::new();
    check_decimal(&mut checks, "amount", new.amount, true, Some(MAX_AMOUNT));
    checks.finish()?;
    if new.amount > invoice.amount_residual {
        return Err(Error::invalid(
            "amount",
            format!("must be at most the amount still due, {}", invoice.amount_residual.round_dp(2)),
        ));
    }
    invoice.amount_residual -= new.amount;
    invoice.payment_state = PaymentState::of(invoice.amount_total, invoice.amount_residual);
    store::invoices::update(conn, &mut invoice)?;
    let payment = Payment {
        id: PaymentId::new(),
        invoice_id: id,
        amount: new.amount,
        date: new.date.unwrap_or_else(|| Utc::now().date_naive()),
        created_at: shared::db::now_utc(),
    };
    store::payments::insert(conn, &payment)?;
    Ok((payment, invoice.amount_residual, invoice.payment_state))
}

shared::sort_fields! {
    /// How the payments of an invoice can be ordered.
    pub enum PaymentSort {
        CreatedAt = "created_at": Time,
        Amount = "amount": Decimal,
        Date = "date": Date,
    }
    default CreatedAt
}

impl PaymentSort {
    pub fn key(self, p: &Payment) -> Key {
        match self {
            PaymentSort::CreatedAt => Key::Time(p.created_at.naive_utc()),
            PaymentSort::Amount => Key::Decimal(p.amount),
            PaymentSort::Date => Key::Date(p.date),
        }
    }
}

/// A page of the payments of an invoice the caller may see, in the asked order (newest first
/// by default).
pub fn list(conn: &mut DbConn, caller: &Caller, id: InvoiceId, req: ListRequest<PaymentSort>) -> Result<Page<Payment>> {
    invoices::get(conn, caller, id)?;
    let rows = store::payments::list(conn, id, &req)?;
    Ok(req.page(rows, |p| (req.sort.field.key(p), p.id.0), |p| p))
}

/// One payment of an invoice the caller may see.
pub fn get(conn: &mut DbConn, caller: &Caller, invoice: InvoiceId, id: PaymentId) -> Result<Payment> {
    invoices::get(conn, caller, invoice)?;
    store::payments::find(conn, invoice, id)?.ok_or_else(|| Error::not_found("payment", id))
}
