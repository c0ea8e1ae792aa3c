//! `[limits]`: oversized messages, rejected payloads, Kafka keys, and every cap on what the
//! engine remembers, each at its boundary.

use serde_json::{json, Value};

use super::super::Outcome;
use crate::reject::ErrorKind;
use crate::testkit::*;

const OPEN: &str = "2026-01-05T10:00:00+08:00";

/// An income event of `borrower` padded by a long `event_id` to exactly `size` bytes.
fn income_of_size(borrower: &str, size: usize) -> Vec<u8> {
    let mut v = income(borrower, OPEN, "10000");
    v["event_id"] = json!("");
    let base = v.to_string().len();
    v["event_id"] = json!("e".repeat(size - base));
    let bytes = v.to_string().into_bytes();
    assert_eq!(bytes.len(), size);
    bytes
}

fn rejected(k: &mut Kit) -> Value {
    let mut msgs = k.take();
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let m = msgs.remove(0);
    assert_eq!(m["kind"], "rejected");
    m
}

#[test]
fn a_message_longer_than_max_event_bytes_is_rejected_undecoded() {
    let mut k =
        Kit::with_config("[limits]\nmax_event_bytes = 4096\nmax_rejected_payload_bytes = 100");
    // Event ids are at most 128 characters, so the one at the limit is refused for its id,
    // which shows it was decoded; one byte more is not decoded at all.
    assert_eq!(
        k.raw(&income_of_size("B1", 4096)),
        Outcome::Rejected(ErrorKind::InvalidValue)
    );
    k.take();
    let big = income_of_size("B1", 4097);
    assert_eq!(k.raw(&big), Outcome::Rejected(ErrorKind::TooLarge));
    let m = rejected(&mut k);
    assert_eq!(
        m["error"],
        "message of 4097 bytes is longer than limits.max_event_bytes (4096); not decoded"
    );
    assert_eq!(m["payload"].as_str().unwrap().as_bytes(), &big[..100]);
    assert_eq!(m["payload_truncated"], true);
    assert_eq!(m["payload_size_bytes"], 4097);
    assert_eq!(m["key"], "B1", "the key hint still reads the borrower");
    assert_eq!(k.engine.borrower_count(), 0);
}

#[test]
fn an_adapter_cut_message_is_judged_by_its_whole_size() {
    let mut k =
        Kit::with_config("[limits]\nmax_event_bytes = 4096\nmax_rejected_payload_bytes = 8");
    // "é" is two bytes: the cut at 8 falls inside the fifth one; the text before it is kept.
    let payload = "éééééééé".as_bytes();
    assert_eq!(
        k.input(&payload[..9], Some(b"B1"), Some(10_000_000)),
        Outcome::Rejected(ErrorKind::TooLarge)
    );
    let m = rejected(&mut k);
    assert!(m["error"].as_str().unwrap().contains("10000000 bytes"));
    assert_eq!(m["payload"], "éééé");
    assert_eq!(m["payload_size_bytes"], 10_000_000);
    assert!(m.get("payload_base64").is_none());
}

#[test]
fn short_payloads_are_shown_whole_and_binary_ones_cut_as_bytes() {
    let mut k = Kit::with_config("[limits]\nmax_rejected_payload_bytes = 4");
    k.raw(b"abcd");
    let m = rejected(&mut k);
    assert_eq!(m["payload"], "abcd");
    assert!(m.get("payload_truncated").is_none() && m.get("payload_size_bytes").is_none());
    k.raw(b"\xff\xfe\xfd\xfc\xfb");
    let m = rejected(&mut k);
    assert_eq!(m["payload_base64"], "//79/A==");
    assert_eq!(m["payload_truncated"], true);
    assert_eq!(m["payload_size_bytes"], 5);
}

#[test]
fn a_kafka_key_must_be_the_borrower_id() {
    let mut k = Kit::new();
    let mut e = income("B1", OPEN, "10000");
    e["event_id"] = json!("e1");
    let e = e.to_string();
    for key in [&b"B2"[..], b"", b"b1", b"B1 "] {
        assert_eq!(
            k.input(e.as_bytes(), Some(key), None),
            Outcome::Rejected(ErrorKind::KeyMismatch),
            "key {key:?}"
        );
        let m = rejected(&mut k);
        assert_eq!(m["key"], String::from_utf8_lossy(key).as_ref());
        assert!(m["error"]
            .as_str()
            .unwrap()
            .contains("`borrower_id` \"B1\""));
    }
    assert_eq!(k.engine.borrower_count(), 0);
    assert!(matches!(
        k.input(e.as_bytes(), Some(b"B1"), None),
        Outcome::Applied(_)
    ));
}

