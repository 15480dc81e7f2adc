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
    Unreachable { peer: Service, detail: String },
    #[error("{peer} timed out")]
    Timeout { peer: Service },
    /// The peer answered with a 4xx problem.
    #[error("{peer} answered {status}: {body}")]
    Rejected { peer: Service, status: u16, body: serde_json::Value },
    /// The peer failed (5xx).
    #[error("{peer} failed with {status}")]
    Failed { peer: Service, status: u16 },
    #[error("{peer} sent an answer that could not be read: {detail}")]
    Decode { peer: Service, detail: String },
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
            PeerError::Decode { .. } => false,
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
            other if other.is_transient() => ApiError::Unavailable(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The one HTTP client a service uses for its peers.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    urls: PeerUrls,
    /// This service's own token; a caller's token is never passed on.
    token: Option<crate::auth::ServiceToken>,
}

impl PeerClient {
    pub fn new(urls: PeerUrls) -> PeerClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        PeerClient { http, urls, token: None }
    }

    /// Sends `token` (this service's own) on every call.
    pub fn with_token(mut self, token: crate::auth::ServiceToken) -> PeerClient {
        self.token = Some(token);
        self
    }

    pub fn urls(&self) -> &PeerUrls {
        &self.urls
    }

    /// Sends one request and decodes a JSON answer; `key` becomes the `Idempotency-Key`.
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        peer: Service,
        method: Method,
        path: &str,
        body: Option<&B>,
        key: Option<&str>,
    ) -> Result<T, PeerError> {
        let value = self
            .call_raw(
                peer,
                method,
                path,
                body.map(serde_json::to_value)
                    .transpose()
                    .map_err(|e| PeerError::Decode { peer, detail: e.to_string() })?,
                key,
                current_request_id(),
            )
            .await?;
        serde_json::from_value(value).map_err(|e| PeerError::Decode { peer, detail: e.to_string() })
    }

    pub async fn get<T: DeserializeOwned>(&self, peer: Service, path: &str) -> Result<T, PeerError> {
        self.call::<(), T>(peer, Method::GET, path, None, None).await
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
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                PeerError::Timeout { peer }
            } else {
                PeerError::Unreachable { peer, detail: e.to_string() }
            }
        })?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(|e| PeerError::Unreachable { peer, detail: e.to_string() })?;
        if status >= 500 {
            return Err(PeerError::Failed { peer, status });
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
