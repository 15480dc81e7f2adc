use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, OptionalBody, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, OrderId, ProductId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use shared::{Date, Dec2};
use utoipa::{IntoParams, ToSchema};

use super::invoices::InvoiceDto;
use super::lines::LineDto;
use super::query_choice;
use crate::domain::billing::{self, Period};
use crate::domain::orders::{self, NewLine, NewOrder, OrderFilter, OrderSort, OrderWithLines};
use crate::domain::{InvoiceStatus, OrderState, Uom};

/// A sales order (a quotation while `draft`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDto {
    /// The order's id, given by the server.
    pub id: OrderId,
    /// `S00001`, `S00002`, … gap-free per database.
    #[schema(example = "S00001")]
    pub name: String,
    /// The customer who orders.
    pub customer_id: CustomerId,
    /// Where the order stands; only `sale` orders are delivered and invoiced.
    pub state: OrderState,
    /// Summary of the lines' invoice statuses.
    pub invoice_status: InvoiceStatus,
    /// In order.
    pub lines: Vec<LineDto>,
    /// Sum of the lines' subtotals.
    #[schema(example = "810.00")]
    pub amount_untaxed: Dec2,
    /// Sum of the lines' taxes.
    #[schema(example = "170.10")]
    pub amount_tax: Dec2,
    /// amount_untaxed + amount_tax.
    #[schema(example = "980.10")]
    pub amount_total: Dec2,
    /// When the order was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the order (its state, amounts or invoice status) last changed (UTC); its creation time until then. Set by the server.
    #[schema(example = "2026-11-30T14:05:00Z")]
    pub updated_at: DateTime<Utc>,
    /// When the order was confirmed (UTC); null until then.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub confirmed_at: Option<DateTime<Utc>>,
}

impl From<OrderWithLines> for OrderDto {
    fn from(o: OrderWithLines) -> Self {
        let lines = o.line_views().into_iter().map(LineDto::from).collect();
        let o = o.order;
        OrderDto {
            id: o.id,
            name: o.name,
            customer_id: o.customer_id,
            state: o.state,
            invoice_status: o.invoice_status,
            lines,
            amount_untaxed: o.amount_untaxed.into(),
            amount_tax: o.amount_tax.into(),
            amount_total: o.amount_total.into(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            confirmed_at: o.confirmed_at,
        }
    }
}

/// A line to order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLine {
    /// The product to sell; it must exist.
    pub product_id: ProductId,
    /// More than 0, in `uom`.
    #[schema(example = "10.00")]
    pub quantity: Dec2,
    /// Default the product's uom; must be of the same category (`hour` and `day` convert).
    #[schema(value_type = Option<Uom>)]
    pub uom: Option<String>,
    /// Default the product's list price converted to `uom` (a day is 8 hours).
    pub unit_price: Option<Dec2>,
    /// Percent, 0 to 100; default 0.
    pub discount: Option<Dec2>,
    /// Default the product's name.
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

impl From<CreateLine> for NewLine {
    fn from(l: CreateLine) -> Self {
        NewLine {
            product_id: l.product_id,
            quantity: l.quantity.0,
            uom: l.uom,
            unit_price: l.unit_price.map(|d| d.0),
            discount: l.discount.map(|d| d.0),
            description: l.description,
        }
    }
}

/// A new draft order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// The customer who orders; it must exist.
    pub customer_id: CustomerId,
    /// The order's lines, in order; default none (add lines later).
    #[serde(default)]
    #[schema(max_items = 200)]
    pub lines: Vec<CreateLine>,
}

/// Filters and paging for the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Only this customer's orders.
    pub customer_id: Option<CustomerId>,
    /// `draft`, `sale` or `cancel`.
    #[param(example = "sale", value_type = Option<OrderState>)]
    pub state: Option<String>,
    /// `no`, `to_invoice`, `invoiced` or `upselling`.
    #[param(example = "to_invoice", value_type = Option<InvoiceStatus>)]
    pub invoice_status: Option<String>,
    /// The order: `created_at`, `updated_at`, `name` (the order number) or `amount_total`, `-`
    /// for descending; default newest first.
    #[param(value_type = Option<OrderSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Optional limits of an invoice: `timesheet` lines bill only the unbilled time logged in
/// this period (both days included).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceOrder {
    /// First day of the period (included), 2000-01-01 to 2099-12-31; default no lower bound.
    #[schema(example = "2026-11-01")]
    pub timesheets_from: Option<Date>,
    /// Last day of the period (included), 2000-01-01 to 2099-12-31; default no upper bound.
    #[schema(example = "2026-11-30")]
    pub timesheets_to: Option<Date>,
}

