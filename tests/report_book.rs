//! A hand-computed book through `report` and through the metrics: nine loans, every class
//! boundary met at a month-end (DPD 90/91, 270/271, 360/361), a restructure held inside its
//! observation period and released after it, a restructure of a current loan, a charge-off.
//!
//! Every loan has `annual_rate` 0, so outstanding principal is the principal less the
//! installments covered, and DPD on business date D is D minus the first unpaid due date.
//! Times are Asia/Shanghai (+08:00); month-ends are the end of the last business day.
//!
//! | loan | opened     | principal | first due  | what happens                                        | branch | manager |
//! |------|------------|-----------|------------|-----------------------------------------------------|--------|---------|
//! | X    | 2025-01-10 | 1,000,000 | 2027-06-01 | nothing falls due: normal throughout                | BR2    | M2      |
//! | W    | 2025-01-15 |     5,000 | 2025-02-15 | never pays; charged off 2025-09-20 at DPD 217       | BR2    | M2      |
//! | U    | 2025-02-10 |   320,000 | 2025-03-10 | never pays until restructured 2025-07-15 at DPD 127 | BR2    | M1      |
//! | P    | 2025-05-02 |    10,000 | 2025-06-02 | never pays                                          | BR1    | M1      |
//! | Q    | 2025-05-01 |    20,000 | 2025-06-01 | never pays                                          | BR1    | M1      |
//! | R    | 2025-05-03 |    40,000 | 2025-06-03 | never pays                                          | BR2    | M2      |
//! | S    | 2025-05-05 |    80,000 | 2025-06-05 | never pays                                          | BR2    | M2      |
//! | T    | 2025-05-04 |   160,000 | 2025-06-04 | never pays                                          | BR1    | M2      |
//! | V    | 2025-07-10 |   640,000 | 2025-08-10 | pays 2 installments, restructured while current     | BR1    | M1      |
//!
//! U's restructure (new terms 320,000 over 20 × 16,000 from 2025-08-10) is followed by 208,000
//! paid on 2025-07-20: 13 installments covered, DPD 0 to the book's end, outstanding 112,000.
//! Its class before was substandard (DPD 127), so it stays substandard for the observation
//! period, business dates 2025-07-15 to 2026-07-14, and is normal at the 2026-07 month-end.
//! V pays 32,000 on 2025-08-10 and 2025-09-10 (608,000 then 576,000 outstanding), is
//! restructured on 2025-10-10 at DPD 0 (new terms 576,000 over 18 × 32,000 from 2025-11-10) and
//! prepays 320,000 on 2025-10-12: 256,000 outstanding, DPD 0, special mention while observed.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use postloan_engine::jump::Followers;
use postloan_engine::{ClockMode, Engine, Input};
use postloan_monitor::config::Config;
use postloan_monitor::metrics::Metrics;
use postloan_monitor::report::{self, html};
use postloan_monitor::runtime::observe::{Observer, Work};

fn t(local: &str) -> String {
    format!("{local}+08:00")
}

#[allow(clippy::too_many_arguments)]
fn opened(
    id: &str,
    at: &str,
    principal: u32,
    inst: u32,
    due: &str,
    branch: &str,
    mgr: &str,
) -> Value {
    json!({
        "event_id": format!("open-{id}"), "type": "loan_opened", "borrower_id": format!("B-{id}"),
        "occurred_at": t(at), "loan_id": format!("L-{id}"), "principal": format!("{principal}.00"),
        "currency": "CNY", "annual_rate": "0", "term_months": principal / inst,
        "first_due_date": due, "installment_amount": format!("{inst}.00"),
        "collateral_value": format!("{}.00", principal * 2), "branch_id": branch,
        "manager_id": mgr, "dealer_id": "D1"
    })
}

fn paid(id: &str, n: u32, at: &str, amount: u32) -> Value {
    json!({
        "event_id": format!("pay-{id}-{n}"), "type": "repayment", "borrower_id": format!("B-{id}"),
        "occurred_at": t(at), "loan_id": format!("L-{id}"), "payment_id": format!("P-{id}-{n}"),
        "amount": format!("{amount}.00"), "currency": "CNY", "status": "received"
    })
}

