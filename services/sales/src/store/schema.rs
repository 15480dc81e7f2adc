diesel::table! {
    use diesel::sql_types::*;
    use shared::db::DbUuid;

    customers (id) {
        id -> DbUuid,
        name -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    products (id) {
        id -> DbUuid,
        name -> Text,
        product_type -> Text,
        uom -> Text,
        list_price -> DbDecimal,
        tax_rate -> DbDecimal,
        service_policy -> Nullable<Text>,
        service_tracking -> Text,
        project_id -> Nullable<DbUuid>,
        upsell_threshold -> DbDecimal,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sequences (name) {
        name -> Text,
        last_value -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    orders (id) {
        id -> DbUuid,
        name -> Text,
        customer_id -> DbUuid,
        state -> Text,
        invoice_status -> Text,
        amount_untaxed -> DbDecimal,
        amount_tax -> DbDecimal,
        amount_total -> DbDecimal,
        new_project_id -> Nullable<DbUuid>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    order_lines (id) {
        id -> DbUuid,
        order_id -> DbUuid,
        customer_id -> DbUuid,
        seq -> Integer,
        product_id -> DbUuid,
        description -> Text,
        quantity -> DbDecimal,
        uom -> Text,
        unit_price -> DbDecimal,
        discount -> DbDecimal,
        tax_rate -> DbDecimal,
        price_subtotal -> DbDecimal,
        price_tax -> DbDecimal,
        price_total -> DbDecimal,
        product_type -> Text,
        service_policy -> Nullable<Text>,
        service_tracking -> Text,
        upsell_threshold -> DbDecimal,
        delivered_hours -> DbDecimal,
        delivered_version -> BigInt,
        manual_delivered -> DbDecimal,
        invoiced_qty -> DbDecimal,
        invoiced_version -> BigInt,
        task_id -> Nullable<DbUuid>,
        project_id -> Nullable<DbUuid>,
        pending_task_id -> Nullable<DbUuid>,
        pending_project_id -> Nullable<DbUuid>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(orders -> customers (customer_id));
diesel::joinable!(order_lines -> orders (order_id));
diesel::joinable!(order_lines -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(customers, products, sequences, orders, order_lines);
