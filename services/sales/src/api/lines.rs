use actix_web::{HttpResponse, get, patch, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::Dec2;
use shared::auth::Caller;
use shared::extract::{Body, IfMatch, Query};
use shared::ids::{CustomerId, OrderId, ProductId, ProjectId, SaleLineId, TaskId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use crate::domain::lines::{self, LineFilter, LineSort, LineView};
use crate::domain::totals::{self, Applied};
use crate::domain::{DeliveredMethod, InvoiceStatus, OrderState, ProductType, ServicePolicy, Uom};

/// A line of an order: what is sold, and how much of it is delivered and invoiced.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineDto {
    /// The line's id, given by the server.
    pub id: SaleLineId,
    /// The order the line belongs to.
    pub order_id: OrderId,
    /// The product sold.
    pub product_id: ProductId,
    /// Text shown on the order and its invoices; default the product's name.
    #[schema(example = "Support pack (hours)")]
    pub description: String,
    /// Ordered quantity, in `uom`.
    #[schema(example = "10.00")]
    pub quantity: Dec2,
    /// Unit of measure of the quantities of the line.
    pub uom: Uom,
    /// Price of one `uom`, before discount and tax.
    #[schema(example = "90.00")]
    pub unit_price: Dec2,
    /// Percent.
    #[schema(example = "10.00")]
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
    /// Delivered quantity in `uom`: logged hours converted once, rounded half up (13 hours
    /// on a `day` line is `"1.63"`), or set by hand on manual lines.
    #[schema(example = "1.63")]
    pub qty_delivered: Dec2,
    /// Where `qty_delivered` comes from: timesheets, set by hand, or nothing (goods).
    pub qty_delivered_method: DeliveredMethod,
    /// Hours logged on the line (the source of truth of `qty_delivered` for timesheet lines).
    #[schema(example = "13.00")]
    pub delivered_hours: Dec2,
    /// Invoiced quantity: invoices not cancelled (drafts included) minus credit notes.
    pub qty_invoiced: Dec2,
    /// 0 unless confirmed; ordered − invoiced for prepaid and goods, delivered − invoiced
    /// otherwise; may be negative.
    pub qty_to_invoice: Dec2,
    /// Whether the line has something to invoice.
    pub invoice_status: InvoiceStatus,
    /// The project of the line's task, or the new project the line created.
    pub project_id: Option<ProjectId>,
    /// The task (projects service) the line created or is linked to; time logged on it counts on the line.
    pub task_id: Option<TaskId>,
    /// Prepaid lines in a time uom only: ordered hours minus logged hours, exact; may be
    /// negative. Null otherwise.
    #[schema(example = "67.00")]
    pub remaining_hours: Option<Dec2>,
    /// A prepaid line delivered strictly beyond ordered × the product's upsell threshold.
    pub upsell_warning: bool,
    /// The order's customer.
    pub customer_id: CustomerId,
    /// Name of the line's order.
    #[schema(example = "S00001")]
    pub order_name: String,
    /// State of the line's order.
    pub order_state: OrderState,
    /// Type of the product sold.
    pub product_type: ProductType,
    /// How the service is invoiced; null for goods.
    pub service_policy: Option<ServicePolicy>,
    /// When the line was created (UTC), with its order or added to it; set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the line (its delivered or invoiced quantity, its task) last changed (UTC); its creation time until then. Set by the server.
    #[schema(example = "2026-11-30T14:05:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<LineView> for LineDto {
    fn from(v: LineView) -> Self {
        let l = &v.line;
        let state = v.order_state;
        LineDto {
            qty_delivered: l.qty_delivered().into(),
            qty_delivered_method: l.delivered_method(),
            qty_to_invoice: l.qty_to_invoice(state).into(),
            invoice_status: l.invoice_status(state),
            remaining_hours: l.remaining_hours().map(Into::into),
            upsell_warning: l.upsell_warning(),
            id: l.id,
            order_id: l.order_id,
            product_id: l.product_id,
            description: l.description.clone(),
            quantity: l.quantity.into(),
            uom: l.uom,
            unit_price: l.unit_price.into(),
            discount: l.discount.into(),
            tax_rate: l.tax_rate.into(),
            price_subtotal: l.price_subtotal.into(),
            price_tax: l.price_tax.into(),
            price_total: l.price_total.into(),
            delivered_hours: l.delivered_hours.into(),
            qty_invoiced: l.invoiced_qty.into(),
            project_id: l.project_id,
            task_id: l.task_id,
            customer_id: l.customer_id,
            product_type: l.product_type,
            service_policy: l.service_policy,
            order_name: v.order_name,
            order_state: state,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// Filters and paging for the line list (newest first).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LineQuery {
    /// Only lines of this customer's orders.
    pub customer_id: Option<CustomerId>,
    /// Only lines of this order.
    pub order_id: Option<OrderId>,
    /// The order: `created_at` or `updated_at`, `-` for descending; default newest first.
    #[param(value_type = Option<LineSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The delivered quantity of a manual line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLine {
    /// At least 0, in the line's uom.
    #[schema(example = "3.00")]
    pub qty_delivered: Dec2,
}

/// A line's logged hours as of a version (from projects).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TimesheetTotalDto {
    /// Total hours logged on the line.
    #[schema(example = "13.00")]
    pub hours: Dec2,
    /// Grows with every change; an older or equal version is ignored.
    #[schema(example = 3)]
    pub version: i64,
}

/// A line's invoiced quantity as of a version (from invoicing).
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvoicedTotalDto {
    /// Invoiced quantity in the line's uom.
    #[schema(example = "10.00")]
    pub quantity: Dec2,
    /// Grows with every change; an older or equal version is ignored.
    #[schema(example = 2)]
    pub version: i64,
}

/// Whether a total was applied, and the version the line holds now.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalAppliedDto {
    /// True when the total was newer than the one held and replaced it.
    pub applied: bool,
    /// The version the line holds now.
    #[schema(example = 3)]
    pub version: i64,
}

impl From<Applied> for TotalAppliedDto {
    fn from(a: Applied) -> Self {
        TotalAppliedDto { applied: a.applied, version: a.version }
    }
}

/// List order lines, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, customer (its own orders' only), service.
#[utoipa::path(tag = "order-lines", operation_id = "list_order_lines", params(LineQuery),
    responses((status = 200, body = Page<LineDto>)))]
