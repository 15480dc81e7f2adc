use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use shared::auth::Caller;
use shared::config::Service;
use shared::db::DbConn;
use shared::error::Precondition;
use shared::ids::{ProductId, ProjectId};
use shared::page::{Key, ListRequest, Page};
use shared::server::Ctx;

use super::{
    Checks, Error, ProductType, Result, ServicePolicy, ServiceTracking, Uom, access, check_amount, check_text,
    parse_choice,
};
use crate::store;

#[derive(Debug, Clone)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub product_type: ProductType,
    pub uom: Uom,
    pub list_price: Decimal,
    pub tax_rate: Decimal,
    /// Services only.
    pub service_policy: Option<ServicePolicy>,
    pub service_tracking: ServiceTracking,
    /// The project a `task_in_project` product's tasks go to.
    pub project_id: Option<ProjectId>,
    pub upsell_threshold: Decimal,
    pub created_at: DateTime<Utc>,
    /// When it last changed (its creation at first).
    pub updated_at: DateTime<Utc>,
}

impl Product {
    /// The list price converted to another uom of the same category (a day is 8 hours).
    pub fn price_in(&self, uom: Uom) -> Decimal {
        if uom == self.uom {
            self.list_price
        } else {
            shared::decimal::round_half_up(self.list_price / self.uom.hours() * uom.hours(), 2)
        }
    }
}

/// A product as asked for, before any rule is checked; enum values are still text so that a
/// wrong one is a 422 naming the field.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    pub name: String,
    pub product_type: String,
    pub uom: String,
    pub list_price: Decimal,
    pub tax_rate: Option<Decimal>,
    pub service_policy: Option<String>,
    pub service_tracking: Option<String>,
    pub project_id: Option<ProjectId>,
    pub upsell_threshold: Option<Decimal>,
}

#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub product_type: Option<String>,
    pub uom: Option<String>,
    pub list_price: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
    pub service_policy: Option<Option<String>>,
    pub service_tracking: Option<String>,
    pub project_id: Option<Option<ProjectId>>,
    pub upsell_threshold: Option<Decimal>,
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub product_type: Option<ProductType>,
}

/// Checks every rule of a product; answers the product it describes (with a fresh id).
fn validate(spec: ProductSpec) -> Result<Product> {
    let now = shared::db::now_utc();
    let mut checks = Checks::new();
    check_text(&mut checks, "name", &spec.name, 200);
    let product_type =
        parse_choice(&mut checks, "type", &spec.product_type, ProductType::parse, ProductType::choices());
    let uom = parse_choice(&mut checks, "uom", &spec.uom, Uom::parse, Uom::choices());
    check_amount(&mut checks, "list_price", spec.list_price, false, None);
    let tax_rate = spec.tax_rate.unwrap_or(Decimal::ZERO);
    check_amount(&mut checks, "tax_rate", tax_rate, false, Some(Decimal::ONE_HUNDRED));
    let upsell_threshold = spec.upsell_threshold.unwrap_or(Decimal::ONE_HUNDRED);
    check_amount(&mut checks, "upsell_threshold", upsell_threshold, true, Some(Decimal::from(10_000)));
    let policy = spec
        .service_policy
        .as_deref()
        .and_then(|p| parse_choice(&mut checks, "service_policy", p, ServicePolicy::parse, ServicePolicy::choices()));
    let tracking = spec.service_tracking.as_deref().and_then(|t| {
        parse_choice(&mut checks, "service_tracking", t, ServiceTracking::parse, ServiceTracking::choices())
    });
    let mut service_policy = None;
    let mut service_tracking = ServiceTracking::None;
    match (product_type, uom) {
        (Some(ProductType::Goods), _) => {
            if spec.service_policy.is_some() {
                checks.push("service_policy", "is for services only");
            }
            if tracking.is_some_and(|t| t != ServiceTracking::None) {
                checks.push("service_tracking", "is for services only");
            }
            if spec.project_id.is_some() {
                checks.push("project_id", "is for services with service_tracking task_in_project only");
            }
        }
        (Some(ProductType::Service), Some(uom)) => {
            let p = policy.unwrap_or(if uom.is_time() { ServicePolicy::Prepaid } else { ServicePolicy::Manual });
            if matches!(p, ServicePolicy::Prepaid | ServicePolicy::Timesheet) && !uom.is_time() {
                checks.push("uom", format!("must be a time uom (hour or day) for service_policy {p}"));
            }
            service_policy = Some(p);
            service_tracking = tracking.unwrap_or(ServiceTracking::None);
            match (service_tracking, spec.project_id) {
                (ServiceTracking::TaskInProject, None) => {
                    checks.push("project_id", "is required for service_tracking task_in_project")
                }
                (ServiceTracking::TaskInProject, Some(_)) | (_, None) => {}
                (_, Some(_)) => checks.push("project_id", "is allowed only with service_tracking task_in_project"),
            }
        }
        _ => {}
    }
    checks.finish()?;
    let (Some(product_type), Some(uom)) = (product_type, uom) else {
        return Err(Error::invalid("type", "is invalid"));
    };
    Ok(Product {
        id: ProductId::new(),
        name: spec.name.trim().to_owned(),
        product_type,
        uom,
        list_price: spec.list_price,
        tax_rate,
        service_policy,
        service_tracking,
        project_id: spec.project_id,
        upsell_threshold,
        created_at: now,
        updated_at: now,
    })
}

