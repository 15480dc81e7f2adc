//! Invoices and credit notes: their shape, their amounts, creating and reading them.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::db::DbConn;
use shared::decimal::check_decimal;
use shared::ids::{CustomerId, InvoiceId, InvoiceLineId, OrderId, SaleLineId};
use shared::page::{Key, ListRequest, Page};

use super::ledger::InvoicedDeltas;
use super::{Checks, Error, Result, access};
use crate::store;
use shared::error::{MAX_ITEMS, check_count, check_long_text};

/// Largest amount an invoice or one of its lines may reach (the storage holds 10 integer digits).
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 0); // 10^10
/// Largest quantity or unit price on a line.
pub const MAX_FACTOR: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);
const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invoice,
    CreditNote,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::CreditNote => "credit_note",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Invoice, Kind::CreditNote].into_iter().find(|k| k.as_str() == s)
    }

    /// How a line of this kind counts on its sale line's invoiced quantity.
    pub fn sign(self) -> Decimal {
        match self {
            Kind::Invoice => Decimal::ONE,
            Kind::CreditNote => -Decimal::ONE,
        }
    }

    /// The start of the numbers of this kind: `INV/2026/00001`, `RINV/2026/00001`.
    pub fn number_prefix(self) -> &'static str {
        match self {
            Kind::Invoice => "INV",
            Kind::CreditNote => "RINV",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Draft,
    Posted,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Posted => "posted",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [State::Draft, State::Posted, State::Cancelled].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    NotPaid,
    Partial,
    Paid,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::NotPaid => "not_paid",
            PaymentState::Partial => "partial",
            PaymentState::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentState> {
        [PaymentState::NotPaid, PaymentState::Partial, PaymentState::Paid].into_iter().find(|k| k.as_str() == s)
    }

    /// What is left to pay decides: nothing left is paid, all of it left is not paid.
    pub fn of(total: Decimal, residual: Decimal) -> PaymentState {
        if residual <= Decimal::ZERO {
            PaymentState::Paid
        } else if residual >= total {
            PaymentState::NotPaid
        } else {
            PaymentState::Partial
        }
    }
}

#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub id: InvoiceLineId,
    pub sale_line_id: Option<SaleLineId>,
    pub description: String,
    pub quantity: Decimal,
    pub uom: String,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub tax_rate: Decimal,
    pub price_subtotal: Decimal,
    pub price_tax: Decimal,
    pub price_total: Decimal,
    /// The line bills claimed timesheets: credited whole or not at all, and cancelling or
    /// crediting it releases them.
    pub bills_timesheets: bool,
    /// On a credit note: the invoice line it credits.
    pub reversed_line_id: Option<InvoiceLineId>,
}

#[derive(Debug, Clone)]
pub struct Invoice {
    pub id: InvoiceId,
    pub number: Option<String>,
    pub kind: Kind,
    pub state: State,
    pub customer_id: CustomerId,
    pub sale_order_id: Option<OrderId>,
    pub invoice_date: NaiveDate,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub amount_untaxed: Decimal,
    pub amount_tax: Decimal,
    pub amount_total: Decimal,
    pub amount_residual: Decimal,
    pub payment_state: PaymentState,
    pub reversed_invoice_id: Option<InvoiceId>,
    pub created_at: DateTime<Utc>,
    /// When it last changed: posted, cancelled, paid (its creation until then).
    pub updated_at: DateTime<Utc>,
}

pub use shared::decimal::line_amounts;

impl InvoiceLine {
    /// A line with its amounts computed.
    #[allow(clippy::too_many_arguments)]
    pub fn priced(
        sale_line_id: Option<SaleLineId>,
        description: String,
        quantity: Decimal,
        uom: String,
        unit_price: Decimal,
        discount: Decimal,
        tax_rate: Decimal,
        bills_timesheets: bool,
        reversed_line_id: Option<InvoiceLineId>,
    ) -> InvoiceLine {
        let (price_subtotal, price_tax, price_total) = line_amounts(quantity, unit_price, discount, tax_rate);
        InvoiceLine {
            id: InvoiceLineId::new(),
            sale_line_id,
            description,
            quantity,
            uom,
            unit_price,
            discount,
            tax_rate,
            price_subtotal,
            price_tax,
            price_total,
            bills_timesheets,
            reversed_line_id,
        }
    }
}

