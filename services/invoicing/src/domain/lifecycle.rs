//! What happens to an invoice after it is made: posting (numbering), cancelling, crediting.

use super::Refusal;
use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::fits_scale;
use shared::ids::{InvoiceId, SaleLineId};

use super::invoices::{self, Invoice, InvoiceLine, Kind, PaymentState, State};
use super::ledger::{InvoicedDeltas, release_timesheets};
use super::{Checks, Error, Result, access};
use crate::store;

/// Posts a draft: it gets the next number of its kind and year, with no gap even when many
/// post at once. A credit note releases the timesheets of the lines it credits.
pub fn post(conn: &mut DbConn, caller: &Caller, id: InvoiceId) -> Result<Invoice> {
    access::may_keep_books(caller)?;
    let mut invoice = invoices::lock(conn, id)?;
    if invoice.state != State::Draft {
        return Err(Error::conflict(
            Refusal::InvoiceNotDraft,
            format!("invoice {id} is {}; only a draft can be posted", invoice.state.as_str()),
        ));
    }
    let prefix = format!("{}/{}", invoice.kind.number_prefix(), invoice.invoice_date.year());
    let n = store::sequences::next(conn, &prefix)?;
    invoice.number = Some(format!("{prefix}/{n:05}"));
    invoice.state = State::Posted;
    invoice.payment_state = PaymentState::of(invoice.amount_total, invoice.amount_residual);
    store::invoices::update(conn, &mut invoice)?;
    if let (Kind::CreditNote, Some(reversed)) = (invoice.kind, invoice.reversed_invoice_id) {
        release_timesheets(conn, reversed, invoice.timesheet_lines())?;
    }
    Ok(invoice)
}

/// Cancels a draft, or a posted invoice with no payment: its quantities stop counting on
/// their sale lines, and the timesheets it billed are released.
pub fn cancel(conn: &mut DbConn, caller: &Caller, id: InvoiceId) -> Result<Invoice> {
    access::may_cancel_invoices(caller)?;
    let mut invoice = invoices::lock(conn, id)?;
    match invoice.state {
        State::Cancelled => {
            return Err(Error::conflict(Refusal::InvoiceCancelled, format!("invoice {id} is cancelled already")));
        }
        State::Draft => {}
        State::Posted => {
            if store::payments::count(conn, id)? > 0 {
                return Err(Error::conflict(
                    Refusal::InvoiceHasPayments,
                    format!("invoice {id} has payments; it cannot be cancelled"),
                ));
            }
            if invoice.kind == Kind::Invoice && store::invoices::count_credit_notes(conn, id)? > 0 {
                return Err(Error::conflict(
                    Refusal::InvoiceCredited,
                    format!("invoice {id} is reversed by a credit note that is not cancelled; cancel that first"),
                ));
            }
            if invoice.kind == Kind::CreditNote && !invoice.timesheet_lines().is_empty() {
                // Its posting released the billed timesheets; reviving the invoice they were
                // billed on would let them be billed twice.
                return Err(Error::conflict(
                    Refusal::CreditNoteReleasedTimesheets,
                    format!("credit note {id} released billed timesheets when it was posted; it cannot be cancelled"),
                ));
            }
        }
    }
    invoice.state = State::Cancelled;
    store::invoices::update(conn, &mut invoice)?;
    let mut deltas = InvoicedDeltas::default();
    deltas.count(&invoice, -Decimal::ONE);
    deltas.apply(conn)?;
    if invoice.kind == Kind::Invoice {
        release_timesheets(conn, invoice.id, invoice.timesheet_lines())?;
    }
    Ok(invoice)
}

/// A quantity of one sale line to credit.
#[derive(Debug, Clone)]
pub struct CreditLine {
    pub sale_line_id: SaleLineId,
    pub quantity: Decimal,
}

