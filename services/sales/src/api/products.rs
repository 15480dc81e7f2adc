use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shared::Dec2;
use shared::auth::Caller;
use shared::error::Error;
use shared::extract::{Body, IfMatch, NoParams, Query};
use shared::idempotency::{Answer, Idempotency};
use shared::ids::{ProductId, ProjectId};
use shared::page::{Limit, ListRequest, Page};
use shared::problem::{ApiError, Problem};
use shared::respond::ok;
use shared::server::Ctx;
use utoipa::{IntoParams, ToSchema};

use super::query_choice;
use crate::domain::products::{self, Product, ProductChanges, ProductFilter, ProductSort, ProductSpec};
use crate::domain::{ProductType, ServicePolicy, ServiceTracking, Uom, UomCategory};

/// A unit of measure.
#[derive(Debug, Serialize, ToSchema)]
pub struct UomDto {
    /// The unit's code, as used in `uom` fields.
    pub code: Uom,
    /// Its category; units convert into each other only within one.
    pub category: UomCategory,
    /// Hours in one unit, for time units (a working day is 8 hours); null for `unit`.
    #[schema(example = "8.00")]
    pub hours: Option<Dec2>,
}

/// Something to sell.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDto {
    /// The product's id, given by the server.
    pub id: ProductId,
    /// Display name; the default description of its order lines.
    #[schema(example = "Support pack (hours)")]
    pub name: String,
    /// `service` or `goods`.
    #[serde(rename = "type")]
    pub product_type: ProductType,
    /// The unit it is sold in.
    pub uom: Uom,
    /// Price of one `uom`.
    #[schema(example = "90.00")]
    pub list_price: Dec2,
    /// Percent.
    #[schema(example = "21.00")]
    pub tax_rate: Dec2,
    /// Services only; null for goods.
    pub service_policy: Option<ServicePolicy>,
    /// What a confirmed order line creates in projects; `none` for goods.
    pub service_tracking: ServiceTracking,
    /// The project `task_in_project` lines get their tasks in.
    pub project_id: Option<ProjectId>,
    /// Percent of the ordered quantity that a prepaid line may deliver before
    /// `upsell_warning` is raised.
    #[schema(example = "100.00")]
    pub upsell_threshold: Dec2,
    /// When the product was created (UTC); set by the server.
    #[schema(example = "2026-11-29T09:30:00Z")]
    pub created_at: DateTime<Utc>,
    /// When the product last changed (UTC); its creation time until then. Set by the server.
    #[schema(example = "2026-11-30T14:05:00Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<Product> for ProductDto {
    fn from(p: Product) -> Self {
        ProductDto {
            id: p.id,
            name: p.name,
            product_type: p.product_type,
            uom: p.uom,
            list_price: p.list_price.into(),
            tax_rate: p.tax_rate.into(),
            service_policy: p.service_policy,
            service_tracking: p.service_tracking,
            project_id: p.project_id,
            upsell_threshold: p.upsell_threshold.into(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A new product.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// Display name, required and non-empty.
    #[schema(example = "Support pack (hours)")]
    #[schema(max_length = 200)]
    pub name: String,
    /// `service` or `goods`.
    #[serde(rename = "type")]
    #[schema(value_type = ProductType)]
    pub product_type: String,
    /// `unit`, `hour` or `day`.
    #[schema(value_type = Uom)]
    pub uom: String,
    /// At least 0, at most 2 decimals.
    pub list_price: Dec2,
    /// Percent, 0 to 100; default 0.
    pub tax_rate: Option<Dec2>,
    /// Services only; default `prepaid` for a time uom, else `manual`. `prepaid` and
    /// `timesheet` need a time uom.
    #[schema(value_type = Option<ServicePolicy>)]
    pub service_policy: Option<String>,
    /// Services only; default `none`.
    #[schema(value_type = Option<ServiceTracking>)]
    pub service_tracking: Option<String>,
    /// Required with `task_in_project` (an existing project), forbidden otherwise.
    pub project_id: Option<ProjectId>,
    /// Percent, more than 0; default 100.
    pub upsell_threshold: Option<Dec2>,
}

/// Changes to a product; absent fields stay, `null` clears. Lines already ordered keep what
/// they were sold with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    /// New display name, non-empty; absent keeps it.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// New type (`service` or `goods`); absent keeps it.
    #[serde(rename = "type")]
    #[schema(value_type = Option<ProductType>)]
    pub product_type: Option<String>,
    /// New unit of measure; absent keeps it.
    #[schema(value_type = Option<Uom>)]
    pub uom: Option<String>,
    /// New price of one `uom`, at least 0; absent keeps it.
    pub list_price: Option<Dec2>,
    /// New tax rate in percent, 0 to 100; absent keeps it.
    pub tax_rate: Option<Dec2>,
    /// New invoicing policy (services only); `null` clears it, absent keeps it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<ServicePolicy>)]
    pub service_policy: Option<Option<String>>,
    /// What confirmed lines create in projects; absent keeps it.
    #[schema(value_type = Option<ServiceTracking>)]
    pub service_tracking: Option<String>,
    /// The project `task_in_project` lines get their tasks in; `null` clears it.
    #[serde(default, deserialize_with = "shared::error::patch")]
    #[schema(value_type = Option<ProjectId>)]
    pub project_id: Option<Option<ProjectId>>,
    /// New upsell threshold in percent, more than 0; absent keeps it.
    pub upsell_threshold: Option<Dec2>,
}

/// Filters and paging for the product list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// `service` or `goods`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    #[param(example = "service", value_type = Option<ProductType>)]
    pub product_type: Option<String>,
    /// The order: `created_at`, `updated_at` or `name`, `-` for descending; default newest first.
    #[param(value_type = Option<ProductSort>, example = "-created_at")]
    pub sort: Option<String>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<Limit>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The units of measure.
#[derive(Debug, Serialize, ToSchema)]
pub struct UomList {
    /// The units: `unit`, `hour` and `day`.
    pub items: Vec<UomDto>,
    /// Always null: the list is short.
    pub next_cursor: Option<String>,
}

/// List the units of measure: `unit`, `hour` (1 hour) and `day` (8 hours).
///
/// Roles: any (admin, sales, accounting, agent, customer, service).
#[utoipa::path(tag = "products", operation_id = "list_uoms", responses((status = 200, body = UomList)))]
#[get("/uoms")]
pub async fn list_uoms(_: Query<NoParams>) -> HttpResponse {
    let items = Uom::ALL
        .iter()
        .map(|u| UomDto { code: *u, category: u.category(), hours: u.is_time().then(|| u.hours().into()) })
        .collect();
    ok(UomList { items, next_cursor: None })
}

/// Create a product.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "products", operation_id = "create_product", request_body = CreateProduct,
    responses((status = 201, body = ProductDto), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "projects could not say whether `project_id` exists", body = Problem, content_type = "application/problem+json")))]
