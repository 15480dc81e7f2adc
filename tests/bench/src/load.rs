//! Closed-loop load: `concurrency` clients, each sending its next request when the last one
//! answered, until a request count or a duration is reached (whichever comes first).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Latencies in microseconds, with percentiles over the sorted list.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    pub fn new(mut v: Vec<u64>) -> Latencies {
        v.sort_unstable();
        Latencies(v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `q` quantile (0..=1), in milliseconds (nearest rank).
    pub fn ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1] as f64 / 1000.0
    }

    pub fn mean_ms(&self) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.iter().sum::<u64>() as f64 / self.0.len() as f64 / 1000.0
    }

    pub fn json(&self) -> Value {
        json!({
            "samples": self.len(),
            "mean_ms": round3(self.mean_ms()),
            "p50_ms": round3(self.ms(0.50)),
            "p95_ms": round3(self.ms(0.95)),
            "p99_ms": round3(self.ms(0.99)),
            "max_ms": round3(self.ms(1.0)),
        })
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The outcome of one load run.
#[derive(Debug, Clone)]
pub struct Run {
    pub concurrency: usize,
    pub requests: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub elapsed: Duration,
    pub latencies: Latencies,
}

impl Run {
    pub fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.requests as f64 / s } else { 0.0 }
    }

    pub fn line(&self) -> String {
        format!(
            "c={:<3} {:>6} req in {:>5.2} s = {:>8.1} req/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  errors {}",
            self.concurrency,
            self.requests,
            self.elapsed.as_secs_f64(),
            self.rps(),
            self.latencies.ms(0.5),
            self.latencies.ms(0.95),
            self.latencies.ms(0.99),
            self.latencies.ms(1.0),
            self.errors
        )
    }

    pub fn json(&self) -> Value {
        let mut v = self.latencies.json();
        if let Value::Object(m) = &mut v {
            m.insert("concurrency".into(), json!(self.concurrency));
            m.insert("requests".into(), json!(self.requests));
            m.insert("errors".into(), json!(self.errors));
            m.insert("first_errors".into(), json!(self.first_errors));
            m.insert("seconds".into(), json!(round3(self.elapsed.as_secs_f64())));
            m.insert("requests_per_second".into(), json!(round3(self.rps())));
        }
        v
    }
}

/// Runs `f(seq)` from `concurrency` clients until `max` requests were started or `duration`
/// passed. `f` answers `Err(description)` for a failed request.
pub async fn run<F, Fut>(concurrency: usize, max: u64, duration: Duration, f: F) -> Run
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = vec![];
    for _ in 0..concurrency {
        let (f, next) = (f.clone(), next.clone());
        clients.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0u64;
            let mut first = vec![];
            loop {
                if started.elapsed() >= duration {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= max {
                    break;
                }
                let t = Instant::now();
                let r = f(seq).await;
                lat.push(t.elapsed().as_micros() as u64);
                if let Err(e) = r {
                    errors += 1;
                    if first.len() < 3 {
                        first.push(e);
                    }
                }
            }
            (lat, errors, first)
        }));
    }
    let mut all = vec![];
    let mut errors = 0;
    let mut first_errors = vec![];
    for c in clients {
        match c.await {
            Ok((lat, e, first)) => {
                all.extend(lat);
                errors += e;
                first_errors.extend(first);
            }
            Err(e) => {
                errors += 1;
                first_errors.push(format!("client task failed: {e}"));
            }
        }
    }
    let elapsed = started.elapsed();
    first_errors.truncate(5);
    Run { concurrency, requests: all.len() as u64, errors, first_errors, elapsed, latencies: Latencies::new(all) }
}

#[cfg(test)]
mod tests {
    use super::Latencies;

    #[test]
    fn percentiles_by_nearest_rank() {
        let l = Latencies::new((1..=100).rev().map(|x| x * 1000).collect());
        assert_eq!(l.ms(0.5), 50.0);
        assert_eq!(l.ms(0.99), 99.0);
        assert_eq!(l.ms(1.0), 100.0);
        assert_eq!(Latencies::default().ms(0.5), 0.0);
    }
}
