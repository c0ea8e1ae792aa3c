//! The replay behind a report: the engine over the input with the event clock (the replay
//! driver, [`crate::replay::drive`], with this module's visitor), stopped just before every
//! month-end cut (local midnight starting a month) to read the book as it stood at the end of
//! the month's last business date.
//!
//! The stops change nothing the engine publishes: [`Engine::apply_before`] holds the input that
//! would cross the cut, the clock moves to the instant before it (firing what is due by then),
//! the book is read, and the held input is applied as replay would apply it. What happened
//! between two stops (bucket moves, closings, alerts, escalations) belongs to the month that
//! ends at the second; since an effect carries max(occurred_at, clock), that is also the
//! month of its `event_time`.
//!
//! A month-end is written only when an applied event vouches for it: the clock reached its cut
//! on an applied event's `occurred_at` (or `--until` asks for it). Rejected lines move the
//! clock too (a state conflict such as `unknown_loan` takes its time), so a line dated years
//! ahead would otherwise have the report read hundreds of month-ends of a book nobody wrote
//! to. Month-ends past both are read (the clock stops there either way) but held back, and
//! dropped at the end unless a later applied event reaches them.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;

use super::figures::{
    bucket_index, next_month, Book, Closings, Figures, From, Label, LabelBook, Month, To,
    VintageCell, Withheld,
};
use super::ReportError;
use crate::replay::{drive, Visitor};
use postloan_engine::event::{CloseReason, Currency};
use postloan_engine::output::{AlertStatus, Output};
use postloan_engine::portfolio::{DpdBucket, Note};
use postloan_engine::time::{business_date, start_of_day};
use postloan_engine::types::Signal;
use postloan_engine::{Engine, Outcome, Settings};

/// What happened since the last month-end.
#[derive(Debug, Default)]
struct Period {
    moves: [[u64; 5]; 5],
    closings: BTreeMap<(Currency, CloseReason), Closings>,
    /// Closings by where the loan was at the previous month-end.
    closed_flows: BTreeMap<(From, To), u64>,
    alerts: [u64; SIGNALS],
    escalations: [[u64; 2]; SIGNALS],
}

const SIGNALS: usize = Signal::ALL.len();

struct Collector {
    tz: Tz,
    /// The month the clock is in and the cut that ends it, once there is a clock.
    next: Option<(NaiveDate, DateTime<Utc>)>,
    months: Vec<Month>,
    period: Period,
    /// Each open loan's bucket at the last month-end, by (borrower, loan).
    previous: FxHashMap<(Arc<str>, Arc<str>), DpdBucket>,
    /// Closings so far by cohort month: (closed, of which charged off or repossessed).
    cohort_closed: BTreeMap<NaiveDate, (u64, u64)>,
    vintages: BTreeMap<(NaiveDate, NaiveDate), VintageCell>,
    labels: BTreeMap<(Label, Arc<str>, Currency), LabelBook>,
    /// Month-ends up to this are written whatever the events (`--until`).
    until: Option<DateTime<Utc>>,
    /// The engine's clock at the last input or stop, to tell whether an input moved it.
    clock_seen: Option<DateTime<Utc>>,
    /// The latest `occurred_at` of an applied input, as far as the clock tells (see
    /// [`Visitor::input`]).
    last_applied: Option<DateTime<Utc>>,
    /// Month-ends read so far that no applied event (nor `--until`) vouches for.
    held: Option<Held>,
    /// What [`Visitor::finish`] dropped.
    withheld: Option<Withheld>,
}

/// The month-ends at the end of `months` that may yet be dropped.
#[derive(Debug)]
struct Held {
    /// Index in `months` of the first.
    from: usize,
    /// The labels as of the month-end before it, which the report shows if they are dropped.
    labels: BTreeMap<(Label, Arc<str>, Currency), LabelBook>,
}

fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

impl Collector {
    /// The cut that ends the month of `clock`.
    fn cut_after(&self, clock: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
        let first = month_of(business_date(clock, self.tz));
        (first, start_of_day(next_month(first), self.tz))
    }

