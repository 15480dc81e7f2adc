//! The invoice `POST /orders/{id}/invoices` answers: the invoicing service's invoice, read into
//! a typed mirror of its `InvoiceDto` and written back, so that sales' document and its answer
//! cannot disagree. Strict on purpose (`deny_unknown_fields`): a field invoicing adds must be
//! added here too, or invoicing an order fails loudly (and the e2e tests with it) instead of
//! the field being dropped without notice.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::Dec2;
use shared::ids::{CustomerId, InvoiceId, InvoiceLineId, OrderId, SaleLineId};
use utoipa::ToSchema;

/// `invoice` or `credit_note`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "invoice")]
pub enum InvoiceKind {
    Invoice,
    CreditNote,
}

/// `draft` (no number yet, still counts as invoiced), `posted` (numbered) or `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "draft")]
pub enum InvoiceState {
    Draft,
    Posted,
    Cancelled,
}

/// `not_paid`, `partial` or `paid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(example = "not_paid")]
pub enum InvoicePaymentState {
    NotPaid,
    Partial,
    Paid,
}

/// One line of an invoice (as the invoicing service shows it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineDto {
    /// The invoice line's id, given by the invoicing service.
    pub id: InvoiceLineId,
    /// The sale order line this line bills.
    pub sale_line_id: Option<SaleLineId>,
    /// Text shown on the invoice: the order line's description.
    #[schema(example = "Support hours (prepaid)")]
    pub description: String,
    /// Quantity billed, in `uom`.
    #[schema(example = "10.00")]
    pub quantity: Dec2,
    /// Unit of measure of `quantity` (`unit`, `hour` or `day`).
    #[schema(example = "hour", value_type = crate::domain::Uom)]
    pub uom: String,
    /// Price of one `uom`, before discount and tax.
    #[schema(example = "90.00")]
    pub unit_price: Dec2,
    /// Percent.
    #[schema(example = "0.00")]
    pub discount: Dec2,
    /// Percent.
    #[schema(example = "21.00")]
    pub tax_rate: Dec2,
    /// quantity × unit_price × (1 − discount/100), rounded half up to cents.
    pub price_subtotal: Dec2,
    /// price_subtotal × tax_rate/100, rounded half up to cents.
    pub price_tax: Dec2,
    /// price_subtotal + price_tax.
    pub price_total: Dec2,
    /// The line bills timesheets claimed for this invoice (a `timesheet` policy line).
    pub bills_timesheets: bool,
}

/// The draft invoice made for an order, exactly as the invoicing service answers it
/// (`GET /api/v1/invoices/{id}` there shows it later).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceDto {
    /// The invoice's id in the invoicing service.
    pub id: InvoiceId,
    /// Null while draft; `INV/2026/00001` once posted, gap-free per year of `invoice_date`.
    #[schema(example = "INV/2026/00001")]
    pub number: Option<String>,
    /// `invoice` (credit notes are made in the invoicing service).
    pub kind: InvoiceKind,
    /// `draft` when made: post it in the invoicing service to number it.
    pub state: InvoiceState,
    /// The order's customer, billed.
    pub customer_id: CustomerId,
    /// The order invoiced.
    pub sale_order_id: Option<OrderId>,
    /// The day of the invoice (today, UTC); its year picks the number sequence.
    #[schema(example = "2026-11-29")]
    pub invoice_date: NaiveDate,
    /// ISO 4217 currency code of every amount.
    #[schema(example = "EUR")]
    pub currency: String,
    /// One line per order line with something to invoice, in order.
    pub lines: Vec<InvoiceLineDto>,
    /// Sum of the lines' subtotals.
    pub amount_untaxed: Dec2,
    /// Sum of the lines' taxes.
    pub amount_tax: Dec2,
    /// amount_untaxed + amount_tax.
    pub amount_total: Dec2,
    /// What is still to be paid.
    pub amount_residual: Dec2,
    /// How much of it is paid.
    pub payment_state: InvoicePaymentState,
    /// On a credit note: the invoice it reverses; null for an invoice.
    pub reversed_invoice_id: Option<InvoiceId>,
    /// When the invoice was created (UTC).
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the invoice last changed: posted, cancelled or paid (UTC); its creation time until
    /// then. Set by the server.
    #[schema(example = "2026-11-30T14:05:00Z")]
    pub updated_at: DateTime<Utc>,
}
