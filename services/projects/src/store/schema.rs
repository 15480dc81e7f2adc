diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    projects (id) {
        id -> DbUuid,
        name -> Text,
        customer_id -> Nullable<DbUuid>,
        sale_line_id -> Nullable<DbUuid>,
        allow_timesheets -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    tasks (id) {
        id -> DbUuid,
        project_id -> DbUuid,
        name -> Text,
        customer_id -> Nullable<DbUuid>,
        sale_order_id -> Nullable<DbUuid>,
        sale_line_id -> Nullable<DbUuid>,
        allocated_hours -> DbDecimal,
        effective_hours -> DbDecimal,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    timesheets (id) {
        id -> DbUuid,
        date -> Date,
        employee -> Text,
        description -> Nullable<Text>,
        hours -> DbDecimal,
        project_id -> DbUuid,
        task_id -> Nullable<DbUuid>,
        ticket_id -> Nullable<DbUuid>,
        sale_line_id -> Nullable<DbUuid>,
        invoice_id -> Nullable<DbUuid>,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(tasks -> projects (project_id));
// line_totals and ticket_totals are written by one upsert each (`shared::db::add_to_total`).
diesel::allow_tables_to_appear_in_same_query!(projects, tasks, timesheets);