impl Invoice {
    /// A new draft with these lines, its totals summed from them.
    #[allow(clippy::too_many_arguments)]
    pub fn draft(
        id: InvoiceId,
        kind: Kind,
        customer_id: CustomerId,
        sale_order_id: Option<OrderId>,
        invoice_date: NaiveDate,
        currency: String,
        lines: Vec<InvoiceLine>,
        reversed_invoice_id: Option<InvoiceId>,
    ) -> Invoice {
        let now = shared::db::now_utc();
        let amount_untaxed: Decimal = lines.iter().map(|l| l.price_subtotal).sum();
        let amount_tax: Decimal = lines.iter().map(|l| l.price_tax).sum();
        let amount_total = amount_untaxed + amount_tax;
        Invoice {
            id,
            number: None,
            kind,
            state: State::Draft,
            customer_id,
            sale_order_id,
            invoice_date,
            currency,
            lines,
            amount_untaxed,
            amount_tax,
            amount_total,
            amount_residual: amount_total,
            payment_state: PaymentState::NotPaid,
            reversed_invoice_id,
            // As stored: timestamps keep microseconds.
            created_at: now,
            updated_at: now,
        }
    }

    /// The sale lines of the lines that bill timesheets, each once.
    pub fn timesheet_lines(&self) -> Vec<SaleLineId> {
        let mut ids: Vec<SaleLineId> =
            self.lines.iter().filter(|l| l.bills_timesheets).filter_map(|l| l.sale_line_id).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[derive(Debug, Clone)]
pub struct NewLine {
    pub sale_line_id: Option<SaleLineId>,
    pub description: String,
    pub quantity: Decimal,
    pub uom: String,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub tax_rate: Decimal,
    pub bills_timesheets: bool,
}

#[derive(Debug, Clone)]
pub struct NewInvoice {
    /// Chosen by the caller (sales, after claiming timesheets for it); a repeat answers the
    /// invoice that has it.
    pub id: Option<InvoiceId>,
    pub customer_id: CustomerId,
    pub sale_order_id: Option<OrderId>,
    pub invoice_date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub lines: Vec<NewLine>,
}

#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub customer_id: Option<CustomerId>,
    pub sale_order_id: Option<OrderId>,
    pub state: Option<State>,
    pub kind: Option<Kind>,
}

pub const DEFAULT_CURRENCY: &str = "EUR";

fn check_new(new: &NewInvoice) -> Result<()> {
    let mut checks = Checks::new();
    if let Some(c) = new.currency.as_ref().filter(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
        checks.push("currency", format!("must be an ISO 4217 code of three capital letters, e.g. EUR, not {c:?}"));
    }
    if new.lines.is_empty() {
        checks.push("lines", "an invoice needs at least one line");
    }
    check_count(&mut checks, "lines", new.lines.len(), MAX_ITEMS);
    if new.lines.len() > MAX_ITEMS {
        return checks.finish();
    }
    for (i, l) in new.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        if l.description.trim().is_empty() {
            checks.push(f("description"), "must not be empty");
        } else {
            check_long_text(&mut checks, &f("description"), &l.description, 2000);
        }
        if shared::uom::Uom::parse(&l.uom).is_none() {
            checks.push(f("uom"), format!("must be one of: {}", shared::uom::Uom::choices()));
        }
        check_decimal(&mut checks, &f("quantity"), l.quantity, true, Some(MAX_FACTOR));
        check_decimal(&mut checks, &f("unit_price"), l.unit_price, false, Some(MAX_FACTOR));
        check_decimal(&mut checks, &f("discount"), l.discount, false, Some(HUNDRED));
        check_decimal(&mut checks, &f("tax_rate"), l.tax_rate, false, Some(HUNDRED * HUNDRED));
        if l.bills_timesheets && l.sale_line_id.is_none() {
            checks.push(f("sale_line_id"), "a line that bills timesheets needs its sale line");
        }
    }
    checks.finish()
}

fn check_amounts(invoice: &Invoice) -> Result<()> {
    let mut checks = Checks::new();
    for (i, l) in invoice.lines.iter().enumerate() {
        if l.price_total.abs() >= MAX_AMOUNT {
            checks.push(format!("lines[{i}].quantity"), format!("makes the line's total reach {MAX_AMOUNT} or more"));
        }
    }
    if invoice.amount_total.abs() >= MAX_AMOUNT {
        checks.push("lines", format!("make the invoice's total reach {MAX_AMOUNT} or more"));
    }
    checks.finish()
}

