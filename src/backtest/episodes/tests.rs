//! Episodes from real engine output, and the matching rules at their edges.

use super::*;
use postloan_engine::testkit::{self, at, Kit};

fn slot(loan: &str, signal: Signal) -> Slot {
    Slot {
        borrower: Arc::from("b-1"),
        loan: Some(Arc::from(loan)),
        signal,
    }
}

fn ep(id: &str, loan: &str, open: &str, close: Option<&str>, peak: Severity, esc: u8) -> Episode {
    Episode {
        alert_id: id.to_owned(),
        slot: slot(loan, Signal::Dpd),
        opened_at: at(open),
        closed_at: close.map(at),
        peak,
        escalation: esc,
    }
}

fn episodes(list: &[Episode]) -> Episodes {
    Episodes {
        by_id: list
            .iter()
            .map(|e| (e.alert_id.clone(), e.clone()))
            .collect(),
    }
}

#[test]
fn an_episode_runs_from_firing_to_resolved_with_its_peak_and_escalation() {
    let mut h = Kit::new();
    // Due 2026-02-10 (Shanghai), unpaid: DPD 1 from 2026-02-10T16:00Z (low), 30 from
    // 2026-03-11T16:00Z (high), level 1 24 h later and level 2 72 h later (2026-03-14T16:00Z,
    // before the clock stops on the 15th); paid in full on 2026-03-20.
    h.send(testkit::loan(
        "b-1",
        "l-1",
        "2026-01-01T00:00:00Z",
        "2026-02-10",
    ));
    h.advance("2026-03-15T00:00:00Z");
    h.send(testkit::pay(
        "b-1",
        "l-1",
        "2026-03-20T00:00:00Z",
        "p-1",
        "6000.00",
        "received",
    ));
    let mut e = Episodes::default();
    for m in &h.out {
        e.observe(m).unwrap();
    }
    let dpd = e.by_id.get("b-1/l-1/dpd/1").unwrap();
    assert_eq!(dpd.slot, slot("l-1", Signal::Dpd));
    assert_eq!(dpd.opened_at, at("2026-02-10T16:00:00Z"));
    assert_eq!(dpd.closed_at, Some(at("2026-03-20T00:00:00Z")));
    assert_eq!((dpd.peak, dpd.escalation), (Severity::High, 2));
}

#[test]
fn an_episode_resolved_at_the_instant_it_fired_holds_that_instant() {
    use Severity::Low;
    let t = "2026-01-05T00:00:00Z";
    let point = ep("P", "l-1", t, Some(t), Low, 0);
    // Its twin in the other run, an interval around or starting at it: overlap.
    for other in [
        ep("Q", "l-1", t, Some(t), Low, 0),
        ep(
            "Q",
            "l-1",
            "2026-01-01T00:00:00Z",
            Some("2026-01-09T00:00:00Z"),
            Low,
            0,
        ),
        ep("Q", "l-1", t, None, Low, 0),
    ] {
        assert!(
            point.overlaps(&other) && other.overlaps(&point),
            "{other:?}"
        );
    }
    // Intervals that end at it or start after it: no overlap.
    for other in [
        ep("Q", "l-1", "2026-01-01T00:00:00Z", Some(t), Low, 0),
        ep("Q", "l-1", "2026-01-05T00:00:01Z", None, Low, 0),
    ] {
        assert!(
            !point.overlaps(&other) && !other.overlaps(&point),
            "{other:?}"
        );
    }
}

#[test]
fn episodes_match_by_slot_and_overlap_one_to_one() {
    use Severity::*;
    let a = episodes(&[
        // Same in both.
        ep(
            "A1",
            "l-1",
            "2026-01-01T00:00:00Z",
            Some("2026-01-10T00:00:00Z"),
            Low,
            0,
        ),
        // B fires it later and higher: changed.
        ep("A2", "l-2", "2026-01-01T00:00:00Z", None, Medium, 0),
        // B's l-3 episode starts when this one ends: no overlap, removed and added.
        ep(
            "A3",
            "l-3",
            "2026-01-01T00:00:00Z",
            Some("2026-01-05T00:00:00Z"),
            Low,
            0,
        ),
        // Two in A overlap one long one in B: the first takes it, the second is removed.
        ep(
            "A4",
            "l-4",
            "2026-01-01T00:00:00Z",
            Some("2026-01-03T00:00:00Z"),
            Low,
            0,
        ),
        ep(
            "A5",
            "l-4",
            "2026-01-04T00:00:00Z",
            Some("2026-01-06T00:00:00Z"),
            Low,
            0,
        ),
    ]);
    let b = episodes(&[
        ep(
            "B1",
            "l-1",
            "2026-01-01T00:00:00Z",
            Some("2026-01-10T00:00:00Z"),
            Low,
            0,
        ),
        ep("B2", "l-2", "2026-01-02T00:00:00Z", None, High, 1),
        ep("B3", "l-3", "2026-01-05T00:00:00Z", None, Low, 0),
        ep(
            "B4",
            "l-4",
            "2026-01-02T00:00:00Z",
            Some("2026-01-08T00:00:00Z"),
            Low,
            0,
        ),
    ]);
    let names: Vec<String> = matched(&a, &b)
        .iter()
        .map(|c| match c {
            Change::Added(y) => format!("+{}", y.alert_id),
            Change::Removed(x) => format!("-{}", x.alert_id),
            Change::Changed(x, y) => format!("~{}/{}", x.alert_id, y.alert_id),
            Change::Same(x, y) => format!("={}/{}", x.alert_id, y.alert_id),
        })
        .collect();
    assert_eq!(names, ["=A1/B1", "~A2/B2", "-A3", "+B3", "~A4/B4", "-A5"]);
}