#[test]
fn event_ids_beyond_the_cap_are_forgotten_oldest_first() {
    let mut k = Kit::with_config("[limits]\nmax_event_ids_per_borrower = 3");
    let ev = |id: &str| {
        let mut v = income("B1", OPEN, "10000");
        v["event_id"] = json!(id);
        v
    };
    for id in ["e1", "e2", "e3", "e4"] {
        assert!(matches!(k.send(ev(id)), Outcome::Applied(_)));
    }
    assert!(matches!(k.send(ev("e4")), Outcome::Duplicate(_)));
    assert!(matches!(k.send(ev("e2")), Outcome::Duplicate(_)));
    // e1 fell out of the window: it is applied again (an income observation twice).
    assert!(matches!(k.send(ev("e1")), Outcome::Applied(_)));
    assert_eq!(k.engine.book.borrowers[0].seen.len(), 3);
}

#[test]
fn loan_histories_keep_the_newest_entries() {
    let mut k = Kit::with_config("[limits]\nmax_history_per_loan = 2");
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    for (p, day) in [("P1", 10), ("P2", 11), ("P3", 12)] {
        let at = format!("2026-02-{day}T10:00:00+08:00");
        k.send(pay("B1", "L1", &at, p, "100.00", "received"));
    }
    k.take();
    // P1 is forgotten: its reversal cannot be matched; P3's can.
    let rev = |p: &str| {
        pay(
            "B1",
            "L1",
            "2026-02-13T10:00:00+08:00",
            p,
            "100.00",
            "reversed",
        )
    };
    assert_eq!(
        k.send(rev("P1")),
        Outcome::Rejected(ErrorKind::UnknownPayment)
    );
    assert!(matches!(k.send(rev("P3")), Outcome::Applied(_)));
    for day in 14..18 {
        let at = format!("2026-02-{day}T10:00:00+08:00");
        k.send(pay(
            "B1",
            "L1",
            &at,
            &format!("F{day}"),
            "3000.00",
            "failed",
        ));
    }
    let l = &k.engine.book.borrowers[0].loans[0];
    assert_eq!((l.payments.len(), l.failures.len()), (2, 2));
    // Every received amount still counts: 300 received, 100 reversed.
    assert_eq!(l.paid.to_string(), "200.00");
}

#[test]
fn history_cap_must_cover_the_failure_thresholds() {
    let limits = crate::settings::LimitsConfig {
        max_history_per_loan: 1,
        ..Default::default()
    };
    let mut problems = crate::settings::Problems::default();
    crate::settings::validate(
        &Default::default(),
        &Default::default(),
        &limits,
        &mut problems,
    );
    let err = problems.to_string();
    assert!(
        err.contains("limits.max_history_per_loan: must be at least 2"),
        "{err}"
    );
}

#[test]
fn open_loans_per_borrower_are_capped() {
    let mut k = Kit::with_config("[limits]\nmax_open_loans_per_borrower = 2");
    k.send(loan("B1", "L1", OPEN, "2026-02-10"));
    k.send(loan("B1", "L2", OPEN, "2026-02-10"));
    assert_eq!(
        k.send(loan("B1", "L3", OPEN, "2026-02-10")),
        Outcome::Rejected(ErrorKind::LimitExceeded)
    );
    assert_eq!(k.engine.open_loan_count(), 2);
    k.send(close("B1", "L1", "2026-01-06T10:00:00+08:00", "paid_off"));
    assert!(matches!(
        k.send(loan("B1", "L3", "2026-01-07T10:00:00+08:00", "2026-02-10")),
        Outcome::Applied(_)
    ));
}

#[test]
fn a_borrower_without_loans_is_forgotten_after_the_retention() {
    let mut k = Kit::with_config("[limits]\nforget_borrowers_without_loans_after_days = 10");
    k.send(income("B9", "2026-01-01T00:00:00Z", "10000"));
    k.send(loan("B1", "L1", "2026-01-01T00:00:00Z", "2026-02-10"));
    k.send(close("B1", "L1", "2026-01-03T00:00:00Z", "paid_off"));
    k.take();
    let mut changes = Vec::new();
    k.engine.take_dirty(&mut changes);
    assert_eq!(k.engine.borrowers_without_loans(), 2);
    k.advance("2026-01-10T23:59:59Z");
    assert_eq!(k.engine.borrower_count(), 2);
    k.advance("2026-01-11T00:00:00Z");
    assert_eq!(
        k.engine.borrower_count(),
        1,
        "B9 goes 10 days after its income"
    );
    assert!(k.engine.snapshot("B9").is_none());
    k.advance("2026-01-13T00:00:00Z");
    assert_eq!(
        k.engine.borrower_count(),
        0,
        "B1 goes 10 days after its loan closed"
    );
    assert!(k.take().is_empty(), "forgetting publishes nothing");
    changes.clear();
    k.engine.take_dirty(&mut changes);
    let deleted: Vec<(&str, usize)> = changes.iter().map(|(id, s)| (&**id, s.len())).collect();
    assert_eq!(deleted, [("B9", 0), ("B1", 0)]);
    assert_eq!(k.engine.portfolio().borrowers, 0);
}