/// Creates a draft invoice and counts its lines on their sale lines' invoiced quantities. A
/// caller that chose the id gets the existing invoice on a repeat.
pub fn create(conn: &mut DbConn, caller: &Caller, new: NewInvoice) -> Result<Invoice> {
    access::may_create_invoices(caller)?;
    check_new(&new)?;
    if let Some(existing) = new.id.map(|id| store::invoices::find(conn, id)).transpose()?.flatten() {
        return Ok(existing);
    }
    let lines = new
        .lines
        .into_iter()
        .map(|l| {
            InvoiceLine::priced(
                l.sale_line_id,
                l.description.trim().to_owned(),
                l.quantity,
                l.uom.trim().to_owned(),
                l.unit_price,
                l.discount,
                l.tax_rate,
                l.bills_timesheets,
                None,
            )
        })
        .collect();
    let invoice = Invoice::draft(
        new.id.unwrap_or_else(InvoiceId::new),
        Kind::Invoice,
        new.customer_id,
        new.sale_order_id,
        new.invoice_date.unwrap_or_else(|| Utc::now().date_naive()),
        new.currency.unwrap_or_else(|| DEFAULT_CURRENCY.to_owned()),
        lines,
        None,
    );
    check_amounts(&invoice)?;
    store::invoices::insert(conn, &invoice)?;
    let mut deltas = InvoicedDeltas::default();
    deltas.count(&invoice, Decimal::ONE);
    deltas.apply(conn)?;
    Ok(invoice)
}

/// An invoice or credit note; a `customer` caller sees only its own (404 for any other).
pub fn get(conn: &mut DbConn, caller: &Caller, id: InvoiceId) -> Result<Invoice> {
    access::may_read_invoices(caller)?;
    let invoice = store::invoices::find(conn, id)?.ok_or_else(|| Error::not_found("invoice", id))?;
    caller.must_see(invoice.customer_id, "invoice", id)?;
    Ok(invoice)
}

/// Takes the invoice for a change: on PostgreSQL its row stays locked until the transaction
/// ends, so concurrent changes to one invoice happen one after the other and each sees the
/// last one's result.
pub fn lock(conn: &mut DbConn, id: InvoiceId) -> Result<Invoice> {
    store::invoices::lock(conn, id)?.ok_or_else(|| Error::not_found("invoice", id))
}

shared::sort_fields! {
    /// How the invoice list can be ordered.
    pub enum InvoiceSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        AmountTotal = "amount_total": Decimal,
    }
    default CreatedAt
}

impl InvoiceSort {
    pub fn key(self, i: &Invoice) -> Key {
        match self {
            InvoiceSort::CreatedAt => Key::Time(i.created_at.naive_utc()),
            InvoiceSort::UpdatedAt => Key::Time(i.updated_at.naive_utc()),
            InvoiceSort::AmountTotal => Key::Decimal(i.amount_total),
        }
    }
}

/// Invoices and credit notes, in the asked order (newest first by default: by creation, not
/// by id, as invoices made from orders have ids derived from them); a `customer` caller lists
/// only its own.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &InvoiceFilter,
    req: ListRequest<InvoiceSort>,
) -> Result<Page<Invoice>> {
    access::may_read_invoices(caller)?;
    let Some(customer_id) = caller.list_scope(filter.customer_id) else {
        return Ok(Page { items: vec![], next_cursor: None });
    };
    let filter = InvoiceFilter { customer_id, ..filter.clone() };
    let rows = store::invoices::list(conn, &filter, &req)?;
    Ok(req.page(rows, |i| (req.sort.field.key(i), i.id.0), |i| i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn amounts_round_half_up_per_line() {
        // 3 × 10.25 × 0.95 = 29.2125 → 29.21; 29.21 × 21% = 6.1341 → 6.13
        assert_eq!(line_amounts(dec!(3), dec!(10.25), dec!(5), dec!(21)), (dec!(29.21), dec!(6.13), dec!(35.34)));
        // 1 × 0.125 = 0.125 → 0.13 (half up, not to even); 0.13 × 50% = 0.065 → 0.07
        assert_eq!(line_amounts(dec!(1), dec!(0.125), dec!(0), dec!(50)), (dec!(0.13), dec!(0.07), dec!(0.20)));
    }

    #[test]
    fn payment_state_follows_the_residual() {
        assert_eq!(PaymentState::of(dec!(10), dec!(10)), PaymentState::NotPaid);
        assert_eq!(PaymentState::of(dec!(10), dec!(4)), PaymentState::Partial);
        assert_eq!(PaymentState::of(dec!(10), dec!(0)), PaymentState::Paid);
        assert_eq!(MAX_AMOUNT, dec!(10000000000));
    }
}