#[get("/order-lines")]
pub async fn list_lines(ctx: web::Data<Ctx>, caller: Caller, q: Query<LineQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = LineFilter { customer_id: q.customer_id, order_id: q.order_id };
    let list = ctx.db.run(move |c| lines::list(c, &caller, &filter, req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(LineDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get an order line.
///
/// Roles: admin, sales, accounting, agent, customer (its own orders' only; 404 for another), service.
#[utoipa::path(tag = "order-lines", operation_id = "get_order_line", params(("id" = SaleLineId, Path, description = "The order line's id.")),
    responses((status = 200, body = LineDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/order-lines/{id}")]
pub async fn get_line(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<SaleLineId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let v = ctx.db.run(move |c| lines::get(c, &caller, id)).await?;
    Ok(ok(LineDto::from(v)))
}

/// Set the delivered quantity of a manual line of a confirmed order (409 for other lines).
///
/// Roles: admin, sales.
#[utoipa::path(tag = "order-lines", operation_id = "update_order_line", params(("id" = SaleLineId, Path, description = "The order line's id.")), request_body = UpdateLine,
    responses((status = 200, body = LineDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[patch("/order-lines/{id}")]
pub async fn update_line(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<SaleLineId>,
    body: Body<UpdateLine>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, qty) = (id.into_inner(), body.0.qty_delivered.0);
    let expected = if_match.on(|v: &LineView| LineDto::from(v.clone()));
    let v = ctx.db.write(move |c| lines::set_delivered(c, &caller, id, qty, expected)).await?;
    Ok(ok(LineDto::from(v)))
}

/// Receive the hours logged on a line (service to service, from projects). Applied only when
/// `version` is newer than the one held.
///
/// Roles: admin, service.
#[utoipa::path(tag = "internal", operation_id = "put_order_line_timesheet_total", params(("id" = SaleLineId, Path, description = "The order line's id.")),
    request_body = TimesheetTotalDto,
    responses((status = 200, body = TotalAppliedDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/order-lines/{id}/timesheet-total")]
pub async fn timesheet_total(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<SaleLineId>,
    body: Body<TimesheetTotalDto>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let a = ctx.db.write(move |c| totals::timesheet_total(c, &caller, id, b.hours.0, b.version)).await?;
    Ok(ok(TotalAppliedDto::from(a)))
}

/// Receive the quantity invoiced on a line (service to service, from invoicing). Applied only
/// when `version` is newer than the one held.
///
/// Roles: admin, service.
#[utoipa::path(tag = "internal", operation_id = "put_order_line_invoiced_total", params(("id" = SaleLineId, Path, description = "The order line's id.")),
    request_body = InvoicedTotalDto,
    responses((status = 200, body = TotalAppliedDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/order-lines/{id}/invoiced-total")]
pub async fn invoiced_total(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<SaleLineId>,
    body: Body<InvoicedTotalDto>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let a = ctx.db.write(move |c| totals::invoiced_total(c, &caller, id, b.quantity.0, b.version)).await?;
    Ok(ok(TotalAppliedDto::from(a)))
}
