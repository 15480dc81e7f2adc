//! Request extractors that reject in problem+json and name the offending field, one rule for
//! every service (the README's "Input rules"):
//!
//! - a body that is not JSON, or not UTF-8, is a 400 (malformed JSON names the field `body`); a
//!   content type other than `application/json` (or `…+json`), or a charset other than UTF-8,
//!   is a 415; a body over 1 MiB a 413; one that does not arrive within [`BODY_TIMEOUT`] a 408;
//! - JSON of the wrong shape or type, a missing, unknown, repeated or invalid field, and an
//!   invalid or unknown query parameter or a malformed path id, are a 422 whose `errors` name
//!   each field in the request's own terms (`lines[3].quantity`, `limit`, `id`) and say what is
//!   expected, never a library's message or a Rust type name.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};
use crate::strict_json::Strict;

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1 << 20;

/// How long a request body may take to arrive once its headers have (408 after that). The
/// headers themselves have actix's `client_request_timeout` (5 s).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What a malformed id says it should be.
pub const ID_EXPECTED: &str = "must be a UUID, like \"01937f2a-5c4e-7b1d-9a3f-2e8c4d6b1a07\"";

/// A JSON request body (see the module's rules).
pub struct Body<T>(pub T);

/// An optional JSON request body: an empty body is `None`.
pub struct OptionalBody<T>(pub Option<T>);

/// The query parameters of a request, read into `T` (a struct with `deny_unknown_fields`):
/// an invalid or unknown parameter is a 422 naming it.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The query of an operation that takes no parameters: any parameter is refused (422).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// Whether a body's content type is JSON in UTF-8.
enum Media {
    Json,
    /// JSON in another charset, or not JSON: the 415's detail.
    Unsupported(String),
}

fn media(req: &HttpRequest) -> Media {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return Media::Unsupported("the request body must be application/json".into());
    };
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !(mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))) {
        return Media::Unsupported(format!("the request body must be application/json, not {mime}"));
    }
    for param in parts {
        let Some((name, charset)) = param.split_once('=') else { continue };
        let charset = charset.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset")
            && !charset.eq_ignore_ascii_case("utf-8")
            && !charset.eq_ignore_ascii_case("utf8")
        {
            return Media::Unsupported(format!(
                "the request body must be JSON in UTF-8; charset={charset} is not accepted"
            ));
        }
    }
    Media::Json
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<(Media, web::Bytes), ApiError>> {
    let media = media(req);
    let bytes = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        let bytes = bytes.await.map_err(|e| {
            if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                unreadable()
            }
        })?;
        Ok((media, bytes))
    })
}

fn unreadable() -> ApiError {
    ApiError::BadRequest {
        detail: "the request body could not be read".into(),
        errors: vec![FieldError::new("body", "could not be read")],
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            match body.await? {
                (Media::Json, bytes) => parse_json(&bytes).map(Body),
                (Media::Unsupported(detail), _) => Err(ApiError::UnsupportedMediaType(detail)),
            }
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move {
            match body.await? {
                (_, bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(OptionalBody(None)),
                (Media::Json, bytes) => parse_json(&bytes).map(|v| OptionalBody(Some(v))),
                (Media::Unsupported(detail), _) => Err(ApiError::UnsupportedMediaType(detail)),
            }
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses a query string (`limit=10&state=sale`) into `T`; every failure is a 422 naming the
/// parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        ApiError::Validation(vec![field_error(&path, &message, Noun::Parameter)])
    })
}

/// Parses a JSON body into `T`. Not UTF-8, or not JSON at all: 400 naming `body`. Anything
/// else wrong: 422 naming the field by its path in the request.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::BadRequest {
            detail: "the request body is not UTF-8".into(),
            errors: vec![FieldError::new("body", "must be JSON encoded in UTF-8")],
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = serde_path_to_error::deserialize::<_, T>(Strict(&mut de));
    match result {
        Ok(v) => {
            de.end().map_err(|e| malformed(&e))?;
            Ok(v)
        }
        Err(err) => {
            // serde_json's arbitrary precision reads a number through a private map key, which
            // shows in the path (`list_price.$serde_json::private::Number`): not a field of ours.
            let path = err.path().to_string().replace(".$serde_json::private::Number", "");
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(malformed(&inner));
            }
            Err(ApiError::Validation(vec![field_error(&path, &inner.to_string(), Noun::Field)]))
        }
    }
}