    /// Reads the book at the end of the month starting `first` (the engine stands just
    /// before its cut).
    fn month_end(&mut self, engine: &Engine, first: NaiveDate, cut: DateTime<Utc>) {
        let period = std::mem::take(&mut self.period);
        let mut books: BTreeMap<_, Book> = BTreeMap::new();
        let mut flows = period.closed_flows;
        let mut now = FxHashMap::default();
        now.reserve(self.previous.len());
        let mut cohorts: BTreeMap<NaiveDate, VintageCell> = BTreeMap::new();
        self.labels.clear();
        for b in engine.borrowers() {
            for loan in &b.loans {
                let Some(c) = loan.counted else { continue };
                books
                    .entry(loan.currency)
                    .or_default()
                    .add(c.class, c.bucket, c.outstanding);
                let key = (Arc::clone(&b.id), Arc::clone(&loan.id));
                let from = self
                    .previous
                    .get(&key)
                    .map_or(From::New, |b| From::Bucket(*b));
                *flows.entry((from, To::Bucket(c.bucket))).or_default() += 1;
                now.insert(key, c.bucket);
                let cell = cohorts.entry(month_of(loan.opened_date)).or_default();
                cell.open += 1;
                cell.open_dpd30 += u64::from(c.bucket >= DpdBucket::Dpd30To59);
                let npl = c.class.is_non_performing();
                for (label, value) in [
                    (Label::Branch, &loan.labels.branch_id),
                    (Label::Dealer, &loan.labels.dealer_id),
                    (Label::Manager, &loan.labels.manager_id),
                ] {
                    let Some(value) = value else { continue };
                    let e = self
                        .labels
                        .entry((label, Arc::clone(value), loan.currency))
                        .or_default();
                    e.loans += 1;
                    e.principal = e.principal.saturating_add(c.outstanding);
                    if npl {
                        e.npl_loans += 1;
                        e.npl_principal = e.npl_principal.saturating_add(c.outstanding);
                    }
                }
            }
        }
        self.previous = now;
        for (cohort, (closed, lost)) in &self.cohort_closed {
            let cell = cohorts.entry(*cohort).or_default();
            cell.closed = *closed;
            cell.lost = *lost;
        }
        for (cohort, cell) in cohorts {
            self.vintages.insert((cohort, first), cell);
        }
        self.months.push(Month {
            first,
            cut,
            books,
            flows,
            moves: period.moves,
            closings: period.closings,
            alerts: period.alerts,
            escalations: period.escalations,
        });
    }
}

impl Visitor for Collector {
    type Error = ReportError;
    const NOTES: bool = true;

    fn message(&mut self, message: &Output, _json: &[u8]) -> Result<(), ReportError> {
        match message {
            Output::Alert(a) if a.status == AlertStatus::Firing => {
                self.period.alerts[a.signal.index()] += 1;
            }
            Output::Escalation(e) => {
                let level = usize::from(e.level.clamp(1, 2)) - 1;
                self.period.escalations[e.signal.index()][level] += 1;
            }
            _ => {}
        }
        Ok(())
    }

    fn note(&mut self, note: &Note, _clock: Option<DateTime<Utc>>) {
        match note {
            Note::Flowed { from, to } => {
                self.period.moves[bucket_index(*from)][bucket_index(*to)] += 1;
            }
            Note::Closed(c) => {
                let k = (c.currency, c.reason);
                let e = self.period.closings.entry(k).or_default();
                e.loans += 1;
                e.principal = e.principal.saturating_add(c.outstanding);
                let from = self
                    .previous
                    .remove(&(Arc::clone(&c.borrower_id), Arc::clone(&c.loan_id)))
                    .map_or(From::New, From::Bucket);
                *self
                    .period
                    .closed_flows
                    .entry((from, To::Closed(c.reason)))
                    .or_default() += 1;
                let cohort = self
                    .cohort_closed
                    .entry(month_of(c.opened_date))
                    .or_default();
                cohort.0 += 1;
                cohort.1 += u64::from(c.reason.is_loss());
            }
            _ => {}
        }
    }

    fn input(&mut self, outcome: Outcome, engine: &Engine) {
        let clock = engine.clock();
        if self.next.is_none() {
            self.next = clock.map(|t| self.cut_after(t));
        }
        // The event clock is the largest `occurred_at` so far: an applied input that moved it
        // happened exactly at the new clock, past every month-end read so far. One that did
        // not happened at or before the clock, when is not known here, so it vouches for
        // nothing new; else a late event could vouch for month-ends only a rejected line
        // pushed the clock past.
        if matches!(outcome, Outcome::Applied(_)) && clock > self.clock_seen {
            self.last_applied = clock;
            self.held = None;
        }
        self.clock_seen = clock;
    }

