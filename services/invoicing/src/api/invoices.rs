use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, OptionalBody, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, InvoiceId, InvoiceLineId, OrderId, SaleLineId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use shared::{Date, Dec2};
use utoipa::{IntoParams, ToSchema};

use super::FLUSH_WAIT;
use crate::domain::invoices::{
    self, Invoice, InvoiceFilter, InvoiceLine, InvoiceSort, Kind, NewInvoice, NewLine, PaymentState, State,
};
use crate::domain::lifecycle::{self, CreditLine};

/// `invoice` or `credit_note`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = InvoiceKind)]
#[schema(example = "invoice")]
pub enum KindDto {
    Invoice,
    CreditNote,
}

/// `draft` (no number yet, still counts as invoiced), `posted` (numbered) or `cancelled`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = InvoiceState)]
#[schema(example = "posted")]
pub enum StateDto {
    Draft,
    Posted,
    Cancelled,
}

/// `not_paid`, `partial` or `paid`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = InvoicePaymentState)]
#[schema(example = "not_paid")]
pub enum PaymentStateDto {
    NotPaid,
    Partial,
    Paid,
}

impl From<Kind> for KindDto {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Invoice => KindDto::Invoice,
            Kind::CreditNote => KindDto::CreditNote,
        }
    }
}

impl From<KindDto> for Kind {
    fn from(k: KindDto) -> Self {
        match k {
            KindDto::Invoice => Kind::Invoice,
            KindDto::CreditNote => Kind::CreditNote,
        }
    }
}

impl From<State> for StateDto {
    fn from(s: State) -> Self {
        match s {
            State::Draft => StateDto::Draft,
            State::Posted => StateDto::Posted,
            State::Cancelled => StateDto::Cancelled,
        }
    }
}

impl From<StateDto> for State {
    fn from(s: StateDto) -> Self {
        match s {
            StateDto::Draft => State::Draft,
            StateDto::Posted => State::Posted,
            StateDto::Cancelled => State::Cancelled,
        }
    }
}

impl From<PaymentState> for PaymentStateDto {
    fn from(s: PaymentState) -> Self {
        match s {
            PaymentState::NotPaid => PaymentStateDto::NotPaid,
            PaymentState::Partial => PaymentStateDto::Partial,
            PaymentState::Paid => PaymentStateDto::Paid,
        }
    }
}

/// One line of an invoice or credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceLineDto {
    /// The invoice line's id, given by the server.
    pub id: InvoiceLineId,
    /// The sale order line this line bills (or, on a credit note, credits).
    pub sale_line_id: Option<SaleLineId>,
    /// Text shown on the invoice.
    #[schema(example = "Support hours (prepaid)")]
    pub description: String,
    /// In the line's uom.
    pub quantity: Dec2,
    /// Unit of measure of `quantity` (`unit`, `hour` or `day`).
    #[schema(example = "hour", value_type = shared::uom::Uom)]
    pub uom: String,
    /// Price of one `uom`, before discount and tax.
    pub unit_price: Dec2,
    /// Percent.
    pub discount: Dec2,
    /// Percent.
    pub tax_rate: Dec2,
    /// quantity × unit_price × (1 − discount/100), rounded half up to cents.
    pub price_subtotal: Dec2,
    /// price_subtotal × tax_rate/100, rounded half up to cents.
    pub price_tax: Dec2,
    /// price_subtotal + price_tax.
    pub price_total: Dec2,
    /// The line bills timesheets claimed for this invoice: credited whole or not at all, and
    /// cancelling or crediting it releases them.
    pub bills_timesheets: bool,
}

impl From<InvoiceLine> for InvoiceLineDto {
    fn from(l: InvoiceLine) -> Self {
        InvoiceLineDto {
            id: l.id,
            sale_line_id: l.sale_line_id,
            description: l.description,
            quantity: l.quantity.into(),
            uom: l.uom,
            unit_price: l.unit_price.into(),
            discount: l.discount.into(),
            tax_rate: l.tax_rate.into(),
            price_subtotal: l.price_subtotal.into(),
            price_tax: l.price_tax.into(),
            price_total: l.price_total.into(),
            bills_timesheets: l.bills_timesheets,
        }
    }
}