#[test]
fn matching_is_a_mirror_image_when_the_runs_swap() {
    use Severity::*;
    let a = episodes(&[
        ep(
            "A1",
            "l-1",
            "2026-01-01T00:00:00Z",
            Some("2026-01-03T00:00:00Z"),
            Low,
            0,
        ),
        ep("A2", "l-1", "2026-01-04T00:00:00Z", None, High, 2),
    ]);
    let b = episodes(&[ep(
        "B1",
        "l-1",
        "2026-01-02T00:00:00Z",
        Some("2026-01-05T00:00:00Z"),
        Medium,
        0,
    )]);
    let (ab, ba) = both_ways(&a, &b);
    assert_eq!(ab, ba);
    assert_eq!(ab, ["A-only A2", "pair A1 B1"]);
}

/// The changes of matching (A, B) and of matching (B, A), each named from A's side ("A-only",
/// "B-only", or "pair" of A's and B's) and sorted: mirror images are then equal lists.
fn both_ways(a: &Episodes, b: &Episodes) -> (Vec<String>, Vec<String>) {
    let from_a = |c: &Change<'_>| match c {
        Change::Added(y) => format!("B-only {}", y.alert_id),
        Change::Removed(x) => format!("A-only {}", x.alert_id),
        Change::Changed(x, y) | Change::Same(x, y) => format!("pair {} {}", x.alert_id, y.alert_id),
    };
    let from_b = |c: &Change<'_>| match c {
        Change::Added(x) => format!("A-only {}", x.alert_id),
        Change::Removed(y) => format!("B-only {}", y.alert_id),
        Change::Changed(y, x) | Change::Same(y, x) => format!("pair {} {}", x.alert_id, y.alert_id),
    };
    let mut ab: Vec<String> = matched(a, b).iter().map(from_a).collect();
    let mut ba: Vec<String> = matched(b, a).iter().map(from_b).collect();
    ab.sort();
    ba.sort();
    (ab, ba)
}

/// One run's episodes of one slot: alternating open and closed stretches from sorted cut
/// points (a slot never has two open alerts at once), the last possibly still open.
fn run_of(prefix: &'static str) -> impl proptest::strategy::Strategy<Value = Vec<Episode>> {
    use proptest::prelude::*;
    (
        prop::collection::btree_set(0i64..200, 0..12),
        any::<bool>(),
        prop::collection::vec(0usize..5, 12),
    )
        .prop_map(move |(cuts, open_end, peaks)| {
            let cuts: Vec<i64> = cuts.into_iter().collect();
            let base = at("2026-01-01T00:00:00Z");
            let mut out = Vec::new();
            for (k, pair) in cuts.chunks(2).enumerate() {
                let close = match pair {
                    [_, c] => Some(base + chrono::Duration::hours(*c)),
                    _ if open_end => None,
                    _ => continue,
                };
                out.push(Episode {
                    alert_id: format!("{prefix}{k}"),
                    slot: slot("l-1", Signal::Dpd),
                    opened_at: base + chrono::Duration::hours(pair[0]),
                    closed_at: close,
                    peak: Severity::ALL[peaks[k % peaks.len()]],
                    escalation: 0,
                });
            }
            out
        })
}

proptest::proptest! {
    /// Backtests of (A, B) and (B, A) are mirror images: the same pairs, A's removals are the
    /// other way's additions.
    #[test]
    fn matching_mirrors_for_any_two_runs(a in run_of("A"), b in run_of("B")) {
        let (a, b) = (episodes(&a), episodes(&b));
        let (ab, ba) = both_ways(&a, &b);
        proptest::prop_assert_eq!(ab, ba);
    }
}
