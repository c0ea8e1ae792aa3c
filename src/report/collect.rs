//! The replay behind a report: the engine over the input with the event clock, stopped just
//! before every month-end cut (local midnight starting a month) to read the book as it stood
//! at the end of the month's last business date.
//!
//! The stops change nothing the engine publishes: [`Engine::apply_before`] holds the input that
//! would cross the cut, the clock moves to the instant before it (firing what is due by then),
//! the book is read, and the held input is applied as replay would apply it. What happened
//! between two stops (bucket moves, closings, alerts, escalations) belongs to the month that
//! ends at the second; since an effect carries max(occurred_at, clock), that is also the
//! month of its `event_time`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;

use super::figures::{
    bucket_index, next_month, BadLine, Book, Closings, Figures, From, Label, LabelBook, Month, To,
    VintageCell, MAX_BAD_LINES,
};
use super::ReportError;
use crate::replay::{Lines, Summary};
use postloan_engine::cut::Cut;
use postloan_engine::event::{CloseReason, Currency};
use postloan_engine::output::{AlertStatus, Output};
use postloan_engine::portfolio::{DpdBucket, Note};
use postloan_engine::time::{business_date, start_of_day};
use postloan_engine::types::Signal;
use postloan_engine::{ClockMode, Engine, Settings};

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
    months: Vec<Month>,
    period: Period,
    /// Each open loan's bucket at the last month-end, by (borrower, loan).
    previous: FxHashMap<(Arc<str>, Arc<str>), DpdBucket>,
    /// Closings so far by cohort month: (closed, of which charged off or repossessed).
    cohort_closed: BTreeMap<NaiveDate, (u64, u64)>,
    vintages: BTreeMap<(NaiveDate, NaiveDate), VintageCell>,
    labels: BTreeMap<(Label, Arc<str>, Currency), LabelBook>,
    summary: Summary,
    bad_lines: Vec<BadLine>,
    notes: Vec<Note>,
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

    fn messages(&mut self, out: &mut Vec<Output>) {
        for m in out.drain(..) {
            self.summary.count_output(&m);
            match m {
                Output::Alert(a) if a.status == AlertStatus::Firing => {
                    self.period.alerts[a.signal.index()] += 1;
                }
                Output::Escalation(e) => {
                    let level = usize::from(e.level.clamp(1, 2)) - 1;
                    self.period.escalations[e.signal.index()][level] += 1;
                }
                Output::Rejected(r) if self.bad_lines.len() < MAX_BAD_LINES => {
                    self.bad_lines.push(BadLine {
                        source: r.source,
                        error_kind: r.error_kind.as_str(),
                        error: r.error,
                    });
                }
                _ => {}
            }
        }
    }

    fn notes(&mut self, engine: &mut Engine) {
        engine.take_notes(&mut self.notes);
        for n in self.notes.drain(..) {
            match n {
                Note::Flowed { from, to } => {
                    self.period.moves[bucket_index(from)][bucket_index(to)] += 1;
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
    }

    /// Takes in what the engine published and noted up to just before `stop`, reads the book
    /// at the end of the month starting `first`, and returns the next month and its cut.
    fn close_month(
        &mut self,
        engine: &mut Engine,
        first: NaiveDate,
        stop: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> (NaiveDate, DateTime<Utc>) {
        self.messages(out);
        self.notes(engine);
        self.month_end(engine, first, stop);
        let after = next_month(first);
        (after, start_of_day(next_month(after), self.tz))
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

/// Replays `input` with the event clock, reading the book at every month-end the clock passes
/// (and, with `until`, at those up to it). `on_progress` gets the bytes consumed so far.
pub fn collect(
    settings: Arc<Settings>,
    input: &mut dyn BufRead,
    name: &str,
    until: Option<DateTime<Utc>>,
    on_progress: &mut dyn FnMut(u64),
) -> Result<Figures, ReportError> {
    let started = std::time::Instant::now();
    let mut engine = Engine::new(Arc::clone(&settings), ClockMode::Event);
    engine.discard_changes();
    engine.record_notes();
    let mut c = Collector {
        tz: settings.tz,
        months: Vec::new(),
        period: Period::default(),
        previous: FxHashMap::default(),
        cohort_closed: BTreeMap::new(),
        vintages: BTreeMap::new(),
        labels: BTreeMap::new(),
        summary: Summary::default(),
        bad_lines: Vec::new(),
        notes: Vec::new(),
    };
    let mut out = Vec::new();
    let mut lines = Lines::new(input, name, Cut::from_limits(&settings.limits));
    // The month the clock is in and the cut that ends it, once there is a clock.
    let mut next: Option<(NaiveDate, DateTime<Utc>)> = None;
    while let Some(input) = lines
        .next(&mut c.summary)
        .map_err(|source| ReportError::Read {
            name: name.to_owned(),
            source,
        })?
    {
        let outcome = loop {
            let Some((first, stop)) = next else {
                break engine.apply(input, &mut out);
            };
            match engine.apply_before(input, stop, &mut out) {
                Ok(outcome) => break outcome,
                Err(_held) => next = Some(c.close_month(&mut engine, first, stop, &mut out)),
            }
        };
        c.summary.count_outcome(outcome);
        c.messages(&mut out);
        c.notes(&mut engine);
        if next.is_none() {
            next = engine.clock().map(|t| c.cut_after(t));
        }
        if c.summary.lines % 4096 == 0 {
            on_progress(lines.consumed());
        }
    }
    if let Some(t) = until {
        while let Some((first, stop)) = next.filter(|(_, stop)| *stop <= t) {
            engine.advance_to(stop - chrono::Duration::nanoseconds(1), &mut out);
            next = Some(c.close_month(&mut engine, first, stop, &mut out));
        }
        engine.advance_to(t, &mut out);
        c.messages(&mut out);
        c.notes(&mut engine);
    }
    on_progress(lines.consumed());
    let mut summary = c.summary;
    summary.borrowers = engine.borrower_count() as u64;
    summary.open_loans = engine.open_loan_count() as u64;
    summary.clock = engine.clock();
    summary.elapsed = started.elapsed();
    Ok(Figures {
        input: name.to_owned(),
        zone: settings.tz,
        rules_version: Arc::clone(&settings.rules_version),
        class_starts: settings.classification.starts(),
        months: c.months,
        labels: c.labels,
        vintages: c.vintages,
        summary,
        bad_lines: c.bad_lines,
    })
}
