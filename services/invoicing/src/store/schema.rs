diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    invoices (id) {
        id -> DbUuid,
        number -> Nullable<Text>,
        kind -> Text,
        state -> Text,
        customer_id -> DbUuid,
        sale_order_id -> Nullable<DbUuid>,
        invoice_date -> Date,
        currency -> Text,
        amount_untaxed -> DbDecimal,
        amount_tax -> DbDecimal,
        amount_total -> DbDecimal,
        amount_residual -> DbDecimal,
        payment_state -> Text,
        reversed_invoice_id -> Nullable<DbUuid>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    invoice_lines (id) {
        id -> DbUuid,
        invoice_id -> DbUuid,
        position -> Integer,
        sale_line_id -> Nullable<DbUuid>,
        description -> Text,
        quantity -> DbDecimal,
        uom -> Text,
        unit_price -> DbDecimal,
        discount -> DbDecimal,
        tax_rate -> DbDecimal,
        price_subtotal -> DbDecimal,
        price_tax -> DbDecimal,
        price_total -> DbDecimal,
        bills_timesheets -> Bool,
        reversed_line_id -> Nullable<DbUuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    payments (id) {
        id -> DbUuid,
        invoice_id -> DbUuid,
        amount -> DbDecimal,
        date -> Date,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::DbUuid;

    sequences (id) {
        id -> DbUuid,
        prefix -> Text,
        last_number -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    line_invoiced (sale_line_id) {
        sale_line_id -> DbUuid,
        quantity -> DbDecimal,
        version -> BigInt,
    }
}

diesel::joinable!(invoice_lines -> invoices (invoice_id));
diesel::joinable!(payments -> invoices (invoice_id));
diesel::allow_tables_to_appear_in_same_query!(invoices, invoice_lines, payments, sequences, line_invoiced);