#[test]
fn an_event_keeps_a_borrower_without_loans_for_another_retention() {
    let mut k = Kit::with_config("[limits]\nforget_borrowers_without_loans_after_days = 10");
    k.send(income("B9", "2026-01-01T00:00:00Z", "10000"));
    k.send(income("B9", "2026-01-08T00:00:00Z", "10000"));
    k.advance("2026-01-17T23:59:59Z");
    assert_eq!(k.engine.borrower_count(), 1);
    // A loan stops the count altogether.
    k.send(loan("B9", "L1", "2026-01-17T23:59:59Z", "2026-02-10"));
    k.advance("2027-01-01T00:00:00Z");
    assert_eq!(k.engine.borrower_count(), 1);
    assert_eq!(k.engine.borrowers_without_loans(), 0);
}

#[test]
fn past_the_cap_the_borrower_without_loans_seen_longest_ago_goes_first() {
    let mut k = Kit::with_config("[limits]\nmax_borrowers_without_loans = 2");
    k.send(loan("B0", "L1", "2026-01-01T00:00:00Z", "2026-02-10"));
    k.send(income("X1", "2026-01-01T00:00:00Z", "10000"));
    k.send(income("X2", "2026-01-02T00:00:00Z", "10000"));
    k.send(income("X1", "2026-01-03T00:00:00Z", "10000"));
    k.send(income("X3", "2026-01-04T00:00:00Z", "10000"));
    let ids: Vec<&str> = k.engine.book.borrowers.iter().map(|b| &*b.id).collect();
    let mut ids = ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, ["B0", "X1", "X3"], "X2's last event is the oldest");
    // The borrower moved into X2's place is still found and still applies events.
    assert!(matches!(
        k.send(income("X3", "2026-01-05T00:00:00Z", "10000")),
        Outcome::Applied(_)
    ));
    assert_eq!(
        k.engine.book.borrowers[k.engine.book.index.get("X3").expect("X3 is held") as usize]
            .incomes
            .len(),
        2
    );
}

#[test]
fn a_forgotten_borrower_seen_again_starts_afresh_after_its_deletion() {
    let mut k = Kit::with_config("[limits]\nforget_borrowers_without_loans_after_days = 1");
    k.send(income("B9", "2026-01-01T00:00:00Z", "10000"));
    let mut changes = Vec::new();
    k.engine.take_dirty(&mut changes);
    // The clock passes the retention with B9's own next event: B9 is forgotten first.
    k.send(income("B9", "2026-01-05T00:00:00Z", "20000"));
    changes.clear();
    k.engine.take_dirty(&mut changes);
    assert_eq!(changes.len(), 2);
    assert_eq!((&*changes[0].0, changes[0].1.len()), ("B9", 0));
    assert_eq!(&*changes[1].0, "B9");
    let b = &k.engine.book.borrowers[0];
    assert_eq!(b.incomes.len(), 1);
    assert_eq!(b.seen.len(), 1);
}

#[test]
fn a_borrower_that_ever_had_an_alert_is_never_forgotten() {
    let mut k = Kit::with_config(
        "[limits]\nforget_borrowers_without_loans_after_days = 10\nmax_borrowers_without_loans = 1",
    );
    k.send(loan("B1", "L1", "2026-01-01T00:00:00Z", "2026-02-10"));
    // Unpaid past the due date: a dpd alert opens; the loan then closes (resolving it).
    k.advance("2026-02-12T00:00:00Z");
    k.send(close("B1", "L1", "2026-02-12T00:00:00Z", "repossessed"));
    assert!(k.take().iter().any(|m| m["signal"] == "dpd"));
    k.send(income("X1", "2026-02-12T00:00:00Z", "10000"));
    k.send(income("X2", "2026-02-12T00:00:00Z", "10000"));
    k.advance("2030-01-01T00:00:00Z");
    let ids: Vec<&str> = k.engine.book.borrowers.iter().map(|b| &*b.id).collect();
    assert_eq!(
        ids,
        ["B1"],
        "X1 went to the cap, X2 to the retention; B1 stays"
    );
    // Its numbering goes on: the same loan id reopened alerts as n = 2.
    k.send(loan("B1", "L1", "2030-01-01T00:00:00Z", "2030-02-10"));
    k.advance("2030-02-12T00:00:00Z");
    let ids: Vec<String> = k
        .take()
        .iter()
        .filter(|m| m["signal"] == "dpd")
        .map(|m| m["alert_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["B1/L1/dpd/2"]);
}
