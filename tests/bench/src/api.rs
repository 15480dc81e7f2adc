//! Every request of the benchmark goes through [`Api::request`]: the one place that would add
//! `Authorization: Bearer <token>`: `BENCH_TOKEN` when set, else an admin token minted with
//! `stack token` from the secret the bench gives the services (see [`crate::system::auth`]).

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::R;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    token: Option<String>,
}

impl Api {
    /// A client that sends `token` as the bearer token of every request.
    pub fn new(pool: usize, token: Option<String>) -> R<Api> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(pool)
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .build()?;
        Ok(Api { http, token })
    }

    /// The one helper every request goes through.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let req = self.http.request(method, url);
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a request; answers the status and the JSON body (`Null` when empty or not JSON).
    pub async fn call(&self, method: Method, url: &str, body: Option<&Value>) -> R<(u16, Value)> {
        let mut req = self.request(method, url);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// A request that must answer `want`; returns its body.
    pub async fn expect(&self, method: Method, url: &str, body: Option<&Value>, want: u16) -> R<Value> {
        let (status, v) = self.call(method.clone(), url, body).await?;
        if status == 401 {
            return Err(format!(
                "{method} {url}: 401: the services want a token; set BENCH_TOKEN (see the README on authentication)"
            )
            .into());
        }
        if status != want {
            return Err(format!("{method} {url}: {status}, want {want}: {v}").into());
        }
        Ok(v)
    }

    pub async fn post(&self, url: &str, body: &Value) -> R<Value> {
        self.expect(Method::POST, url, Some(body), 201).await
    }

    pub async fn get(&self, url: &str) -> R<Value> {
        self.expect(Method::GET, url, None, 200).await
    }
}

/// The string field `name` of `v`.
pub fn text(v: &Value, name: &str) -> R<String> {
    v.get(name).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("no {name} in {v}").into())
}

/// `"4.50"` as 450 hundredths.
pub fn hundredths(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 2 {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().ok()? };
    let v = int * 100 + frac;
    Some(if neg { -v } else { v })
}

/// 450 hundredths as `"4.50"`.
pub fn decimal(h: i64) -> String {
    format!("{}.{:02}", h / 100, h % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundredths_round_trip() {
        assert_eq!(hundredths("4.50"), Some(450));
        assert_eq!(hundredths("4.5"), Some(450));
        assert_eq!(hundredths("12"), Some(1200));
        assert_eq!(hundredths("-0.25"), Some(-25));
        assert_eq!(hundredths("1.234"), None);
        assert_eq!(decimal(450), "4.50");
        assert_eq!(decimal(5), "0.05");
    }
}