/// An invoice or a credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceDto {
    /// The invoice's id, given by the server (or chosen by the caller that created it).
    pub id: InvoiceId,
    /// Null while draft; `INV/2026/00001` once posted (credit notes `RINV/2026/00001`),
    /// gap-free per kind and year of `invoice_date`.
    #[schema(example = "INV/2026/00001")]
    pub number: Option<String>,
    /// An invoice, or a credit note reversing (part of) one.
    pub kind: KindDto,
    /// Where the invoice stands.
    pub state: StateDto,
    /// The customer billed.
    pub customer_id: CustomerId,
    /// The sales order the invoice bills, if any.
    pub sale_order_id: Option<OrderId>,
    /// The day of the invoice; its year picks the number sequence.
    #[schema(example = "2026-11-29")]
    pub invoice_date: NaiveDate,
    /// ISO 4217 currency code of every amount.
    #[schema(example = "EUR")]
    pub currency: String,
    /// The invoice's lines, in order.
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
    pub payment_state: PaymentStateDto,
    /// On a credit note: the invoice it reverses.
    pub reversed_invoice_id: Option<InvoiceId>,
    /// When the invoice was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the invoice last changed: posted, cancelled or paid (UTC); its creation time until
    /// then. Set by the server.
    #[schema(example = "2026-11-30T14:05:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Invoice> for InvoiceDto {
    fn from(i: Invoice) -> Self {
        InvoiceDto {
            id: i.id,
            number: i.number,
            kind: i.kind.into(),
            state: i.state.into(),
            customer_id: i.customer_id,
            sale_order_id: i.sale_order_id,
            invoice_date: i.invoice_date,
            currency: i.currency,
            lines: i.lines.into_iter().map(InvoiceLineDto::from).collect(),
            amount_untaxed: i.amount_untaxed.into(),
            amount_tax: i.amount_tax.into(),
            amount_total: i.amount_total.into(),
            amount_residual: i.amount_residual.into(),
            payment_state: i.payment_state.into(),
            reversed_invoice_id: i.reversed_invoice_id,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A line to invoice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceLine {
    /// The sale order line billed; its invoiced quantity follows this line.
    pub sale_line_id: Option<SaleLineId>,
    /// Text shown on the invoice; required.
    #[schema(example = "Support hours (prepaid)")]
    #[schema(max_length = 2000)]
    pub description: String,
    /// More than 0.
    pub quantity: Dec2,
    /// `unit`, `hour` or `day`; default `unit`.
    #[schema(example = "hour", value_type = Option<shared::uom::Uom>)]
    pub uom: Option<String>,
    /// Not negative.
    pub unit_price: Dec2,
    /// Percent, 0 to 100, default 0.
    pub discount: Option<Dec2>,
    /// Percent, not negative, default 0.
    pub tax_rate: Option<Dec2>,
    /// The line bills timesheets claimed for this invoice (needs `sale_line_id`); default false.
    #[serde(default)]
    pub bills_timesheets: bool,
}

/// A new draft invoice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoice {
    /// Optional id chosen by the caller; a repeat with the same id answers the same invoice.
    pub id: Option<InvoiceId>,
    /// The customer billed.
    pub customer_id: CustomerId,
    /// The sales order billed, if any.
    pub sale_order_id: Option<OrderId>,
    /// The invoice's date, 2000-01-01 to 2099-12-31; default today (UTC).
    #[schema(example = "2026-11-29")]
    pub invoice_date: Option<Date>,
    /// ISO 4217 code, default `EUR`.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// At least one, at most 200.
    #[schema(max_items = 200)]
    pub lines: Vec<CreateInvoiceLine>,
}

/// A quantity of one sale line to credit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteLine {
    /// A sale line billed on the invoice.
    pub sale_line_id: SaleLineId,
    /// More than 0, at most what remains uncredited of that line; a line that bills
    /// timesheets is credited whole or not at all.
    pub quantity: Dec2,
}

/// What to credit. No body (or no `lines`) credits all that is not credited yet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCreditNote {
    /// The quantities to credit per sale line (at most 200); absent credits all that is not
    /// credited yet.
    #[schema(max_items = 200)]
    pub lines: Option<Vec<CreditNoteLine>>,
}

/// Filters and paging for the invoice list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Only this customer's invoices.
    pub customer_id: Option<CustomerId>,
    /// Only invoices of this sales order.
    pub sale_order_id: Option<OrderId>,
    /// Only invoices in this state.
    pub state: Option<StateDto>,
    /// Only invoices, or only credit notes.
    pub kind: Option<KindDto>,
    /// The order: `created_at`, `updated_at` or `amount_total`, `-` for descending; default
    /// newest first.
    #[param(value_type = Option<InvoiceSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Create a draft invoice. Its lines count at once on their sale lines' invoiced quantity.
