diesel::table! {
    use diesel::sql_types::*;
    use shared::db::DbUuid;

    teams (id) {
        id -> DbUuid,
        name -> Text,
        use_timesheets -> Bool,
        use_time_reinvoicing -> Bool,
        project_id -> Nullable<DbUuid>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sequences (name) {
        name -> Text,
        next -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use shared::db::{DbDecimal, DbUuid};

    tickets (id) {
        id -> DbUuid,
        number -> BigInt,
        team_id -> DbUuid,
        customer_id -> DbUuid,
        title -> Text,
        description -> Nullable<Text>,
        stage -> Text,
        task_id -> Nullable<DbUuid>,
        sale_line_id -> Nullable<DbUuid>,
        hours_spent -> DbDecimal,
        hours_version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(tickets -> teams (team_id));
diesel::allow_tables_to_appear_in_same_query!(teams, sequences, tickets);
