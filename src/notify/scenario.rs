//! The monitor's messages for a small book where escalations meet an acknowledgement, a
//! suppression and resolutions, and some stay open: the notice book's and the worker's tests
//! share it.

use postloan_engine::output::Output;
use postloan_engine::testkit::{self, Kit};

/// Three borrowers, each a loan never paid: b-1's escalation is acknowledged, b-2 is
/// suppressed for a few days, b-3 pays in full; the rest runs to 2026-06-01.
pub fn messages() -> Vec<Output> {
    let mut h = Kit::new();
    for (b, due) in [
        ("b-1", "2026-02-10"),
        ("b-2", "2026-02-12"),
        ("b-3", "2026-02-15"),
    ] {
        h.send(testkit::loan(
            b,
            &format!("{b}-l"),
            "2026-01-01T00:00:00Z",
            due,
        ));
    }
    h.advance("2026-03-14T01:00:00Z");
    h.send(testkit::ack(
        "b-1",
        "2026-03-14T02:00:00Z",
        "b-1/b-1-l/dpd/1",
    ));
    h.send(testkit::suppress(
        "b-2",
        "2026-03-15T02:00:00Z",
        "s-1",
        None,
        serde_json::json!(["*"]),
        "2026-03-20",
    ));
    h.advance("2026-04-20T00:00:00Z");
    h.send(testkit::pay(
        "b-3",
        "b-3-l",
        "2026-04-21T00:00:00Z",
        "p-1",
        "30000.00",
        "received",
    ));
    h.advance("2026-06-01T00:00:00Z");
    h.out
        .into_iter()
        .filter(|m| !matches!(m, Output::Rejected(_)))
        .collect()
}