///
/// Roles: admin, accounting, service.
#[utoipa::path(tag = "invoices", operation_id = "create_invoice", request_body = CreateInvoice,
    responses((status = 201, body = InvoiceDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/invoices")]
#[tracing::instrument(skip_all)]
pub async fn create_invoice(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateInvoice>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let chosen = b.id;
    let new = NewInvoice {
        id: b.id,
        customer_id: b.customer_id,
        sale_order_id: b.sale_order_id,
        invoice_date: b.invoice_date.map(Date::day),
        currency: b.currency,
        lines: b.lines.into_iter().map(NewLine::from).collect(),
    };
    let creator = caller.clone();
    let written = idem
        .write(&ctx.db, move |c| {
            let i = invoices::create(c, &creator, new)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/invoices/{}", i.id), &InvoiceDto::from(i))?)
        })
        .await;
    let answer = match (written, chosen) {
        // A concurrent request (under another key) with the same id won the insert: answer its invoice.
        (Err(ApiError::Conflict { code: "conflict", .. }), Some(id)) => {
            let i = ctx.db.run(move |c| invoices::get(c, &caller, id)).await?;
            Answer::created(format!("/api/v1/invoices/{}", i.id), &InvoiceDto::from(i))?
        }
        (result, _) => result?,
    };
    ctx.outbox.flush(FLUSH_WAIT).await;
    Ok(answer.into())
}

impl From<CreateInvoiceLine> for NewLine {
    fn from(l: CreateInvoiceLine) -> Self {
        NewLine {
            sale_line_id: l.sale_line_id,
            description: l.description,
            quantity: l.quantity.0,
            uom: l.uom.unwrap_or_else(|| "unit".to_owned()),
            unit_price: l.unit_price.0,
            discount: l.discount.unwrap_or_default().0,
            tax_rate: l.tax_rate.unwrap_or_default().0,
            bills_timesheets: l.bills_timesheets,
        }
    }
}

/// List invoices and credit notes, newest first (or as `sort` says).
///
/// Roles: admin, accounting, sales, customer (its own only), service.
#[utoipa::path(tag = "invoices", operation_id = "list_invoices", params(InvoiceQuery),
    responses((status = 200, body = Page<InvoiceDto>)))]
#[get("/invoices")]
pub async fn list_invoices(
    ctx: web::Data<Ctx>,
    caller: Caller,
    q: Query<InvoiceQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = InvoiceFilter {
        customer_id: q.customer_id,
        sale_order_id: q.sale_order_id,
        state: q.state.map(Into::into),
        kind: q.kind.map(Into::into),
    };
    let list = ctx.db.run(move |c| invoices::list(c, &caller, &filter, req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(InvoiceDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get an invoice or credit note.
///
/// Roles: admin, accounting, sales, customer (its own only; 404 for another), service.
#[utoipa::path(tag = "invoices", operation_id = "get_invoice", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id.")),
    responses((status = 200, body = InvoiceDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}")]
pub async fn get_invoice(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let i = ctx.db.run(move |c| invoices::get(c, &caller, id)).await?;
    Ok(ok(InvoiceDto::from(i)))
}

/// Post a draft: it gets its number. Posting a credit note releases the timesheets billed on
/// the lines it credits (409 unless draft).
///
/// Roles: admin, accounting.
#[utoipa::path(tag = "invoices", operation_id = "post_invoice", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id.")),
    responses((status = 200, body = InvoiceDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/invoices/{id}/post")]
#[tracing::instrument(skip_all, fields(invoice = %id))]
pub async fn post_invoice(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let answer = idem
        .write(&ctx.db, move |c| Ok::<_, Error>(Answer::ok(&InvoiceDto::from(lifecycle::post(c, &caller, id)?))?))
        .await?;
    ctx.outbox.flush(FLUSH_WAIT).await;
    Ok(answer.into())
}

/// Cancel a draft, or a posted invoice with no payment (409 otherwise). Its quantities stop
/// counting as invoiced and the timesheets it billed are released.
///
/// Roles: admin, accounting, service.
#[utoipa::path(tag = "invoices", operation_id = "cancel_invoice", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id.")),
    responses((status = 200, body = InvoiceDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/invoices/{id}/cancel")]
#[tracing::instrument(skip_all, fields(invoice = %id))]
pub async fn cancel_invoice(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let answer = idem
        .write(&ctx.db, move |c| Ok::<_, Error>(Answer::ok(&InvoiceDto::from(lifecycle::cancel(c, &caller, id)?))?))
        .await?;
    ctx.outbox.flush(FLUSH_WAIT).await;
    Ok(answer.into())
}

/// Create a draft credit note for a posted invoice: for all of it that is not credited yet,
/// or for the given quantities per sale line (409 unless posted).
///
/// Roles: admin, accounting.
#[utoipa::path(tag = "invoices", operation_id = "create_credit_note", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id.")),
    request_body(content = Option<CreateCreditNote>),
    responses((status = 201, body = InvoiceDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/invoices/{id}/credit-notes")]
#[tracing::instrument(skip_all, fields(invoice = %id))]
pub async fn create_credit_note(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<InvoiceId>,
    body: OptionalBody<CreateCreditNote>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lines = body.0.and_then(|b| b.lines).map(|ls| {
        ls.into_iter().map(|l| CreditLine { sale_line_id: l.sale_line_id, quantity: l.quantity.0 }).collect()
    });
    let answer = idem
        .write(&ctx.db, move |c| {
            let note = lifecycle::credit(c, &caller, id, lines)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/invoices/{}", note.id), &InvoiceDto::from(note))?)
        })
        .await?;
    ctx.outbox.flush(FLUSH_WAIT).await;
    Ok(answer.into())
}