fn restructured(id: &str, at: &str, principal: u32, inst: u32, due: &str) -> Value {
    json!({
        "event_id": format!("rs-{id}"), "type": "loan_modified", "borrower_id": format!("B-{id}"),
        "occurred_at": t(at), "loan_id": format!("L-{id}"), "kind": "restructure",
        "effective_date": &at[..10], "principal": format!("{principal}.00"), "annual_rate": "0",
        "term_months": principal / inst, "first_due_date": due,
        "installment_amount": format!("{inst}.00"), "approved_by": "credit-1"
    })
}

fn book() -> String {
    let mut events = vec![
        opened(
            "X",
            "2025-01-10T10:00:00",
            1_000_000,
            50_000,
            "2027-06-01",
            "BR2",
            "M2",
        ),
        opened(
            "W",
            "2025-01-15T10:00:00",
            5_000,
            1_000,
            "2025-02-15",
            "BR2",
            "M2",
        ),
        opened(
            "U",
            "2025-02-10T10:00:00",
            320_000,
            32_000,
            "2025-03-10",
            "BR2",
            "M1",
        ),
        opened(
            "Q",
            "2025-05-01T10:00:00",
            20_000,
            2_000,
            "2025-06-01",
            "BR1",
            "M1",
        ),
        opened(
            "P",
            "2025-05-02T10:00:00",
            10_000,
            1_000,
            "2025-06-02",
            "BR1",
            "M1",
        ),
        opened(
            "R",
            "2025-05-03T10:00:00",
            40_000,
            4_000,
            "2025-06-03",
            "BR2",
            "M2",
        ),
        opened(
            "T",
            "2025-05-04T10:00:00",
            160_000,
            16_000,
            "2025-06-04",
            "BR1",
            "M2",
        ),
        opened(
            "S",
            "2025-05-05T10:00:00",
            80_000,
            8_000,
            "2025-06-05",
            "BR2",
            "M2",
        ),
        opened(
            "V",
            "2025-07-10T10:00:00",
            640_000,
            32_000,
            "2025-08-10",
            "BR1",
            "M1",
        ),
        restructured("U", "2025-07-15T10:00:00", 320_000, 16_000, "2025-08-10"),
        paid("U", 1, "2025-07-20T10:00:00", 208_000),
        paid("V", 1, "2025-08-10T10:00:00", 32_000),
        paid("V", 2, "2025-09-10T10:00:00", 32_000),
        json!({"event_id": "close-W", "type": "loan_closed", "borrower_id": "B-W",
               "occurred_at": t("2025-09-20T10:00:00"), "loan_id": "L-W",
               "reason": "charged_off"}),
        restructured("V", "2025-10-10T10:00:00", 576_000, 32_000, "2025-11-10"),
        paid("V", 3, "2025-10-12T10:00:00", 320_000),
    ];
    events.sort_by_key(|e| e["occurred_at"].as_str().unwrap().to_owned());
    common::jsonl(&events)
}

/// Closes the 2026-07 month.
const UNTIL: &str = "2026-08-01T00:00:00+08:00";

fn csvs() -> BTreeMap<String, Vec<String>> {
    let settings = Arc::new(Config::default().engine_settings());
    let until = DateTime::parse_from_rfc3339(UNTIL)
        .unwrap()
        .with_timezone(&Utc);
    let text = book();
    let figures = report::collect(
        settings,
        &mut text.as_bytes(),
        "book.jsonl",
        Some(until),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(figures.months.len(), 19, "2025-01 to 2026-07");
    assert_eq!(figures.summary.rejected.len(), 0, "{:?}", figures.bad_lines);
    let dir = tempdir();
    let page = report::page(&figures);
    html::write_csvs(&dir, &page).unwrap();
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        out.insert(name, text.lines().map(str::to_owned).collect());
    }
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

fn tempdir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "postloan-report-book-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The rows of `csv` for `month` (its first column).
fn month<'a>(csv: &'a [String], month: &str) -> Vec<&'a str> {
    csv.iter()
        .filter(|l| l.starts_with(&format!("{month},")))
        .map(String::as_str)
        .collect()
}

