use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::Dec2;
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, IfMatch, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{CustomerId, SaleLineId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use crate::domain::customers::{self, Customer, CustomerChanges, CustomerSort, NewCustomer, PrepaidHours};

/// Someone who buys.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDto {
    /// The customer's id, given by the server.
    pub id: CustomerId,
    /// Display name, never empty.
    #[schema(example = "Azure Interior")]
    pub name: String,
    /// Contact email, as given; null when none.
    #[schema(example = "info@azure.example")]
    pub email: Option<String>,
    /// When the customer was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the customer last changed (UTC); its creation time until then. Set by the server.
    #[schema(example = "2026-11-30T14:05:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Customer> for CustomerDto {
    fn from(c: Customer) -> Self {
        CustomerDto { id: c.id, name: c.name, email: c.email, created_at: c.created_at, updated_at: c.updated_at }
    }
}

/// A new customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// Required, non-empty.
    #[schema(example = "Azure Interior")]
    #[schema(max_length = 200)]
    pub name: String,
    /// Optional; checked loosely (`someone@domain.tld`).
    #[schema(example = "info@azure.example")]
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// Changes to a customer; absent fields stay, `null` clears the email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomer {
    /// New display name, non-empty; absent keeps the current one.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// New contact email; `null` clears it, absent keeps it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<String>)]
    #[schema(max_length = 254)]
    pub email: Option<Option<String>>,
}

/// Paging for the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// The order: `created_at`, `updated_at` or `name`, `-` for descending; default newest first.
    #[param(value_type = Option<CustomerSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One confirmed prepaid line of the customer, in hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrepaidLineDto {
    /// The confirmed prepaid order line.
    pub sale_line_id: SaleLineId,
    /// Name of the line's order.
    #[schema(example = "S00001")]
    pub order_name: String,
    /// Name of the product sold on the line.
    #[schema(example = "Support pack")]
    pub product_name: String,
    /// Ordered quantity in hours (a day is 8 hours).
    pub ordered_hours: Dec2,
    /// Hours logged on the line.
    pub delivered_hours: Dec2,
    /// Ordered minus delivered hours; negative when overrun.
    pub remaining_hours: Dec2,
}

/// The prepaid hours a customer has left.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrepaidHoursDto {
    /// The customer the hours belong to.
    pub customer_id: CustomerId,
    /// Sum of the lines' remaining hours (an overrun line counts negative).
    pub remaining_hours: Dec2,
    /// Oldest first.
    pub lines: Vec<PrepaidLineDto>,
}

impl From<PrepaidHours> for PrepaidHoursDto {
    fn from(p: PrepaidHours) -> Self {
        PrepaidHoursDto {
            customer_id: p.customer_id,
            remaining_hours: p.remaining_hours.into(),
            lines: p
                .lines
                .into_iter()
                .map(|l| PrepaidLineDto {
                    sale_line_id: l.sale_line_id,
                    order_name: l.order_name,
                    product_name: l.product_name,
                    ordered_hours: l.ordered_hours.into(),
                    delivered_hours: l.delivered_hours.into(),
                    remaining_hours: l.remaining_hours.into(),
                })
                .collect(),
        }
    }
}

/// Create a customer.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "customers", operation_id = "create_customer", request_body = CreateCustomer,
    responses((status = 201, body = CustomerDto), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/customers")]
pub async fn create_customer(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateCustomer>,
) -> Result<HttpResponse, ApiError> {
    let new = NewCustomer { name: body.0.name, email: body.0.email };
    let answer = idem
        .write(&ctx.db, move |c| {
            let c = customers::create(c, &caller, new)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/customers/{}", c.id), &CustomerDto::from(c))?)
        })
        .await?;
    Ok(answer.into())
}

/// List customers, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, customer (itself only), service.
#[utoipa::path(tag = "customers", operation_id = "list_customers", params(CustomerQuery),
    responses((status = 200, body = Page<CustomerDto>)))]
#[get("/customers")]
pub async fn list_customers(
    ctx: web::Data<Ctx>,
    caller: Caller,
    q: Query<CustomerQuery>,
) -> Result<HttpResponse, ApiError> {
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let list = ctx.db.run(move |c| customers::list(c, &caller, req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(CustomerDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a customer.
///
/// Roles: admin, sales, accounting, agent, customer (its own only; 404 for another), service.
#[utoipa::path(tag = "customers", operation_id = "get_customer", params(("id" = CustomerId, Path, description = "The customer's id.")),
    responses((status = 200, body = CustomerDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/customers/{id}")]
pub async fn get_customer(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<CustomerId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let c = ctx.db.run(move |c| customers::get(c, &caller, id)).await?;
    Ok(ok(CustomerDto::from(c)))
}

/// Change a customer.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "customers", operation_id = "update_customer", params(("id" = CustomerId, Path, description = "The customer's id.")), request_body = UpdateCustomer,
    responses((status = 200, body = CustomerDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[patch("/customers/{id}")]
pub async fn update_customer(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<CustomerId>,
    body: Body<UpdateCustomer>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = CustomerChanges { name: b.name, email: b.email };
    let expected = if_match.on(|c: &Customer| CustomerDto::from(c.clone()));
    let c = ctx.db.write(move |c| customers::update(c, &caller, id, changes, expected)).await?;
    Ok(ok(CustomerDto::from(c)))
}

/// The hours left on the customer's confirmed prepaid lines.
///
/// Roles: admin, sales, accounting, agent, customer (its own only; 404 for another), service.
#[utoipa::path(tag = "customers", operation_id = "get_customer_prepaid_hours", params(("id" = CustomerId, Path, description = "The customer's id.")),
    responses((status = 200, body = PrepaidHoursDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/customers/{id}/prepaid-hours")]
pub async fn prepaid_hours(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<CustomerId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = ctx.db.run(move |c| customers::prepaid_hours(c, &caller, id)).await?;
    Ok(ok(PrepaidHoursDto::from(p)))
}
