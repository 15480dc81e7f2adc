//! Calls to the other services: one pooled client with timeouts, the request id carried along,
//! an `Idempotency-Key` on creating calls, and typed errors.

use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{PeerUrls, Service};
use crate::problem::ApiError;
use crate::telemetry::{REQUEST_ID, current_request_id};

#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Could not connect, or the connection broke.
    #[error("{peer} unreachable: {detail}")]
    Unreachable {
        peer: Service,
        detail: String,
        /// The request may have been sent before the connection broke.
        sent: bool,
    },
    #[error("{peer} timed out")]
    Timeout { peer: Service },
    /// The peer answered with a 4xx problem.
    #[error("{peer} answered {status}: {body}")]
    Rejected { peer: Service, status: u16, body: serde_json::Value },
    /// The peer failed (5xx).
    #[error("{peer} failed with {status}")]
    Failed {
        peer: Service,
        status: u16,
        /// The peer said so itself: a problem+json of code `unavailable` (it could not reach
        /// what it needed, and changed nothing).
        nothing_changed: bool,
    },
    #[error("{peer} sent an answer that could not be read: {detail}")]
    Decode { peer: Service, detail: String },
    /// A change was sent and no answer could be had within the deadline: it may have been
    /// made. Asking again with `key` tells.
    #[error("{peer} did not answer in time; the change may have been made (Idempotency-Key {key})")]
    OutcomeUnknown { peer: Service, key: String },
}

impl PeerError {
    /// The status of a 4xx answer, if it was one.
    pub fn rejected_status(&self) -> Option<u16> {
        match self {
            PeerError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for failures where retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            PeerError::Unreachable { .. } | PeerError::Timeout { .. } | PeerError::Failed { .. } => true,
            PeerError::Rejected { status, .. } => matches!(status, 408 | 425 | 429),
            PeerError::Decode { .. } | PeerError::OutcomeUnknown { .. } => false,
        }
    }

    /// True when the request may have reached the peer and been acted on although no answer
    /// says so: a timeout, a connection broken after sending, a 5xx (from a proxy, say), an
    /// answer that could not be read. Only a refused connection proves nothing arrived.
    pub fn may_have_arrived(&self) -> bool {
        match self {
            PeerError::Unreachable { sent, .. } => *sent,
            PeerError::Failed { nothing_changed, .. } => !nothing_changed,
            PeerError::Timeout { .. } | PeerError::Decode { .. } => true,
            PeerError::OutcomeUnknown { .. } => true,
            PeerError::Rejected { .. } => false,
        }
    }
}

impl From<PeerError> for ApiError {
    /// What our caller sees when a peer it depends on cannot help: 503 unless the peer gave a
    /// definite answer about the request itself.
    fn from(e: PeerError) -> Self {
        match e {
            PeerError::Rejected { peer, status: 404 | 409 | 422, body } => {
                let detail = body.get("detail").and_then(|d| d.as_str()).unwrap_or("rejected").to_owned();
                ApiError::invalid(peer.name(), detail)
            }
            PeerError::OutcomeUnknown { .. } => ApiError::OutcomeUnknown(e.to_string()),
            other if other.is_transient() => ApiError::Unavailable(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// How long one attempt may take, and how long a change may be asked again for before the
/// caller is told its outcome is unknown.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub connect: Duration,
    pub attempt: Duration,
    pub deadline: Duration,
}

impl Timings {
    /// 10 s an attempt; a change is asked again for up to 25 s (a client's own timeout is
    /// usually 30 s or more).
    pub const DEFAULT: Timings = Timings {
        connect: Duration::from_secs(2),
        attempt: Duration::from_secs(10),
        deadline: Duration::from_secs(25),
    };

    /// The default, or in a test build what `PEER_TIMINGS_MS` says (`attempt,deadline` in
    /// milliseconds), so tests can outlast a deadline in seconds rather than minutes.
    pub fn from_env() -> Timings {
        match crate::fault::test_millis_pair("PEER_TIMINGS_MS") {
            Some((attempt, deadline)) => Timings { attempt, deadline, ..Timings::DEFAULT },
            None => Timings::DEFAULT,
        }
    }
}

/// The one HTTP client a service uses for its peers.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    urls: PeerUrls,
    timings: Timings,
    /// This service's own token; a caller's token is never passed on.
    token: Option<crate::auth::ServiceToken>,
}

impl PeerClient {
    /// A client with these timings; fails only when the TLS or system setup is broken (a
    /// client without timeouts is never used instead).
    pub fn new(urls: PeerUrls, timings: Timings) -> Result<PeerClient, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(timings.connect)
            .timeout(timings.attempt)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("the HTTP client for peers cannot be built: {e}"))?;
        Ok(PeerClient { http, urls, timings, token: None })
    }

    /// Sends `token` (this service's own) on every call.
    pub fn with_token(mut self, token: crate::auth::ServiceToken) -> PeerClient {
        self.token = Some(token);
        self
    }

