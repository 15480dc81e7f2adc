use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::extract::{Body, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{InvoiceId, PaymentId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use shared::{Date, Dec2};
use utoipa::{IntoParams, ToSchema};

use super::invoices::PaymentStateDto;
use crate::domain::payments::{self, NewPayment, Payment, PaymentSort};

/// Money received against a posted invoice (or paid out on a credit note).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentDto {
    /// The payment's id, given by the server.
    pub id: PaymentId,
    /// The invoice (or credit note) paid.
    pub invoice_id: InvoiceId,
    /// Amount paid, in the invoice's currency; more than 0.
    pub amount: Dec2,
    /// The day the money was received (or paid out).
    #[schema(example = "2026-11-29")]
    pub date: NaiveDate,
    /// When the payment was recorded (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// Always `created_at`: a payment never changes once recorded (a mistake is reversed by a
    /// credit note, not edited).
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Payment> for PaymentDto {
    fn from(p: Payment) -> Self {
        PaymentDto {
            id: p.id,
            invoice_id: p.invoice_id,
            amount: p.amount.into(),
            date: p.date,
            created_at: p.created_at,
            updated_at: p.created_at,
        }
    }
}

/// A recorded payment, with what it left due on its invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRecorded {
    #[serde(flatten)]
    pub payment: PaymentDto,
    /// The invoice's residual after this payment.
    pub invoice_amount_residual: Dec2,
    /// The invoice's payment state after this payment.
    pub invoice_payment_state: PaymentStateDto,
}

/// Paging for an invoice's payments.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// The order: `created_at`, `amount` or `date`, `-` for descending; default newest first.
    #[param(value_type = Option<PaymentSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A payment to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayment {
    /// More than 0, at most the invoice's `amount_residual`.
    pub amount: Dec2,
    /// The day the money was received, 2000-01-01 to 2099-12-31; default today (UTC).
    #[schema(example = "2026-11-29")]
    pub date: Option<Date>,
}

/// Record a payment on a posted invoice (409 unless posted; 422 above the residual).
///
/// Roles: admin, accounting.
#[utoipa::path(tag = "payments", operation_id = "create_payment", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id.")), request_body = CreatePayment,
    responses((status = 201, body = PaymentRecorded), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/invoices/{id}/payments")]
#[tracing::instrument(skip_all, fields(invoice = %id))]
pub async fn create_payment(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<InvoiceId>,
    body: Body<CreatePayment>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let new = NewPayment { amount: b.amount.0, date: b.date.map(Date::day) };
    let answer = idem
        .write(&ctx.db, move |c| {
            let (p, residual, state) = payments::pay(c, &caller, id, new)?;
            let location = format!("/api/v1/invoices/{id}/payments/{}", p.id);
            let recorded = PaymentRecorded {
                payment: p.into(),
                invoice_amount_residual: residual.into(),
                invoice_payment_state: state.into(),
            };
            Ok::<_, shared::error::Error>(Answer::created(location, &recorded)?)
        })
        .await?;
    Ok(answer.into())
}

/// List an invoice's payments, newest first (or as `sort` says).
///
/// Roles: admin, accounting, sales, customer (its own invoices' only; 404 for another), service.
#[utoipa::path(tag = "payments", operation_id = "list_payments", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id."), PaymentQuery),
    responses((status = 200, body = Page<PaymentDto>), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}/payments")]
pub async fn list_payments(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<InvoiceId>,
    q: Query<PaymentQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, q) = (id.into_inner(), q.into_inner());
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let list = ctx.db.run(move |c| payments::list(c, &caller, id, req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(PaymentDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get one payment of an invoice.
///
/// Roles: admin, accounting, sales, customer (its own invoices' only; 404 for another), service.
#[utoipa::path(tag = "payments", operation_id = "get_payment", params(("id" = InvoiceId, Path, description = "The invoice's (or credit note's) id."), ("payment_id" = PaymentId, Path, description = "The payment's id; it must be one of the invoice's.")),
    responses((status = 200, body = PaymentDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}/payments/{payment_id}")]
pub async fn get_payment(
    ctx: web::Data<Ctx>,
    caller: Caller,
    path: web::Path<(InvoiceId, PaymentId)>,
) -> Result<HttpResponse, ApiError> {
    let (invoice, id) = path.into_inner();
    let p = ctx.db.run(move |c| payments::get(c, &caller, invoice, id)).await?;
    Ok(ok(PaymentDto::from(p)))
}