#[test]
fn month_end_npl_and_class_mix_are_the_hand_computed_ones() {
    let csv = csvs();
    // (month, open loans, outstanding, NPL loans, NPL principal, NPL ratio, 30+, 90+):
    // - 2025-05: W substandard (DPD 105); U special mention (82); the May loans not yet due.
    // - 2025-06: U turns substandard (112); P..T at 25–29 DPD.
    // - 2025-07: U restructured (held substandard, 112,000 after its prepayment); V opens.
    // - 2025-08: Q at 91 is substandard, P at 90 is not; V 608,000 after one installment.
    // - 2025-09: W charged off; P..T past 90; V 576,000.
    // - 2025-10: V restructured, 256,000.
    // - 2026-02: P (271) and Q (272) doubtful, R at 270 still substandard: NPL unchanged.
    // - 2026-05: S at 360 doubtful, T at 361 loss: NPL unchanged.
    // - 2026-07: U's observation ended on 2026-07-15: normal, 112,000 leaves NPL.
    let npl = &csv["npl"];
    assert_eq!(
        npl[0],
        "month,currency,open loans,outstanding principal,non-performing loans,non-performing principal,NPL ratio,30+ principal,30+ ratio,90+ principal,90+ ratio"
    );
    for row in [
        "2025-05,CNY,8,1635000.00,1,5000.00,0.003058,325000.00,0.198777,5000.00,0.003058",
        "2025-06,CNY,8,1635000.00,2,325000.00,0.198777,325000.00,0.198777,325000.00,0.198777",
        "2025-07,CNY,9,2067000.00,2,117000.00,0.056604,315000.00,0.152395,5000.00,0.002419",
        "2025-08,CNY,9,2035000.00,3,137000.00,0.067322,315000.00,0.154791,35000.00,0.017199",
        "2025-09,CNY,8,1998000.00,6,422000.00,0.211211,310000.00,0.155155,310000.00,0.155155",
        "2025-10,CNY,8,1678000.00,6,422000.00,0.251490,310000.00,0.184744,310000.00,0.184744",
        "2026-02,CNY,8,1678000.00,6,422000.00,0.251490,310000.00,0.184744,310000.00,0.184744",
        "2026-05,CNY,8,1678000.00,6,422000.00,0.251490,310000.00,0.184744,310000.00,0.184744",
        "2026-07,CNY,8,1678000.00,5,310000.00,0.184744,310000.00,0.184744,310000.00,0.184744",
    ] {
        assert_eq!(month(npl, &row[..7]), [row], "npl {}", &row[..7]);
    }
    // Per class: loans, principal, share of the book.
    // - 2025-08: normal X + V; special mention P (90), R, S, T; substandard Q (91), U, W.
    // - 2026-02: doubtful P, Q; substandard R (270), S, T, U; special mention V.
    // - 2026-05: loss P, Q, R, T (361); doubtful S (360).
    // - 2026-06: S at 390 is loss too; U still held (through 2026-07-14).
    // - 2026-07: U normal.
    let classes = &csv["classes"];
    for row in [
        "2025-08,CNY,2,1608000.00,0.790172,4,290000.00,0.142506,3,137000.00,0.067322,0,0,0.000000,0,0,0.000000",
        "2026-02,CNY,1,1000000.00,0.595948,1,256000.00,0.152563,4,392000.00,0.233611,2,30000.00,0.017878,0,0,0.000000",
        "2026-05,CNY,1,1000000.00,0.595948,1,256000.00,0.152563,1,112000.00,0.066746,1,80000.00,0.047676,4,230000.00,0.137068",
        "2026-06,CNY,1,1000000.00,0.595948,1,256000.00,0.152563,1,112000.00,0.066746,0,0,0.000000,5,310000.00,0.184744",
        "2026-07,CNY,2,1112000.00,0.662694,1,256000.00,0.152563,0,0,0.000000,0,0,0.000000,5,310000.00,0.184744",
    ] {
        assert_eq!(month(classes, &row[..7]), [row], "classes {}", &row[..7]);
    }
    assert_eq!(csv["closings"][1..], ["2025-09,CNY,charged_off,1,5000.00"]);
}

