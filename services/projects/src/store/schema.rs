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

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    line_totals (sale_line_id) {
        sale_line_id -> DbUuid,
        hours -> DbDecimal,
        version -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    ticket_totals (ticket_id) {
        ticket_id -> DbUuid,
        hours -> DbDecimal,
        version -> BigInt,
    }
}

diesel::joinable!(tasks -> projects (project_id));
diesel::allow_tables_to_appear_in_same_query!(projects, tasks, timesheets, line_totals, ticket_totals);
