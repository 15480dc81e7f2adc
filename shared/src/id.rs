//! Typed ids: one UUID v7 newtype per kind of record, so an order id cannot be passed where a
//! task id is expected. A malformed id in a path is rejected before the handler runs (422
//! naming the parameter), and one in a body or a query says what an id looks like.

/// Declares a typed id wrapping a UUID.
#[macro_export]
macro_rules! typed_id {
    ($(#[doc = $doc:literal])* $name:ident) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub ::uuid::Uuid);

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::id::deserialize_uuid(d).map(Self)
            }
        }

        impl $name {
            /// A new, time-ordered id. (No `Default`: an id is never made up by accident.)
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(::uuid::Uuid::now_v7())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<$crate::db::Uid> for $name {
            fn from(u: $crate::db::Uid) -> Self {
                Self(u.0)
            }
        }

        impl From<$name> for $crate::db::Uid {
            fn from(id: $name) -> Self {
                $crate::db::Uid(id.0)
            }
        }

        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::id::uuid_schema(concat!($($doc),*).trim())
            }
        }

        impl ::utoipa::ToSchema for $name {}
    };
}

/// Reads a UUID from a string; anything else is told what an id looks like.
pub fn deserialize_uuid<'de, D: serde::Deserializer<'de>>(d: D) -> Result<uuid::Uuid, D::Error> {
    struct Id;
    impl serde::de::Visitor<'_> for Id {
        type Value = uuid::Uuid;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a UUID")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<uuid::Uuid, E> {
            uuid::Uuid::parse_str(v).map_err(|_| E::custom(crate::extract::ID_EXPECTED))
        }
    }
    d.deserialize_str(Id)
}

/// The schema every typed id shares, described by what it identifies (the id's doc comment).
pub fn uuid_schema(what: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .description(Some(format!(
            "{what} A UUID (v7, so ids sort by creation time), usually given by the owning service when the \
             record is created; a malformed id is a 422 naming its field or path parameter."
        )))
        .examples([serde_json::json!("01937f2a-5c4e-7b1d-9a3f-2e8c4d6b1a07")])
        .into()
}