#[test]
fn month_end_flows_and_moves_are_the_hand_computed_ones() {
    let csv = csvs();
    let flows = &csv["flows"];
    // Bucket at the previous month-end → bucket now (or closing).
    // 2025-05: P..T new; W 74 → 105; U 51 → 82.
    assert_eq!(
        month(flows, "2025-05"),
        [
            "2025-05,new,current,5",
            "2025-05,current,current,1",
            "2025-05,30-59,60-89,1",
            "2025-05,60-89,90+,1",
        ]
    );
    // 2025-07: V new; U cured by its restructure; Q 29 → 60, the others 25–28 → 56–59.
    assert_eq!(
        month(flows, "2025-07"),
        [
            "2025-07,new,current,1",
            "2025-07,current,current,1",
            "2025-07,1-29,30-59,4",
            "2025-07,1-29,60-89,1",
            "2025-07,90+,current,1",
            "2025-07,90+,90+,1",
        ]
    );
    // 2025-08: P 59 → 90 skips 60-89 at month-ends; R, S, T 56–58 → 87–89; Q 60 → 91.
    assert_eq!(
        month(flows, "2025-08"),
        [
            "2025-08,current,current,3",
            "2025-08,30-59,60-89,3",
            "2025-08,30-59,90+,1",
            "2025-08,60-89,90+,1",
            "2025-08,90+,90+,1",
        ]
    );
    // 2025-09: W leaves as a charge-off, from 90+ (not a cure).
    assert_eq!(
        month(flows, "2025-09"),
        [
            "2025-09,current,current,3",
            "2025-09,60-89,90+,3",
            "2025-09,90+,90+,2",
            "2025-09,90+,charged_off,1",
        ]
    );
    // Moves as they happened (what postloan_dpd_flows_total counts): in 2025-08 P passes
    // 60-89 on Aug 1 and reaches 90+ on Aug 31; R, S, T reach 60 on Aug 2–4; Q 90 on Aug 30.
    let moves = &csv["bucket-moves"];
    assert_eq!(
        month(moves, "2025-07"),
        [
            "2025-07,1-29,30-59,5",
            "2025-07,30-59,60-89,1",
            "2025-07,90+,current,1",
        ]
    );
    assert_eq!(
        month(moves, "2025-08"),
        ["2025-08,30-59,60-89,4", "2025-08,60-89,90+,2"]
    );
    // The last month's matrix, with its row shares: X, U and V stay current, P..T stay 90+.
    let matrix = &csv["flow-matrix"];
    assert_eq!(matrix.len(), 7, "header + new + five buckets");
    assert!(
        matrix[2].starts_with("current,3,3,0,0,0,0,0,0,0,0,1.000000,"),
        "{}",
        matrix[2]
    );
    assert!(
        matrix[6].starts_with("90+,5,0,0,0,0,5,0,0,0,0,"),
        "{}",
        matrix[6]
    );
}

#[test]
fn vintages_count_write_offs_as_bad() {
    let csv = csvs();
    let v = &csv["vintages"];
    // 2025Q1 = X and W (January) and U (February); 2025Q2 = P..T (May); 2025Q3 = V (July).
    for row in [
        // Month 0: all three current.
        "2025Q1,0,3,0,0,0.000000",
        // Month 2: W at 44 (March) and U at 51 (April) are 30+.
        "2025Q1,2,3,2,0,0.666667",
        // Month 8: W charged off (September) stays bad; U restructured and current (October).
        "2025Q1,8,3,0,1,0.333333",
        // Month 3 of May's loans is August: all five 87–91 DPD.
        "2025Q2,3,5,5,0,1.000000",
        "2025Q3,0,1,0,0,0.000000",
    ] {
        assert!(v.iter().any(|l| l == row), "missing {row} in {v:#?}");
    }
    // A quarter's curve stops where its latest month runs out of month-ends: February 2025
    // has 17 months on book by 2026-07, May 14, July 12.
    let last = |q: &str| {
        v.iter()
            .filter(|l| l.starts_with(q))
            .map(|l| l.split(',').nth(1).unwrap().parse::<u32>().unwrap())
            .max()
    };
    assert_eq!(
        (last("2025Q1"), last("2025Q2"), last("2025Q3")),
        (Some(17), Some(14), Some(12))
    );
}

