//! Fault points: places where a test can make a service die at once, as `kill -9` would (or
//! lose its database connection), to prove that what was committed before is neither lost nor
//! done twice. They exist only in
//! debug builds (the test builds); in a release build `point` is empty and nothing is read.
//!
//! `FAULT_POINTS` (read once) lists the points to die at, comma-separated: a point's name
//! (`idempotency.after_commit`) or its name and detail (`idempotency.after_commit@/api/v1/timesheets`).

/// The variable that arms fault points in a test build.
pub const FAULT_POINTS_VAR: &str = "FAULT_POINTS";

pub fn point(name: &str, detail: &str) {
    if armed(name, detail) {
        eprintln!("fault point {name}@{detail}: dying now");
        std::process::abort();
    }
}

/// True where a test armed the point `name` (with `detail`, or without one), the first time
/// only in a process (so the retry that follows a fault meets none): for faults other than
/// dying, such as a connection lost before its commit's answer.
#[cfg(debug_assertions)]
pub fn armed(name: &str, detail: &str) -> bool {
    use std::sync::{Mutex, OnceLock};
    static FIRED: Mutex<Vec<String>> = Mutex::new(Vec::new());
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
    let Some(point) =
        armed.iter().find(|p| *p == name || p.split_once('@').is_some_and(|(n, d)| n == name && d == detail))
    else {
        return false;
    };
    let mut fired = FIRED.lock().unwrap_or_else(|e| e.into_inner());
    if fired.contains(point) {
        return false;
    }
    fired.push(point.clone());
    true
}

#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn armed(_name: &str, _detail: &str) -> bool {
    false
}

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