    pub fn urls(&self) -> &PeerUrls {
        &self.urls
    }

    /// Sends one request and decodes a JSON answer; `key` becomes the `Idempotency-Key`. A
    /// change (any method but GET) whose outcome is not known from an attempt is sent again
    /// with the same key until it is, within the deadline (see [`PeerClient::change`]).
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        peer: Service,
        method: Method,
        path: &str,
        body: Option<&B>,
        key: Option<&str>,
    ) -> Result<T, PeerError> {
        let body = body
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| PeerError::Decode { peer, detail: e.to_string() })?;
        let value = if method == Method::GET {
            self.call_raw(peer, method, path, body, key, current_request_id()).await?
        } else {
            self.change(peer, method, path, body, key, None).await?
        };
        serde_json::from_value(value).map_err(|e| PeerError::Decode { peer, detail: e.to_string() })
    }

    /// A change of a peer's record made only if the record is still the version the caller
    /// holds (`if_match`, passed on as `If-Match`; the peer answers 412 otherwise). Sent once:
    /// it carries no key, so an ambiguous failure is [`PeerError::OutcomeUnknown`].
    pub async fn change_if_match(
        &self,
        peer: Service,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        if_match: Option<&str>,
    ) -> Result<serde_json::Value, PeerError> {
        self.change(peer, method, path, body, None, if_match).await
    }

    pub async fn get<T: DeserializeOwned>(&self, peer: Service, path: &str) -> Result<T, PeerError> {
        self.call::<(), T>(peer, Method::GET, path, None, None).await
    }

    /// Sends a change until its outcome is known: an answer (success or refusal), or a refused
    /// connection before anything could have arrived (nothing changed). A timeout, a broken
    /// connection, a 5xx or an unreadable answer does not tell, so the same request is sent
    /// again, with the same key, until one does; past the deadline the answer is
    /// [`PeerError::OutcomeUnknown`]. Without a key the change is sent once (a repeat could
    /// do it twice), and an ambiguous failure is unknown at once.
    async fn change(
        &self,
        peer: Service,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        key: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<serde_json::Value, PeerError> {
        let end = tokio::time::Instant::now() + self.timings.deadline;
        let mut maybe_arrived = false;
        let mut pause = Duration::from_millis(100);
        loop {
            let sent = self.send(peer, method.clone(), path, body.clone(), key, current_request_id(), if_match).await;
            let error = match sent {
                Err(e) if e.may_have_arrived() || (maybe_arrived && e.is_transient()) => e,
                // A refused connection on the first attempt: nothing arrived, nothing changed.
                other => return other,
            };
            maybe_arrived = true;
            let Some(key) = key else {
                return Err(PeerError::OutcomeUnknown { peer, key: "none".into() });
            };
            if tokio::time::Instant::now() + pause >= end {
                tracing::warn!(%peer, %path, key, error = %error, "outcome of a change unknown at the deadline");
                return Err(PeerError::OutcomeUnknown { peer, key: key.to_owned() });
            }
            tracing::info!(%peer, %path, key, error = %error, "outcome of a change unknown; asking again with its key");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    /// Sends one request with an already serialized body; used by the outbox dispatcher too.
    pub async fn call_raw(
        &self,
        peer: Service,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        key: Option<&str>,
        request_id: Option<String>,
    ) -> Result<serde_json::Value, PeerError> {
        self.send(peer, method, path, body, key, request_id, None).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        peer: Service,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        key: Option<&str>,
        request_id: Option<String>,
        if_match: Option<&str>,
    ) -> Result<serde_json::Value, PeerError> {
        let url = format!("{}{}", self.urls.get(peer), path);
        let mut req = self.http.request(method, &url);
        if let Some(b) = &body {
            req = req.json(b);
        }
        if let Some(t) = self.token.as_ref().and_then(|t| t.get()) {
            req = req.bearer_auth(t);
        }
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(id) = request_id {
            req = req.header(REQUEST_ID, id);
        }
        if let Some(tags) = if_match {
            req = req.header(reqwest::header::IF_MATCH, tags);
        }
        let res = req.send().await.map_err(|e| lost(peer, &e))?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(|e| lost(peer, &e))?;
        if status >= 500 {
            let code = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v.get("code").cloned());
            let nothing_changed = code.is_some_and(|c| c == "unavailable");
            return Err(PeerError::Failed { peer, status, nothing_changed });
        }
        let value: serde_json::Value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| PeerError::Decode { peer, detail: e.to_string() })?
        };
        if status >= 400 {
            return Err(PeerError::Rejected { peer, status, body: value });
        }
        Ok(value)
    }
}

/// A request that got no answer: timed out, or its connection failed (before it was sent only
/// when connecting failed).
fn lost(peer: Service, e: &reqwest::Error) -> PeerError {
    if e.is_timeout() {
        PeerError::Timeout { peer }
    } else {
        PeerError::Unreachable { peer, detail: e.to_string(), sent: !e.is_connect() }
    }
}
