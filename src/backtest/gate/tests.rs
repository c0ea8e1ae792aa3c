//! The `--fail-if` grammar: what parses, to what, and every way it refuses.

use super::*;

#[test]
fn conditions_parse_with_optional_signal_and_whitespace() {
    let cases: &[(&str, Option<Signal>, Metric, Op, f64)] = &[
        (
            "episodes_increase_pct>10",
            None,
            Metric::EpisodesIncreasePct,
            Op::Gt,
            10.0,
        ),
        (
            " recall_drop_pct >= 2.5 ",
            None,
            Metric::RecallDropPct,
            Op::Ge,
            2.5,
        ),
        (
            "dpd.episodes_added<1",
            Some(Signal::Dpd),
            Metric::EpisodesAdded,
            Op::Lt,
            1.0,
        ),
        (
            "early_warning . lead_time_drop_days <= -1",
            Some(Signal::EarlyWarning),
            Metric::LeadTimeDropDays,
            Op::Le,
            -1.0,
        ),
        (
            "workload_p95_increase_pct>0",
            None,
            Metric::WorkloadP95IncreasePct,
            Op::Gt,
            0.0,
        ),
    ];
    for (text, signal, metric, op, threshold) in cases {
        assert_eq!(
            parse(text),
            Ok(vec![Condition {
                signal: *signal,
                metric: *metric,
                op: *op,
                threshold: *threshold
            }]),
            "{text}"
        );
    }
    let two = parse("episodes_increase_pct>10, recall_drop_pct>2").unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[1].to_string(), "recall_drop_pct>2");
    assert_eq!(
        parse("dpd.episodes_added>=3").unwrap()[0].to_string(),
        "dpd.episodes_added>=3"
    );
}

#[test]
fn every_bad_condition_is_refused_with_its_reason() {
    let refused = |text: &str| parse(text).unwrap_err();
    assert!(matches!(refused(""), GateError::Empty { .. }));
    assert!(matches!(
        refused("episodes_added>1,"),
        GateError::Empty { .. }
    ));
    assert!(matches!(
        refused("episodes_added=1"),
        GateError::NoOperator { .. }
    ));
    let unknown = refused("alerts_increase_pct>10");
    assert!(
        matches!(&unknown, GateError::UnknownMetric { name, .. } if name == "alerts_increase_pct")
    );
    // The message lists what exists.
    assert!(unknown.to_string().contains("recall_drop_pct"), "{unknown}");
    assert!(
        matches!(refused("dti.episodes_added>1"), GateError::UnknownSignal { name, .. } if name == "dti")
    );
    assert!(matches!(
        refused("dpd.workload_p50_increase_pct>1"),
        GateError::NotPerSignal { .. }
    ));
    for number in ["", "ten", "1e3", "inf", "NaN", "1..2"] {
        assert!(
            matches!(
                refused(&format!("episodes_added>{number}")),
                GateError::Number { .. }
            ),
            "{number:?}"
        );
    }
    // `=>` is not an operator: the metric would be `episodes_added=`.
    assert!(matches!(
        refused("episodes_added=>5"),
        GateError::UnknownMetric { name, .. } if name == "episodes_added="
    ));
}

#[test]
fn operators_compare_as_written() {
    for (op, below, equal, above) in [
        (Op::Gt, false, false, true),
        (Op::Ge, false, true, true),
        (Op::Lt, true, false, false),
        (Op::Le, true, true, false),
    ] {
        assert_eq!(
            (op.holds(1.0, 2.0), op.holds(2.0, 2.0), op.holds(3.0, 2.0)),
            (below, equal, above),
            "{op:?}"
        );
    }
    // An infinite increase (from zero) exceeds any threshold.
    assert!(Op::Gt.holds(f64::INFINITY, 1e9));
}