/// Creates a draft credit note for a posted invoice: for all that is not credited yet (no
/// lines given), or for the given quantities per sale line, each at most what remains
/// uncredited; lines that bill timesheets are credited whole or not at all.
pub fn credit(conn: &mut DbConn, caller: &Caller, id: InvoiceId, lines: Option<Vec<CreditLine>>) -> Result<Invoice> {
    access::may_keep_books(caller)?;
    if let Some(wanted) = &lines {
        let mut checks = Checks::new();
        shared::error::check_count(&mut checks, "lines", wanted.len(), shared::error::MAX_ITEMS);
        checks.finish()?;
    }
    let invoice = invoices::lock(conn, id)?;
    if invoice.kind != Kind::Invoice {
        return Err(Error::conflict(
            Refusal::NotAnInvoice,
            format!("{id} is a credit note; only an invoice can be credited"),
        ));
    }
    if invoice.state != State::Posted {
        return Err(Error::conflict(
            Refusal::InvoiceNotPosted,
            format!("invoice {id} is {}; only a posted invoice can be credited", invoice.state.as_str()),
        ));
    }
    let credited = store::invoices::credited_quantities(conn, id)?;
    let remaining = |l: &InvoiceLine| l.quantity - credited.get(&l.id).copied().unwrap_or_default();
    let picks: Vec<(&InvoiceLine, Decimal)> = match lines {
        None => invoice.lines.iter().map(|l| (l, remaining(l))).filter(|(_, q)| *q > Decimal::ZERO).collect(),
        Some(wanted) => pick(&invoice, &wanted, remaining)?,
    };
    if picks.is_empty() {
        return Err(Error::conflict(
            Refusal::NothingToCredit,
            format!("everything on invoice {id} is credited already"),
        ));
    }
    let note_lines = picks
        .into_iter()
        .map(|(l, q)| {
            InvoiceLine::priced(
                l.sale_line_id,
                l.description.clone(),
                q,
                l.uom.clone(),
                l.unit_price,
                l.discount,
                l.tax_rate,
                l.bills_timesheets,
                Some(l.id),
            )
        })
        .collect();
    let note = Invoice::draft(
        InvoiceId::new(),
        Kind::CreditNote,
        invoice.customer_id,
        invoice.sale_order_id,
        Utc::now().date_naive(),
        invoice.currency.clone(),
        note_lines,
        Some(invoice.id),
    );
    store::invoices::insert(conn, &note)?;
    let mut deltas = InvoicedDeltas::default();
    deltas.count(&note, Decimal::ONE);
    deltas.apply(conn)?;
    Ok(note)
}

/// Spreads the asked quantities over the invoice's lines of each sale line, in order.
fn pick<'a>(
    invoice: &'a Invoice,
    wanted: &[CreditLine],
    remaining: impl Fn(&InvoiceLine) -> Decimal,
) -> Result<Vec<(&'a InvoiceLine, Decimal)>> {
    let mut checks = Checks::new();
    if wanted.is_empty() {
        checks.push("lines", "must not be empty; send no body to credit the whole invoice");
    }
    let mut seen = HashSet::new();
    let mut picks = Vec::new();
    let on_invoice: HashMap<SaleLineId, Vec<&InvoiceLine>> = invoice.lines.iter().fold(HashMap::new(), |mut m, l| {
        if let Some(s) = l.sale_line_id {
            m.entry(s).or_insert_with(Vec::new).push(l);
        }
        m
    });
    for (i, w) in wanted.iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        if !seen.insert(w.sale_line_id) {
            checks.push(field("sale_line_id"), "appears twice; name each sale line once");
            continue;
        }
        let Some(lines) = on_invoice.get(&w.sale_line_id) else {
            checks
                .push(field("sale_line_id"), format!("sale line {} is not on invoice {}", w.sale_line_id, invoice.id));
            continue;
        };
        if !fits_scale(w.quantity, 2) {
            checks.push(field("quantity"), "must have at most 2 decimals");
            continue;
        }
        if w.quantity <= Decimal::ZERO {
            checks.push(field("quantity"), "must be greater than 0");
            continue;
        }
        let left: Decimal = lines.iter().map(|l| remaining(l)).sum();
        if w.quantity > left {
            checks.push(
                field("quantity"),
                format!("at most {} of sale line {} remains uncredited", left.normalize(), w.sale_line_id),
            );
            continue;
        }
        if lines.iter().any(|l| l.bills_timesheets) && w.quantity != left {
            checks.push(
                field("quantity"),
                format!("this line bills timesheets: credit all of it ({}) or none of it", left.normalize()),
            );
            continue;
        }
        let mut rest = w.quantity;
        for l in lines {
            let take = rest.min(remaining(l));
            if take > Decimal::ZERO {
                picks.push((*l, take));
                rest -= take;
            }
        }
    }
    checks.finish()?;
    Ok(picks)
}
