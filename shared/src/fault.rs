//! Fault points: places where a test can make a service die at once, as `kill -9` would, to
//! prove that what was committed before is neither lost nor done twice. They exist only in
//! debug builds (the test builds); in a release build `point` is empty and nothing is read.
//!
//! `FAULT_POINTS` (read once) lists the points to die at, comma-separated: a point's name
//! (`idempotency.after_commit`) or its name and detail (`idempotency.after_commit@/api/v1/timesheets`).

/// The variable that arms fault points in a test build.
pub const FAULT_POINTS_VAR: &str = "FAULT_POINTS";

#[cfg(debug_assertions)]
pub fn point(name: &str, detail: &str) {
    use std::sync::OnceLock;
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        std::env::var(FAULT_POINTS_VAR)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    if armed.iter().any(|p| p == name || p.split_once('@').is_some_and(|(n, d)| n == name && d == detail)) {
        eprintln!("fault point {name}@{detail}: dying now");
        std::process::abort();
    }
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn point(_name: &str, _detail: &str) {}

/// A setting that only test builds read from the environment (shorter timeouts, say), so a
/// test can outlast a deadline in seconds; elsewhere always `None`, and the default holds.
#[cfg(debug_assertions)]
pub fn test_setting(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn test_setting(_name: &str) -> Option<String> {
    None
}

/// Two milliseconds figures `a,b` from a test setting.
pub fn test_millis_pair(name: &str) -> Option<(std::time::Duration, std::time::Duration)> {
    let value = test_setting(name)?;
    let (a, b) = value.split_once(',')?;
    let ms = |s: &str| s.trim().parse::<u64>().ok().map(std::time::Duration::from_millis);
    Some((ms(a)?, ms(b)?))
}
