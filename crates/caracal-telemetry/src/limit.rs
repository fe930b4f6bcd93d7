//! Per-event-type log rate limit: one log per window, then a count of what was held back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whether an event may log now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Log it; `held_back` events of its type were not logged since the last one.
    Log { held_back: u64 },
    /// Its type logged within the window.
    HoldBack,
}

struct Window {
    logged_at: Instant,
    held_back: u64,
}

static WINDOWS: Mutex<Option<HashMap<&'static str, Window>>> = Mutex::new(None);

pub(crate) fn admit(event: &'static str, every: Duration) -> Admit {
    admit_at(&WINDOWS, event, every, Instant::now())
}

fn admit_at(
    windows: &Mutex<Option<HashMap<&'static str, Window>>>,
    event: &'static str,
    every: Duration,
    now: Instant,
) -> Admit {
    let mut windows = windows.lock().unwrap_or_else(|p| p.into_inner());
    let windows = windows.get_or_insert_with(HashMap::new);
    match windows.get_mut(event) {
        Some(w) if now.duration_since(w.logged_at) < every => {
            w.held_back += 1;
            Admit::HoldBack
        }
        Some(w) => {
            let held_back = std::mem::take(&mut w.held_back);
            w.logged_at = now;
            Admit::Log { held_back }
        }
        None => {
            windows.insert(event, Window { logged_at: now, held_back: 0 });
            Admit::Log { held_back: 0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_log_per_window_then_the_count_held_back() {
        let windows = Mutex::new(None);
        let t0 = Instant::now();
        let every = Duration::from_secs(10);
        let at = |secs| admit_at(&windows, "e", every, t0 + Duration::from_secs(secs));
        assert_eq!(at(0), Admit::Log { held_back: 0 });
        assert_eq!(at(1), Admit::HoldBack);
        assert_eq!(at(9), Admit::HoldBack);
        assert_eq!(at(10), Admit::Log { held_back: 2 });
        assert_eq!(at(25), Admit::Log { held_back: 0 });
        // Another type has its own window.
        assert_eq!(
            admit_at(&windows, "f", every, t0 + Duration::from_secs(26)),
            Admit::Log { held_back: 0 }
        );
    }
}