/// Runs the book through an engine up to the month-end before `stop`, counting its notes as
/// committed work, and returns the metrics exposition there.
fn metrics_at(
    engine: &mut Engine,
    lines: &[String],
    next: &mut usize,
    stop: &str,
    m: &Metrics,
) -> String {
    let stop = DateTime::parse_from_rfc3339(stop)
        .unwrap()
        .with_timezone(&Utc);
    let mut out = Vec::new();
    while let Some(line) = lines.get(*next) {
        let input = Input {
            payload: line.as_bytes(),
            source: "book",
            key: None,
            full_size: None,
            occurred_at: None,
        };
        // A generated book has no clock jump to judge.
        let mut followers = |_| Followers::Confirmed;
        if engine
            .apply_before(input, &mut followers, stop, &mut out)
            .is_err()
        {
            break;
        }
        *next += 1;
    }
    let mut notes = Vec::new();
    engine.take_notes(&mut notes);
    let mut work = Work::default();
    for n in notes {
        work.note(n);
    }
    m.committed(&work, 1);
    m.portfolio(engine.portfolio());
    m.encode().unwrap()
}

#[test]
fn the_metrics_show_the_same_month_ends() {
    let settings = Arc::new(Config::default().engine_settings());
    let mut engine = Engine::new(settings, ClockMode::Event);
    engine.record_notes();
    let lines: Vec<String> = book().lines().map(str::to_owned).collect();
    let m = Metrics::new(500).unwrap();
    let mut next = 0;
    let aug = metrics_at(
        &mut engine,
        &lines,
        &mut next,
        "2025-09-01T00:00:00+08:00",
        &m,
    );
    let has = |text: &str, line: &str| assert!(text.contains(line), "missing {line:?} in\n{text}");
    for line in [
        // BR1: V normal; P (90) and T special mention; Q (91) substandard.
        r#"postloan_outstanding_principal_by_class{branch="BR1",classification="normal",currency="CNY"} 608000"#,
        r#"postloan_outstanding_principal_by_class{branch="BR1",classification="special_mention",currency="CNY"} 170000"#,
        r#"postloan_outstanding_principal_by_class{branch="BR1",classification="substandard",currency="CNY"} 20000"#,
        r#"postloan_loans_by_class{branch="BR1",classification="special_mention",currency="CNY"} 2"#,
        // BR2: X normal; R, S special mention; U (held) and W substandard.
        r#"postloan_outstanding_principal_by_class{branch="BR2",classification="normal",currency="CNY"} 1000000"#,
        r#"postloan_outstanding_principal_by_class{branch="BR2",classification="special_mention",currency="CNY"} 120000"#,
        r#"postloan_outstanding_principal_by_class{branch="BR2",classification="substandard",currency="CNY"} 117000"#,
        r#"postloan_loans_by_class{branch="BR2",classification="substandard",currency="CNY"} 2"#,
        // M1 = P, Q, U, V; M2 = R, S, T, W, X.
        r#"postloan_manager_outstanding_principal_by_class{classification="normal",currency="CNY",manager="M1"} 608000"#,
        r#"postloan_manager_outstanding_principal_by_class{classification="special_mention",currency="CNY",manager="M1"} 10000"#,
        r#"postloan_manager_outstanding_principal_by_class{classification="substandard",currency="CNY",manager="M1"} 132000"#,
        r#"postloan_manager_outstanding_principal_by_class{classification="special_mention",currency="CNY",manager="M2"} 280000"#,
        r#"postloan_manager_outstanding_principal_by_class{classification="substandard",currency="CNY",manager="M2"} 5000"#,
        // Every move so far: W, U and P..T down the ladder (Q and P to 90+ in August, W in
        // May, U in June), U back to current by its restructure.
        r#"postloan_dpd_flows_total{from="current",to="1-29"} 7"#,
        r#"postloan_dpd_flows_total{from="1-29",to="30-59"} 7"#,
        r#"postloan_dpd_flows_total{from="30-59",to="60-89"} 7"#,
        r#"postloan_dpd_flows_total{from="60-89",to="90+"} 4"#,
        r#"postloan_dpd_flows_total{from="90+",to="current"} 1"#,
        r#"postloan_dpd_flows_total{from="90+",to="60-89"} 0"#,
        r#"postloan_dpd_rolls_30_to_60_total{branch="BR1"} 3"#,
        r#"postloan_dpd_rolls_30_to_60_total{branch="BR2"} 4"#,
        // DPD alerts open: BR1 P and Q critical (≥ 90), T high; BR2 W critical, R and S high.
        r#"postloan_open_alerts{branch="BR1",severity="critical",signal="dpd",status="unacknowledged"} 2"#,
        r#"postloan_open_alerts{branch="BR1",severity="high",signal="dpd",status="unacknowledged"} 1"#,
        r#"postloan_open_alerts{branch="BR2",severity="critical",signal="dpd",status="unacknowledged"} 1"#,
        r#"postloan_open_alerts{branch="BR2",severity="high",signal="dpd",status="unacknowledged"} 2"#,
    ] {
        has(&aug, line);
    }
    assert!(
        !aug.contains("postloan_loans_closed_total{"),
        "nothing closed yet"
    );
    let sep = metrics_at(
        &mut engine,
        &lines,
        &mut next,
        "2025-10-01T00:00:00+08:00",
        &m,
    );
    for line in [
        r#"postloan_loans_closed_total{currency="CNY",reason="charged_off"} 1"#,
        r#"postloan_closed_principal_total{currency="CNY",reason="charged_off"} 5000"#,
        // R, S, T reach 90 on Sep 1–3.
        r#"postloan_dpd_flows_total{from="60-89",to="90+"} 7"#,
        // The charged-off loan left the book: BR2 substandard is R, S and U.
        r#"postloan_outstanding_principal_by_class{branch="BR2",classification="substandard",currency="CNY"} 232000"#,
        r#"postloan_outstanding_principal_by_class{branch="BR1",classification="substandard",currency="CNY"} 190000"#,
    ] {
        has(&sep, line);
    }
}

