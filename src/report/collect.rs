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

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;

use super::figures::{
    bucket_index, next_month, Book, Closings, Figures, From, Label, LabelBook, Month, To,
    VintageCell,
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

    fn input(&mut self, _outcome: Outcome, engine: &Engine) {
        if self.next.is_none() {
            self.next = engine.clock().map(|t| self.cut_after(t));
        }
    }

    fn next_stop(&self) -> Option<DateTime<Utc>> {
        self.next.map(|(_, stop)| stop)
    }

    /// Reads the book at the end of the month the stop closes, and moves on to the next.
    fn stop(&mut self, engine: &Engine, at: DateTime<Utc>) {
        let Some((first, _)) = self.next else { return };
        self.month_end(engine, first, at);
        let after = next_month(first);
        self.next = Some((after, start_of_day(next_month(after), self.tz)));
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
    let mut c = Collector {
        tz: settings.tz,
        next: None,
        months: Vec::new(),
        period: Period::default(),
        previous: FxHashMap::default(),
        cohort_closed: BTreeMap::new(),
        vintages: BTreeMap::new(),
        labels: BTreeMap::new(),
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
    })
}