    fn next_stop(&self) -> Option<DateTime<Utc>> {
        self.next.map(|(_, stop)| stop)
    }

    /// Reads the book at the end of the month the stop closes, and moves on to the next.
    fn stop(&mut self, engine: &Engine, at: DateTime<Utc>) {
        let Some((first, _)) = self.next else { return };
        let vouched = self.until.is_some_and(|u| at <= u) || self.last_applied >= Some(at);
        if !vouched && self.held.is_none() {
            self.held = Some(Held {
                from: self.months.len(),
                // `month_end` rebuilds the labels from scratch.
                labels: std::mem::take(&mut self.labels),
            });
        }
        self.month_end(engine, first, at);
        self.clock_seen = engine.clock();
        let after = next_month(first);
        self.next = Some((after, start_of_day(next_month(after), self.tz)));
    }

    /// Drops the month-ends no applied event reached, with what they added.
    fn finish(&mut self) -> Result<(), ReportError> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        let dropped = self.months.split_off(held.from);
        self.labels = held.labels;
        if let (Some(first), Some(last)) = (dropped.first(), dropped.last()) {
            self.vintages.retain(|(_, month), _| *month < first.first);
            self.withheld = Some(Withheld {
                first: first.first,
                last: last.first,
                months: dropped.len(),
                last_applied: self.last_applied,
            });
        }
        Ok(())
    }
}

