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
        updated_at -> Timestamp,
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
        updated_at -> Timestamp,
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

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::DbUuid;

    /// Whose a sale line is, as sales answered (it never changes).
    sale_line_customers (sale_line_id) {
        sale_line_id -> DbUuid,
        customer_id -> DbUuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::DbUuid;

    /// Whose a ticket is, as helpdesk answered (it never changes).
    ticket_customers (ticket_id) {
        ticket_id -> DbUuid,
        customer_id -> Nullable<DbUuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::DbUuid;

    /// Each invoice's claim on timesheets, until it is known settled.
    timesheet_claims (invoice_id) {
        invoice_id -> DbUuid,
        claimed_at -> Timestamp,
        settled_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(tasks -> projects (project_id));
// line_totals and ticket_totals are written by one upsert each (`shared::db::add_to_total`).
diesel::allow_tables_to_appear_in_same_query!(projects, tasks, timesheets);
