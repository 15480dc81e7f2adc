//! Invoicing's HTTP surface: thin handlers that parse, call one use case and map the answer.

pub mod invoices;
pub mod payments;

use std::time::Duration;

use utoipa_actix_web::service_config::ServiceConfig;

/// How long a request that changed invoiced quantities waits for their delivery, so that
/// sales usually shows the new `qty_invoiced` by the time the caller looks.
pub const FLUSH_WAIT: Duration = Duration::from_millis(1000);

/// Registers every route under `/api/v1`.
pub fn routes(cfg: &mut ServiceConfig<'_>) {
    cfg.service(invoices::create_invoice)
        .service(invoices::list_invoices)
        .service(invoices::get_invoice)
        .service(invoices::post_invoice)
        .service(invoices::cancel_invoice)
        .service(invoices::create_credit_note)
        .service(payments::create_payment)
        .service(payments::list_payments)
        .service(payments::get_payment);
}

/// The schemas of the lists' `sort` parameters.
pub fn schemas() -> Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
    use shared::openapi::schema;
    vec![schema::<crate::domain::invoices::InvoiceSort>(), schema::<crate::domain::payments::PaymentSort>()]
}