/// A project named by a product must exist in projects: 422 when it does not, 503 when
/// projects cannot say.
async fn verify_project(ctx: &Ctx, id: ProjectId) -> Result<()> {
    match ctx.peers.get::<serde_json::Value>(Service::Projects, &format!("/api/v1/projects/{id}")).await {
        Ok(_) => Ok(()),
        Err(e) if e.rejected_status() == Some(404) => Err(Error::unknown("project_id", "project", id.0)),
        Err(e) => Err(Error::Peer(e)),
    }
}

/// Checks a new product (asking projects whether its project exists) without writing it:
/// [`insert`] does, in the transaction that also keeps the request's answer.
pub async fn prepare(ctx: &Ctx, caller: &Caller, spec: ProductSpec) -> Result<Product> {
    access::may_sell(caller)?;
    let product = validate(spec)?;
    if let Some(p) = product.project_id {
        verify_project(ctx, p).await?;
    }
    Ok(product)
}

/// Writes a prepared product, in the caller's transaction.
pub fn insert(conn: &mut DbConn, product: Product) -> Result<Product> {
    store::products::insert(conn, &product)?;
    Ok(product)
}

pub fn get(conn: &mut DbConn, caller: &Caller, id: ProductId) -> Result<Product> {
    access::may_read_products(caller)?;
    find(conn, id)
}

fn find(conn: &mut DbConn, id: ProductId) -> Result<Product> {
    store::products::find(conn, id)?.ok_or_else(|| Error::not_found("product", id))
}

/// Changes a product; the result must satisfy every rule a new product does. Lines already
/// ordered keep what they were sold with.
pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    id: ProductId,
    changes: ProductChanges,
    expected: Precondition<Product>,
) -> Result<Product> {
    access::may_sell(caller)?;
    let old = ctx.db.run(move |c| find(c, id)).await?;
    expected.check(&old)?;
    let product_type = changes.product_type.clone().unwrap_or_else(|| old.product_type.as_str().to_owned());
    let to_goods = product_type == ProductType::Goods.as_str();
    let spec = ProductSpec {
        name: changes.name.unwrap_or_else(|| old.name.clone()),
        uom: changes.uom.unwrap_or_else(|| old.uom.as_str().to_owned()),
        list_price: changes.list_price.unwrap_or(old.list_price),
        tax_rate: Some(changes.tax_rate.unwrap_or(old.tax_rate)),
        // A product turned into goods sheds its service settings unless the change names them.
        service_policy: match changes.service_policy {
            Some(p) => p,
            None if to_goods => None,
            None => old.service_policy.map(|p| p.as_str().to_owned()),
        },
        service_tracking: match changes.service_tracking {
            Some(t) => Some(t),
            None if to_goods => None,
            None => Some(old.service_tracking.as_str().to_owned()),
        },
        project_id: match changes.project_id {
            Some(p) => p,
            None if to_goods => None,
            None => old.project_id,
        },
        upsell_threshold: Some(changes.upsell_threshold.unwrap_or(old.upsell_threshold)),
        product_type,
    };
    let mut product = validate(spec)?;
    product.id = old.id;
    product.created_at = old.created_at;
    product.updated_at = shared::db::now_utc();
    if let Some(p) = product.project_id.filter(|p| Some(*p) != old.project_id) {
        verify_project(ctx, p).await?;
    }
    let saved = product.clone();
    ctx.db
        .write(move |c| {
            // Checked again where it counts: in the write, with the row locked.
            expected.lock(c, "products", id.0)?;
            if expected.is_set() {
                expected.check(&find(c, id)?)?;
            }
            store::products::update(c, &saved).map_err(Error::from)
        })
        .await?;
    Ok(product)
}

shared::sort_fields! {
    /// How the product list can be ordered.
    pub enum ProductSort {
        CreatedAt = "created_at": Time,
        UpdatedAt = "updated_at": Time,
        Name = "name": Text,
    }
    default CreatedAt
}

impl ProductSort {
    pub fn key(self, p: &Product) -> Key {
        match self {
            ProductSort::CreatedAt => Key::Time(p.created_at.naive_utc()),
            ProductSort::UpdatedAt => Key::Time(p.updated_at.naive_utc()),
            ProductSort::Name => Key::Text(p.name.clone()),
        }
    }
}

/// Products, in the asked order (newest first by default).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    filter: &ProductFilter,
    req: ListRequest<ProductSort>,
) -> Result<Page<Product>> {
    access::may_read_products(caller)?;
    let rows = store::products::list(conn, filter, &req)?;
    Ok(req.page(rows, |p| (req.sort.field.key(p), p.id.0), |p| p))
}