/// Replays `input` with the event clock, reading the book at every month-end the clock passes
/// up to the last applied event (and, with `until`, at those up to it); the others the clock
/// passed are counted in [`Figures::withheld`]. `on_progress` gets the bytes consumed so far.
pub fn collect(
    settings: Arc<Settings>,
    input: &mut dyn BufRead,
    name: &str,
    until: Option<DateTime<Utc>>,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Figures, ReportError> {
    let mut c = Collector {
        tz: settings.tz,
        next: None,
        months: Vec::new(),
        period: Period::default(),
        previous: FxHashMap::default(),
        cohort_closed: BTreeMap::new(),
        vintages: BTreeMap::new(),
        labels: BTreeMap::new(),
        until,
        clock_seen: None,
        last_applied: None,
        held: None,
        withheld: None,
    };
    let replayed = drive(
        Arc::clone(&settings),
        input,
        name,
        until,
        &mut c,
        on_progress,
    )?;
    Ok(Figures {
        input: name.to_owned(),
        zone: settings.tz,
        rules_version: Arc::clone(&settings.rules_version),
        class_starts: settings.classification.starts(),
        months: c.months,
        labels: c.labels,
        vintages: c.vintages,
        summary: replayed.summary,
        bad_lines: replayed.bad_lines,
        withheld: c.withheld,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn opened(n: u32, at: &str, first_due: &str) -> String {
        format!(
            r#"{{"event_id":"o{n}","type":"loan_opened","borrower_id":"B{n}","occurred_at":"{at}T10:00:00+08:00","loan_id":"L{n}","principal":"1000","currency":"CNY","annual_rate":"0","term_months":10,"first_due_date":"{first_due}","installment_amount":"100","collateral_value":"2000","branch_id":"BR{n}"}}"#
        )
    }

    /// B1's repayment of a loan it does not have: rejected `unknown_loan`, but a state
    /// conflict takes its time, so the clock moves there.
    fn unknown_loan(at: &str) -> String {
        format!(
            r#"{{"event_id":"x","type":"repayment","borrower_id":"B1","occurred_at":"{at}T10:00:00+08:00","loan_id":"L9","payment_id":"P9","amount":"100","currency":"CNY","status":"received"}}"#
        )
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn month(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").unwrap()
    }

    #[test]
    fn month_ends_past_the_last_applied_event_are_written_only_when_asked() {
        // L1 (BR1) never pays its first installment, due 2025-12-05: DPD 57 at the January
        // month-end, 85 at February's, 116 (substandard: NPL) at March's. L2 opens on
        // 2026-02-10, the last applied event; the rejected line takes the clock to April 20.
        let book = [
            opened(1, "2025-12-01", "2025-12-05"),
            opened(2, "2026-02-10", "2026-03-10"),
            unknown_loan("2026-04-20"),
        ]
        .join("\n");
        struct Case {
            name: &'static str,
            extra: Option<String>,
            until: Option<&'static str>,
            months: &'static [&'static str],
            withheld: Option<(&'static str, &'static str, usize)>,
            br1_npl: u64,
        }
        let cases = [
            Case {
                name: "the book as it is",
                extra: None,
                until: None,
                months: &["2025-12", "2026-01"],
                withheld: Some(("2026-02", "2026-03", 2)),
                br1_npl: 0,
            },
            Case {
                // Applied, but behind the clock: when it happened is not known, so it does
                // not vouch for the month-ends the rejected line took the clock past.
                name: "a late applied event",
                extra: Some(opened(3, "2026-03-15", "2026-04-15")),
                until: None,
                months: &["2025-12", "2026-01"],
                withheld: Some(("2026-02", "2026-03", 2)),
                br1_npl: 0,
            },
            Case {
                name: "an applied event past the month-ends",
                extra: Some(opened(3, "2026-04-25", "2026-05-25")),
                until: None,
                months: &["2025-12", "2026-01", "2026-02", "2026-03"],
                withheld: None,
                br1_npl: 1,
            },
            Case {
                name: "--until between them",
                extra: None,
                until: Some("2026-03-01T00:00:00+08:00"),
                months: &["2025-12", "2026-01", "2026-02"],
                withheld: Some(("2026-03", "2026-03", 1)),
                br1_npl: 0,
            },
            Case {
                name: "--until past them",
                extra: None,
                until: Some("2026-05-01T00:00:00+08:00"),
                months: &["2025-12", "2026-01", "2026-02", "2026-03", "2026-04"],
                withheld: None,
                br1_npl: 1,
            },
        ];
        // A sparse hand-written book: its events lie months apart, so the clock-jump rule is
        // widened for it; the rejected line then moves the clock as any state conflict does.
        let settings = Arc::new(
            Config::from_toml("[limits]\nmax_clock_jump_days = 400")
                .unwrap()
                .engine_settings(),
        );
        for c in cases {
            let text = match &c.extra {
                Some(line) => format!("{book}\n{line}\n"),
                None => format!("{book}\n"),
            };
            let f = collect(
                Arc::clone(&settings),
                &mut text.as_bytes(),
                "book.jsonl",
                c.until.map(at),
                &mut |_| {},
            )
            .unwrap();
            let labels: Vec<String> = f.months.iter().map(Month::label).collect();
            assert_eq!(labels, c.months, "{}", c.name);
            assert_eq!(
                f.summary.rejected.values().sum::<u64>(),
                1,
                "{}: the rejected line",
                c.name
            );
            let expected = c.withheld.map(|(first, last, months)| Withheld {
                first: month(first),
                last: month(last),
                months,
                last_applied: Some(at("2026-02-10T10:00:00+08:00")),
            });
            assert_eq!(f.withheld, expected, "{}", c.name);
            // What the page shows of labels and vintages is as of the last month-end written.
            let br1 = f
                .labels
                .get(&(Label::Branch, Arc::from("BR1"), Currency(*b"CNY")))
                .cloned()
                .unwrap_or_else(LabelBook::default);
            assert_eq!((br1.loans, br1.npl_loans), (1, c.br1_npl), "{}", c.name);
            let last_vintage = f.vintages.keys().map(|(_, m)| *m).max();
            assert_eq!(
                last_vintage
                    .map(|m| m.format("%Y-%m").to_string())
                    .as_deref(),
                c.months.last().copied(),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn no_applied_event_vouches_for_no_month_end() {
        // A sparse hand-written book: its events lie months apart, so the clock-jump rule is
        // widened for it; the rejected line then moves the clock as any state conflict does.
        let settings = Arc::new(
            Config::from_toml("[limits]\nmax_clock_jump_days = 400")
                .unwrap()
                .engine_settings(),
        );
        let text = format!(
            "{}\n{}\n",
            unknown_loan("2026-01-10"),
            unknown_loan("2026-03-10")
        );
        let f = collect(settings, &mut text.as_bytes(), "b", None, &mut |_| {}).unwrap();
        assert!(f.months.is_empty() && f.vintages.is_empty());
        let w = f.withheld.expect("withheld");
        assert_eq!(
            (w.first, w.last, w.months),
            (month("2026-01"), month("2026-02"), 2)
        );
        assert_eq!(w.last_applied, None);
    }
}
