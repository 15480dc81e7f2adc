//! Tables every service has: the outbox and the idempotency keys.

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::DbUuid;

    outbox (id) {
        id -> DbUuid,
        aggregate -> Text,
        target -> Text,
        method -> Text,
        path -> Text,
        body -> Text,
        absolute -> Bool,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (key, method, path, caller) {
        key -> Text,
        method -> Text,
        path -> Text,
        caller -> Text,
        body_hash -> Text,
        status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