#[post("/products")]
pub async fn create_product(
    ctx: web::Data<Ctx>,
    caller: Caller,
    idem: Idempotency,
    body: Body<CreateProduct>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let spec = ProductSpec {
        name: b.name,
        product_type: b.product_type,
        uom: b.uom,
        list_price: b.list_price.0,
        tax_rate: b.tax_rate.map(|d| d.0),
        service_policy: b.service_policy,
        service_tracking: b.service_tracking,
        project_id: b.project_id,
        upsell_threshold: b.upsell_threshold.map(|d| d.0),
    };
    let product = products::prepare(&ctx, &caller, spec).await?;
    let answer = idem
        .write(&ctx.db, move |c| {
            let p = products::insert(c, product)?;
            Ok::<_, Error>(Answer::created(format!("/api/v1/products/{}", p.id), &ProductDto::from(p))?)
        })
        .await?;
    Ok(answer.into())
}

/// List products, newest first (or as `sort` says).
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "products", operation_id = "list_products", params(ProductQuery),
    responses((status = 200, body = Page<ProductDto>)))]
#[get("/products")]
pub async fn list_products(
    ctx: web::Data<Ctx>,
    caller: Caller,
    q: Query<ProductQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let req = ListRequest::parse(q.limit, q.cursor.as_deref(), q.sort.as_deref())?;
    let filter = ProductFilter {
        product_type: query_choice("type", q.product_type.as_deref(), ProductType::parse, ProductType::choices())?,
    };
    let list = ctx.db.run(move |c| products::list(c, &caller, &filter, req)).await?;
    Ok(ok(Page { items: list.items.into_iter().map(ProductDto::from).collect(), next_cursor: list.next_cursor }))
}

/// Get a product.
///
/// Roles: admin, sales, accounting, agent, service.
#[utoipa::path(tag = "products", operation_id = "get_product", params(("id" = ProductId, Path, description = "The product's id.")),
    responses((status = 200, body = ProductDto), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/products/{id}")]
pub async fn get_product(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<ProductId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let p = ctx.db.run(move |c| products::get(c, &caller, id)).await?;
    Ok(ok(ProductDto::from(p)))
}

/// Change a product.
///
/// Roles: admin, sales.
#[utoipa::path(tag = "products", operation_id = "update_product", params(("id" = ProductId, Path, description = "The product's id.")), request_body = UpdateProduct,
    responses((status = 200, body = ProductDto), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
#[patch("/products/{id}")]
pub async fn update_product(
    ctx: web::Data<Ctx>,
    caller: Caller,
    id: web::Path<ProductId>,
    body: Body<UpdateProduct>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.0);
    let changes = ProductChanges {
        name: b.name,
        product_type: b.product_type,
        uom: b.uom,
        list_price: b.list_price.map(|d| d.0),
        tax_rate: b.tax_rate.map(|d| d.0),
        service_policy: b.service_policy,
        service_tracking: b.service_tracking,
        project_id: b.project_id,
        upsell_threshold: b.upsell_threshold.map(|d| d.0),
    };
    let expected = if_match.on(|p: &Product| ProductDto::from(p.clone()));
    let p = products::update(&ctx, &caller, id, changes, expected).await?;
    Ok(ok(ProductDto::from(p)))
}