/// A book whose clock passes no month-end (or an empty one) still makes a page and its CSVs:
/// every section, no rows, and the header says why.
#[test]
fn a_book_without_a_month_end_still_makes_a_page() {
    let settings = Arc::new(Config::default().engine_settings());
    for text in [
        String::new(),
        common::jsonl(&[opened(
            "X",
            "2025-01-10T10:00:00",
            1_000,
            100,
            "2025-02-10",
            "BR1",
            "M1",
        )]),
    ] {
        let (figures, page, html) = report::report(
            Arc::clone(&settings),
            &mut text.as_bytes(),
            "book.jsonl",
            None,
            &mut |_| {},
        )
        .unwrap();
        assert!(figures.months.is_empty());
        assert!(
            html.contains("the clock passed no month-end"),
            "{html:.3000}"
        );
        let dir = tempdir();
        let written = html::write_csvs(&dir, &page).unwrap();
        assert_eq!(written.len(), page.sections.len());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// NPL is per currency, never summed: a non-performing USD loan beside a performing CNY one.
#[test]
fn npl_is_computed_per_currency() {
    let mut usd = opened(
        "Y",
        "2025-01-10T10:00:00",
        10_000,
        1_000,
        "2025-02-10",
        "BR1",
        "M1",
    );
    usd["currency"] = "USD".into();
    let cny = opened(
        "X",
        "2025-01-10T10:00:00",
        1_000_000,
        50_000,
        "2027-06-01",
        "BR1",
        "M1",
    );
    let text = common::jsonl(&[cny, usd]);
    let settings = Arc::new(Config::default().engine_settings());
    let until = DateTime::parse_from_rfc3339("2025-06-01T00:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc);
    let (_, page, _) = report::report(
        settings,
        &mut text.as_bytes(),
        "book.jsonl",
        Some(until),
        &mut |_| {},
    )
    .unwrap();
    let dir = tempdir();
    html::write_csvs(&dir, &page).unwrap();
    let npl = std::fs::read_to_string(dir.join("npl.csv")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // 2025-05-31: Y at 110 DPD is substandard, all of USD's book; X keeps CNY at 0.
    assert!(
        npl.contains("2025-05,CNY,1,1000000.00,0,0,0.000000,0,0.000000,0,0.000000\n"),
        "{npl}"
    );
    assert!(
        npl.contains(
            "2025-05,USD,1,10000.00,1,10000.00,1.000000,10000.00,1.000000,10000.00,1.000000\n"
        ),
        "{npl}"
    );
}