/// Malformed JSON: where it breaks, in our words.
fn malformed(e: &serde_json::Error) -> ApiError {
    let message = if e.is_eof() {
        "is not valid JSON: it ends too early".to_owned()
    } else {
        format!("is not valid JSON (syntax error at line {}, column {})", e.line(), e.column())
    };
    ApiError::BadRequest {
        detail: format!("malformed JSON: the body {message}"),
        errors: vec![FieldError::new("body", message)],
    }
}

/// What a failure names: a body's field or a query's parameter.
#[derive(Clone, Copy)]
enum Noun {
    Field,
    Parameter,
}

impl Noun {
    fn word(self) -> &'static str {
        match self {
            Noun::Field => "field",
            Noun::Parameter => "parameter",
        }
    }

    fn root(self) -> &'static str {
        match self {
            Noun::Field => "body",
            Noun::Parameter => "query",
        }
    }
}

/// One field error from a deserializer's message at `path` (`.` for the root), in our terms.
fn field_error(path: &str, message: &str, noun: Noun) -> FieldError {
    let message = strip_position(message);
    let at_root = path == "." || path.is_empty();
    let child = |name: &str| if at_root { name.to_owned() } else { format!("{path}.{name}") };
    let here = if at_root { noun.root().to_owned() } else { path.to_owned() };
    if let Some(name) = backticked(message, "missing field ") {
        return FieldError::new(child(&name), "is required");
    }
    if let Some(name) = backticked(message, "duplicate field ") {
        return FieldError::new(child(&name), "is given more than once");
    }
    if let Some(name) = backticked(message, "unknown field ") {
        // The path already ends at the unknown field.
        let field = if at_root { name } else { path.to_owned() };
        let known = expected_names(message);
        let text = if known.is_empty() {
            format!("is not a known {}: this operation takes none", noun.word())
        } else {
            format!("is not a known {}; known: {}", noun.word(), known.join(", "))
        };
        return FieldError::new(field, text);
    }
    FieldError::new(here, translate(message))
}

/// A deserializer's message in our terms. Messages of this crate's own types (decimals, dates,
/// ids, limits) are already worded for a client and pass as they are; serde's standard ones
/// are reworded; anything else is replaced, so no library's text reaches a client.
fn translate(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!("must be {}, not {}", expected_in_words(expected), unexpected_in_words(got));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (_, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!("must be {}", expected_in_words(expected));
    }
    if message.starts_with("unknown variant ") {
        let allowed = expected_names(message);
        return if allowed.is_empty() {
            "is not an accepted value".into()
        } else {
            format!("must be one of: {}", allowed.join(", "))
        };
    }
    if message.starts_with("invalid length ") {
        return "has the wrong number of elements".into();
    }
    if message.starts_with("UUID parsing failed") {
        return ID_EXPECTED.into();
    }
    if message.starts_with("must ") || message.starts_with("is ") {
        return message.to_owned();
    }
    "is not valid".into()
}

/// What a visitor's `expecting` says, in a client's words.
fn expected_in_words(expected: &str) -> String {
    let e = expected.trim();
    let words = match e {
        "a string" | "string" => "a string",
        "a boolean" | "bool" => "true or false",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            "an integer"
        }
        "f32" | "f64" => "a number",
        "a sequence" | "sequence" => "an array",
        "a map" | "map" => "an object",
        "unit" => "null",
        "a UUID" | "a UUID string" | "UUID" => return ID_EXPECTED.trim_start_matches("must be ").to_owned(),
        "a formatted date string" | "a formatted date and time string" => "a date as YYYY-MM-DD",
        _ if e.starts_with("struct ") || e.starts_with("tuple struct ") || e.starts_with("struct variant ") => {
            "a JSON object"
        }
        _ if e.starts_with("enum ") || e.starts_with("variant ") => "one of the accepted values",
        // Our own types say what they expect in a client's words ("a decimal like …").
        _ if e.starts_with("a ") || e.starts_with("an ") || e.starts_with("one of ") => e,
        _ => "of another type",
    };
    words.to_owned()
}