/// Create a draft order.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "orders", operation_id = "create_order", request_body = CreateOrder,
    responses((status = 201, body = OrderDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/orders")]
pub async fn create_order(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateOrder>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let new = NewOrder { customer_id: b.customer_id, lines: b.lines.into_iter().map(NewLine::from).collect() };
    let answer = idem
        .write(&ctx.db, move |c| {
            let o = orders::create(c, &caller, new)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/orders/{}", o.order.id), &OrderDto::from(o))?)
        })
        .await?;
    Ok(answer.into())
}

/// List orders, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, customer (its own only), service.
#[utoipa::path(tag = "orders", operation_id = "list_orders", params(OrderQuery), responses((status = 200, body = Page<OrderDto>)))]
#[get("/orders")]
pub async fn list_orders(ctx: web::Data<Ctx>, caller: Caller, q: Query<OrderQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = OrderFilter {
        customer_id: q.customer_id,
        state: query_choice("state", q.state.as_deref(), OrderState::parse, OrderState::choices())?,
        invoice_status: query_choice(
            "invoice_status",
            q.invoice_status.as_deref(),
            InvoiceStatus::parse,
            InvoiceStatus::choices(),
        )?,
    };
    let list = ctx.db.run(move |c| orders::list(c, &caller, &filter, req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(OrderDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get an order with its lines.
///
/// Roles: admin, sales, accounting, agent, customer (its own only; 404 for another), service.
#[utoipa::path(tag = "orders", operation_id = "get_order", params(("id" = OrderId, Path, description = "The order's id.")),
    responses((status = 200, body = OrderDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/orders/{id}")]
pub async fn get_order(ctx: web::Data<Ctx>, caller: Caller, id: web::Path<OrderId>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let o = ctx.db.run(move |c| orders::get(c, &caller, id)).await?;
    Ok(ok(OrderDto::from(o)))
}

/// Add a line to a draft or confirmed order; on a confirmed order the line gets its task or
/// project at once.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "orders", operation_id = "add_order_line", params(("id" = OrderId, Path, description = "The order's id.")), request_body = CreateLine,
    responses((status = 201, body = LineDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/orders/{id}/lines")]
pub async fn add_line(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<OrderId>,
    body: Body<CreateLine>,
) -> Result<HttpResponse, ApiError> {
    let (id, line) = (id.into_inner(), NewLine::from(body.0));
    let (answer, added) = idem
        .write_keeping(&ctx.db, move |c| {
            let v = orders::add_line_for(c, &caller, id, line)?;
            let answer = Answer::created(format!("/api/v1/order-lines/{}", v.line.id), &LineDto::from(v.clone()))?;
            Ok::<_, Error>((answer, v))
        })
        .await?;
    let Some(v) = added else { return Ok(answer.into()) };
    // The answer stored with the change shows the line as committed; once its task exists the
    // answer (and what a repeat gets) shows it too.
    let v = orders::line_with_task(&ctx, v).await?;
    let answer = Answer::created(format!("/api/v1/order-lines/{}", v.line.id), &LineDto::from(v))?;
    idem.remember(&ctx.db, &answer).await;
    Ok(answer.into())
}

/// Confirm a draft order: it becomes `sale`, and the tasks and projects its lines' products
/// ask for are created in projects and linked to the lines (shortly after, if projects is
/// slow or down).
///
/// Roles: admin, sales.
#[utoipa::path(tag = "orders", operation_id = "confirm_order", params(("id" = OrderId, Path, description = "The order's id.")),
    responses((status = 200, body = OrderDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not a draft (`order_not_draft`)", body = Problem, content_type = "application/problem+json")))]
#[post("/orders/{id}/confirm")]
pub async fn confirm_order(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<OrderId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (answer, confirmed) = idem
        .write_keeping(&ctx.db, move |c| {
            let o = orders::confirm(c, &caller, id)?;
            Ok::<_, Error>((Answer::ok(&OrderDto::from(o.clone()))?, o))
        })
        .await?;
    let Some(o) = confirmed else { return Ok(answer.into()) };
    let o = orders::with_tasks(&ctx, &o).await?;
    let answer = Answer::ok(&OrderDto::from(o))?;
    idem.remember(&ctx.db, &answer).await;
    Ok(answer.into())
}

/// Cancel an order; its draft invoices are cancelled, its tasks and projects stay linked.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "orders", operation_id = "cancel_order", params(("id" = OrderId, Path, description = "The order's id.")),
    responses((status = 200, body = OrderDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already cancelled, or a posted invoice stands that no credit note reverses", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")))]
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<OrderId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    billing::prepare_cancel(&ctx, &caller, id).await?;
    let answer =
        idem.write(&ctx.db, move |c| Ok::<_, Error>(Answer::ok(&OrderDto::from(billing::cancel(c, id)?))?)).await?;
    Ok(answer.into())
}

/// Invoice a confirmed order: one draft invoice in the invoicing service for every line with
/// something to invoice; answers that invoice, as invoicing does.
///
/// Roles: admin, sales, accounting.
#[utoipa::path(tag = "orders", operation_id = "create_order_invoice", params(("id" = OrderId, Path, description = "The order's id.")), request_body(content = Option<InvoiceOrder>),
    responses((status = 201, description = "the invoice, as the invoicing service shows it", body = InvoiceDto),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not confirmed, or nothing to invoice", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")))]
#[post("/orders/{id}/invoices")]
pub async fn invoice_order(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    id: web::Path<OrderId>,
    body: OptionalBody<InvoiceOrder>,
) -> Result<HttpResponse, ApiError> {
    let period = body
        .0
        .map(|b| Period { from: b.timesheets_from.map(Date::day), to: b.timesheets_to.map(Date::day) })
        .unwrap_or_default();
    let inv = billing::invoice(&ctx, &caller, id.into_inner(), period).await?;
    // Read through the documented shape, so the answer is exactly what the document says.
    let invoice: InvoiceDto = serde_json::from_value(inv.body)
        .map_err(|e| ApiError::Internal(format!("invoicing answered an invoice sales cannot read: {e}")))?;
    // The invoice is invoicing's, made under a key of its own id: remembering the answer here
    // only spares a repeat the work.
    let answer = Answer::created(inv.location, &invoice)?;
    idem.remember(&ctx.db, &answer).await;
    Ok(answer.into())
}
