//! Sales' HTTP surface: thin handlers that parse, call one use case and map the answer.

pub mod customers;
pub mod invoices;
pub mod lines;
pub mod orders;
pub mod products;

use shared::problem::ApiError;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route under `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(customers::create_customer)
        .service(customers::list_customers)
        .service(customers::get_customer)
        .service(customers::update_customer)
        .service(customers::prepaid_hours)
        .service(products::list_uoms)
        .service(products::create_product)
        .service(products::list_products)
        .service(products::get_product)
        .service(products::update_product)
        .service(orders::create_order)
        .service(orders::list_orders)
        .service(orders::get_order)
        .service(orders::add_line)
        .service(orders::confirm_order)
        .service(orders::cancel_order)
        .service(orders::invoice_order)
        .service(lines::list_lines)
        .service(lines::get_line)
        .service(lines::update_line)
        .service(lines::timesheet_total)
        .service(lines::invoiced_total);
}

/// Parses a filter value of a closed set from the query string.
pub(crate) fn query_choice<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    choices: String,
) -> Result<Option<T>, ApiError> {
    value.map(|v| parse(v).ok_or_else(|| ApiError::invalid(field, format!("must be one of: {choices}")))).transpose()
}

/// The schemas of the lists' `sort` parameters.
pub fn schemas() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
    use shared::openapi::schema;
    vec![
        schema::<crate::domain::customers::CustomerSort>(),
        schema::<crate::domain::products::ProductSort>(),
        schema::<crate::domain::orders::OrderSort>(),
        schema::<crate::domain::lines::LineSort>(),
    ]
}