/// What serde says it found, in a client's words.
fn unexpected_in_words(got: &str) -> &'static str {
    let g = got.trim();
    match g {
        "null" | "unit value" => "null",
        _ if g.starts_with("boolean") => "true or false",
        _ if g.starts_with("integer") || g.starts_with("floating point") || g.starts_with("number") => "a number",
        _ if g.starts_with("string") || g.starts_with("character") => "a string",
        _ if g.starts_with("sequence") => "an array",
        _ if g.starts_with("map") => "an object",
        _ => "something else",
    }
}

/// The backticked names after "expected" in serde's message (`one of `a`, `b``).
fn expected_names(message: &str) -> Vec<String> {
    let Some((_, list)) = message.split_once("expected") else { return vec![] };
    list.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    Some(rest.split('`').next()?.to_owned())
}

fn strip_position(message: &str) -> &str {
    match message.find(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// The header that makes a POST safe to retry.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The `Idempotency-Key` header of a request, if any.
pub fn idempotency_key(req: &HttpRequest) -> Option<String> {
    req.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Middleware body: reads the request body, at most [`BODY_LIMIT`] bytes within
/// [`BODY_TIMEOUT`], before anything else reads it (so a client cannot hold a connection open
/// by sending a body slowly): 408 when it is too slow, 413 when too large, each closing the
/// connection.
pub async fn read_body_in_time<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let read = if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        Ok(Err(ApiError::TooLarge))
    } else {
        tokio::time::timeout(BODY_TIMEOUT, read_at_most(req.take_payload(), BODY_LIMIT)).await
    };
    let error = match read {
        Ok(Ok(bytes)) => {
            req.set_payload(Payload::from(bytes));
            return next.call(req).await.map(ServiceResponse::map_into_left_body);
        }
        Ok(Err(e)) => e,
        Err(_) => ApiError::RequestTimeout(crate::problem::TooSlow::Body),
    };
    let mut res = actix_web::ResponseError::error_response(&error);
    // The rest of the body is not read: the connection cannot carry another request.
    res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(req.into_response(res).map_into_right_body())
}

async fn read_at_most(mut payload: Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The extractor configurations that make actix's own rejections problem+json. Path ids are
/// checked here: every path parameter of this API is a UUID, so the malformed ones are named.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(BODY_LIMIT))
        .app_data(web::PathConfig::default().error_handler(|_err, req| {
            let mut errors: Vec<FieldError> = req
                .match_info()
                .iter()
                .filter(|(_, value)| uuid::Uuid::parse_str(value).is_err())
                .map(|(name, _)| FieldError::new(name, ID_EXPECTED))
                .collect();
            if errors.is_empty() {
                errors.push(FieldError::new("path", "is not valid"));
            }
            ApiError::Validation(errors).into()
        }))
        .app_data(web::QueryConfig::default().error_handler(|err, _req| {
            ApiError::Validation(vec![field_error(".", &err.to_string(), Noun::Parameter)]).into()
        }));
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::Dec2;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        quantity: Dec2,
        uom: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Order {
        name: String,
        lines: Vec<Line>,
        flag: Option<bool>,
    }

    fn refused(body: &str) -> (u16, Vec<(String, String)>) {
        match parse_json::<Order>(body.as_bytes()) {
            Ok(_) => (200, vec![]),
            Err(e) => {
                let p = e.to_problem();
                (p.status, p.errors.unwrap_or_default().into_iter().map(|e| (e.field, e.message)).collect())
            }
        }
    }

    #[test]
    fn json_failures_name_the_field_in_the_requests_terms() {
        let (s, e) = refused(r#"{"name": 42, "lines": []}"#);
        assert_eq!((s, e[0].0.as_str(), e[0].1.as_str()), (422, "name", "must be a string, not a number"));
        let (s, e) = refused(r#"{"name": null, "lines": []}"#);
        assert_eq!((s, e[0].1.as_str()), (422, "must be a string, not null"));
        let (s, e) = refused(r#"{"name": "a", "lines": [{"quantity": "1"}, {"quantity": "1e2"}]}"#);
        assert_eq!((s, e[0].0.as_str()), (422, "lines[1].quantity"));
        assert!(e[0].1.contains("4.50"), "{e:?}");
        let (s, e) = refused(r#"{"name": "a", "lines": [{"quantity": 1.234}]}"#);
        assert_eq!((s, e[0].0.as_str(), e[0].1.as_str()), (422, "lines[0].quantity", "must have at most 2 decimals"));
        let (s, e) = refused(r#"{"name": "a", "lines": [], "colour": 1}"#);
        assert_eq!((s, e[0].0.as_str()), (422, "colour"));
        assert!(e[0].1.starts_with("is not a known field; known: name, lines, flag"), "{e:?}");
        let (s, e) = refused(r#"{"lines": []}"#);
        assert_eq!((s, e[0].0.as_str(), e[0].1.as_str()), (422, "name", "is required"));
        let (s, e) = refused(r#"{"name": "a", "lines": [{}]}"#);
        assert_eq!((s, e[0].0.as_str()), (422, "lines[0].quantity"));
        let (s, e) = refused("[]");
        assert_eq!((s, e[0].0.as_str(), e[0].1.as_str()), (422, "body", "must be a JSON object, not an array"));
        let (s, e) = refused(r#"{"name": "a", "lines": [["1", null]]}"#);
        assert_eq!((s, e[0].0.as_str()), (422, "lines[0]"));
        let (s, e) = refused(r#"{"name": "a", "lines": [], "flag": "yes"}"#);
        assert_eq!((s, e[0].1.as_str()), (422, "must be true or false, not a string"));
        let (s, e) = refused(r#"{"name": "a", "name": "b", "lines": []}"#);
        assert_eq!((s, e[0].0.as_str()), (422, "name"));
        let (s, e) = refused(r#"{"name": "a", "#);
        assert_eq!((s, e[0].0.as_str()), (400, "body"));
        let (s, e) = refused(r#"{"name": "a", "lines": []} x"#);
        assert_eq!((s, e[0].0.as_str()), (400, "body"));
        let (s, e) = match parse_json::<Order>(b"{\"name\": \"\xff\"}") {
            Err(e) => (e.to_problem().status, e.to_problem().errors.unwrap_or_default()),
            Ok(_) => (200, vec![]),
        };
        assert_eq!((s, e[0].field.as_str()), (400, "body"));
        for (_, message) in [refused("[]"), refused(r#"{"name": 1, "lines": 2}"#)].iter().flat_map(|(_, e)| e.iter()) {
            assert!(!message.contains("struct") && !message.contains("Order"), "{message}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Params {
        limit: Option<crate::page::Limit>,
        state: Option<String>,
    }

    #[test]
    fn query_failures_name_the_parameter() {
        let named = |q: &str| match parse_query::<Params>(q) {
            Ok(_) => None,
            Err(e) => e.to_problem().errors.and_then(|e| e.into_iter().next()).map(|e| (e.field, e.message)),
        };
        assert_eq!(named("limit=10&state=sale"), None);
        let (f, m) = named("limit=abc").unwrap_or_default();
        assert_eq!((f.as_str(), m.as_str()), ("limit", "must be an integer between 1 and 200"));
        assert_eq!(named("limit=0").map(|e| e.0), Some("limit".into()));
        let (f, m) = named("colour=red").unwrap_or_default();
        assert_eq!(f, "colour");
        assert!(m.starts_with("is not a known parameter"), "{m}");
        assert_eq!(named("limit=1&limit=2").map(|e| e.0), Some("limit".into()));
        let (f, m) = match parse_query::<NoParams>("x=1") {
            Err(e) => e.to_problem().errors.and_then(|e| e.into_iter().next()).map(|e| (e.field, e.message)),
            Ok(_) => None,
        }
        .unwrap_or_default();
        assert_eq!((f.as_str(), m.as_str()), ("x", "is not a known parameter: this operation takes none"));
    }
}

/// `If-Match` of a `PATCH` or `DELETE`: absent (the change proceeds, as without it), `*` (any
/// current version), or the entity tags the caller holds, from an earlier answer's `ETag`.
/// Weak tags (`W/"..."`) never match: RFC 9110 compares strongly here. A malformed header is a
/// 400 naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Absent,
    Any,
    Tags(Vec<String>),
}

impl IfMatch {
    pub fn parse(values: &[&str]) -> Result<IfMatch, ApiError> {
        if values.is_empty() {
            return Ok(IfMatch::Absent);
        }
        let items: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
        if items == ["*"] {
            return Ok(IfMatch::Any);
        }
        let mut tags = vec![];
        for item in items {
            let (weak, tag) = match item.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let inner = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
            match inner {
                Some(i) if !i.contains('"') && i.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) => {
                    if !weak {
                        tags.push(tag.to_owned());
                    }
                }
                _ => {
                    return Err(ApiError::BadRequest {
                        detail: "If-Match must be * or a list of entity tags such as \"5d41402abc4b2a76\"".into(),
                        errors: vec![FieldError::new("If-Match", "must be * or a list of quoted entity tags")],
                    });
                }
            }
        }
        Ok(IfMatch::Tags(tags))
    }

    /// The header to pass the same condition on to the service that holds the record.
    pub fn header(&self) -> Option<String> {
        match self {
            IfMatch::Absent => None,
            IfMatch::Any => Some("*".into()),
            // Only weak tags: nothing matches; an empty tag says the same to the next service.
            IfMatch::Tags(tags) if tags.is_empty() => Some("\"\"".into()),
            IfMatch::Tags(tags) => Some(tags.join(", ")),
        }
    }

    /// The condition on a record whose answer is `view(record)`: its `ETag` must be one of the
    /// tags (`*`: the record exists, which the change checks anyway).
    pub fn on<R, V: serde::Serialize>(
        self,
        view: impl Fn(&R) -> V + Send + Sync + 'static,
    ) -> crate::error::Precondition<R> {
        match self {
            IfMatch::Absent | IfMatch::Any => crate::error::Precondition::none(),
            IfMatch::Tags(tags) => crate::error::Precondition::new(move |r| {
                crate::respond::etag_of(&view(r)).is_some_and(|t| tags.contains(&t))
            }),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<IfMatch, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Result<Vec<&str>, _> =
            req.headers().get_all(actix_web::http::header::IF_MATCH).map(|v| v.to_str()).collect();
        std::future::ready(match values {
            Ok(v) => IfMatch::parse(&v),
            Err(_) => IfMatch::parse(&["\u{0}"]),
        })
    }
}

#[cfg(test)]
mod if_match_tests {
    use super::IfMatch;

    #[test]
    fn if_match_reads_star_strong_tags_and_refuses_garbage() {
        assert_eq!(IfMatch::parse(&[]).ok(), Some(IfMatch::Absent));
        assert_eq!(IfMatch::parse(&["*"]).ok(), Some(IfMatch::Any));
        assert_eq!(
            IfMatch::parse(&["\"a1\", W/\"b2\"", "\"c3\""]).ok(),
            Some(IfMatch::Tags(vec!["\"a1\"".into(), "\"c3\"".into()]))
        );
        assert_eq!(IfMatch::parse(&["W/\"b2\""]).ok(), Some(IfMatch::Tags(vec![])));
        for bad in ["a1", "\"a1", "\"a\"b\"", "*, \"a\"", ""] {
            assert!(IfMatch::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
