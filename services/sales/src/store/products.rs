use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use shared::db::{DbConn, Dec, Uid};
use shared::ids::ProductId;
use shared::page::{Key, ListRequest};

use super::schema::products;
use super::{Result, parse};
use crate::domain::products::{Product, ProductFilter, ProductSort};
use crate::domain::{ProductType, ServicePolicy, ServiceTracking, Uom};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
struct Row {
    id: Uid,
    name: String,
    product_type: String,
    uom: String,
    list_price: Dec,
    tax_rate: Dec,
    service_policy: Option<String>,
    service_tracking: String,
    project_id: Option<Uid>,
    upsell_threshold: Dec,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<Row> for Product {
    type Error = super::StoreError;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Product {
            id: r.id.into(),
            name: r.name,
            product_type: parse(&r.product_type, ProductType::parse)?,
            uom: parse(&r.uom, Uom::parse)?,
            list_price: r.list_price.0,
            tax_rate: r.tax_rate.0,
            service_policy: r.service_policy.map(|p| parse(&p, ServicePolicy::parse)).transpose()?,
            service_tracking: parse(&r.service_tracking, ServiceTracking::parse)?,
            project_id: r.project_id.map(Into::into),
            upsell_threshold: r.upsell_threshold.0,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

impl From<&Product> for Row {
    fn from(p: &Product) -> Self {
        Row {
            id: p.id.into(),
            name: p.name.clone(),
            product_type: p.product_type.as_str().to_owned(),
            uom: p.uom.as_str().to_owned(),
            list_price: Dec(p.list_price),
            tax_rate: Dec(p.tax_rate),
            service_policy: p.service_policy.map(|s| s.as_str().to_owned()),
            service_tracking: p.service_tracking.as_str().to_owned(),
            project_id: p.project_id.map(Into::into),
            upsell_threshold: Dec(p.upsell_threshold),
            created_at: p.created_at.naive_utc(),
            updated_at: p.updated_at.naive_utc(),
        }
    }
}

pub fn insert(conn: &mut DbConn, p: &Product) -> Result<()> {
    diesel::insert_into(products::table).values(Row::from(p)).execute(conn)?;
    Ok(())
}

pub fn update(conn: &mut DbConn, p: &Product) -> Result<()> {
    diesel::update(products::table.find(Uid::from(p.id))).set(Row::from(p)).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: ProductId) -> Result<Option<Product>> {
    let row = products::table.find(Uid::from(id)).select(Row::as_select()).first(conn).optional()?;
    row.map(Product::try_from).transpose()
}

/// Names of the given products.
pub fn names(conn: &mut DbConn, ids: &[ProductId]) -> Result<HashMap<ProductId, String>> {
    let keys: Vec<Uid> = ids.iter().copied().map(Uid::from).collect();
    let rows: Vec<(Uid, String)> =
        products::table.filter(products::id.eq_any(keys)).select((products::id, products::name)).load(conn)?;
    Ok(rows.into_iter().map(|(id, name)| (id.into(), name)).collect())
}

pub fn list(conn: &mut DbConn, f: &ProductFilter, req: &ListRequest<ProductSort>) -> Result<Vec<Product>> {
    let mut q = products::table.select(Row::as_select()).into_boxed();
    if let Some(t) = f.product_type {
        q = q.filter(products::product_type.eq(t.as_str()));
    }
    match req.sort.field {
        ProductSort::CreatedAt => shared::keyset!(q, products::created_at, products::id, req, Key::time),
        ProductSort::UpdatedAt => shared::keyset!(q, products::updated_at, products::id, req, Key::time),
        ProductSort::Name => shared::keyset!(q, products::name, products::id, req, Key::text),
    }
    let rows = q.limit(req.fetch()).load(conn)?;
    rows.into_iter().map(Product::try_from).collect()
}
