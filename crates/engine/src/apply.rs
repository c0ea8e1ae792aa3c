//! Applying one decoded event to state, and working out a borrower's next timer.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::event::{Body, Currency, Event, RepaymentStatus};
use super::lifecycle;
use super::output::Output;
use super::portfolio::Note;
use super::reject::{ErrorKind, Rejection};
use super::schedule::Terms;
use super::signals::Facts;
use super::state::{
    id_hash, insert_observation, reserve_compact, Borrower, Failure, Labels, Loan, Observation,
    Payment,
};
use super::time::{business_date, start_of_day};
use super::types::{Scope, Signal};
use super::{Engine, Settings};

fn unknown_loan(borrower: &str, loan: &str) -> Rejection {
    Rejection::new(
        ErrorKind::UnknownLoan,
        format!("field `loan_id`: borrower {borrower} has no open loan {loan:?}"),
    )
}

fn check_currency(got: Currency, loan: &Loan) -> Result<(), Rejection> {
    if got == loan.currency {
        return Ok(());
    }
    Err(Rejection::new(
        ErrorKind::CurrencyMismatch,
        format!(
            "field `currency` {} differs from loan {}'s currency {}",
            got.as_str(),
            loan.id,
            loan.currency.as_str()
        ),
    ))
}

impl Engine {
    /// Applies a decoded event at `now`; returns the borrower's index.
    pub(super) fn apply_event(
        &mut self,
        event: &Event<'_>,
        known: Option<u32>,
        now: DateTime<Utc>,
        out: &mut Vec<Output>,
    ) -> Result<usize, Rejection> {
        let settings = Arc::clone(&self.settings);
        let borrower_id = &*event.borrower_id;
        let i = match &event.body {
            Body::LoanOpened(lo) => {
                if let Some(i) = known {
                    let b = &self.borrowers[i as usize];
                    if b.loan_index(&lo.loan_id).is_some() {
                        return Err(Rejection::new(
                            ErrorKind::DuplicateLoan,
                            format!("field `loan_id`: loan {:?} is already open", lo.loan_id),
                        ));
                    }
                    let max = settings.limits.max_open_loans_per_borrower;
                    if b.loans.len() >= max {
                        return Err(Rejection::new(
                            ErrorKind::LimitExceeded,
                            format!(
                                "field `loan_id`: borrower {borrower_id:?} already has {max} open loans (limits.max_open_loans_per_borrower)"
                            ),
                        ));
                    }
                }
                let labels = Labels {
                    manager_id: self.intern(lo.manager_id.as_deref()),
                    branch_id: self.intern(lo.branch_id.as_deref()),
                    dealer_id: self.intern(lo.dealer_id.as_deref()),
                };
                let i = self.borrower_index(known, borrower_id);
                let b = &mut self.borrowers[i];
                let stamp = b.stamp(event.occurred_at);
                let opened_date = business_date(event.occurred_at, settings.tz);
                b.loans.push(Loan {
                    id: Arc::from(&*lo.loan_id),
                    currency: lo.currency,
                    terms: Terms {
                        principal: lo.principal,
                        annual_rate: lo.annual_rate,
                        term_months: lo.term_months,
                        first_due_date: lo.first_due_date,
                        installment: lo.installment_amount,
                    },
                    opened_date,
                    labels,
                    paid: Decimal::ZERO,
                    payments: Vec::new(),
                    reversed: Vec::new(),
                    last_received: None,
                    failures: Vec::new(),
                    valuations: vec![Observation {
                        stamp,
                        date: opened_date,
                        value: lo.collateral_value,
                    }],
                    covered: 0,
                    outstanding: lo.principal,
                    counted: None,
                });
                i
            }
            Body::LoanClosed { loan_id, reason } => {
                let (i, li) = self.find_loan(known, borrower_id, loan_id)?;
                let b = &mut self.borrowers[i];
                b.stamp(event.occurred_at);
                let currency = b.loans[li].currency;
                let facts = Facts::LoanClosed(*reason);
                lifecycle::close_loan(b, loan_id, &facts, currency.as_str(), now, &settings, out);
                let mut gone = b.loans.remove(li);
                self.portfolio.uncount_loan(&mut gone);
                i
            }
            Body::Repayment(r) => {
                let (i, li) = self.find_loan(known, borrower_id, &r.loan_id)?;
                let b = &mut self.borrowers[i];
                check_currency(r.currency, &b.loans[li])?;
                let pid = id_hash(&r.payment_id);
                // Taken for real only once every check below has passed: a rejection must not
                // move the borrower's arrival counter (it is state, in the snapshot).
                let stamp = b.next_stamp(event.occurred_at);
                let loan = &mut b.loans[li];
                match r.status {
                    RepaymentStatus::Received => {
                        if loan.payments.iter().any(|p| p.id == pid) {
                            return Err(Rejection::new(
                                ErrorKind::DuplicatePayment,
                                format!(
                                    "field `payment_id`: payment {:?} was already received",
                                    r.payment_id
                                ),
                            ));
                        }
                        reserve_compact(&mut loan.payments);
                        let Some(paid) = loan.paid.checked_add(r.amount) else {
                            return Err(Rejection::new(
                                ErrorKind::InvalidValue,
                                format!(
                                    "field `amount` {} would take the loan's cumulative paid past the decimal range",
                                    r.amount
                                ),
                            ));
                        };
                        loan.paid = paid;
                        if loan.payments.len() >= settings.limits.max_history_per_loan {
                            loan.payments.remove(0);
                        }
                        loan.payments.push(Payment {
                            id: pid,
                            amount: r.amount,
                        });
                        let last = loan.last_received.map_or(stamp, |l| l.max(stamp));
                        loan.last_received = Some(last);
                        loan.failures.retain(|f| f.stamp > last);
                    }
                    RepaymentStatus::Failed => {
                        if loan.last_received.is_none_or(|l| stamp > l) {
                            let pos = loan.failures.partition_point(|f| f.stamp <= stamp);
                            loan.failures.insert(
                                pos,
                                Failure {
                                    stamp,
                                    reason: r.failure_reason.as_deref().map(Into::into),
                                },
                            );
                            if loan.failures.len() > settings.limits.max_history_per_loan {
                                loan.failures.remove(0);
                            }
                        }
                    }
                    RepaymentStatus::Reversed => {
                        let Some(p) = loan.payments.iter().find(|p| p.id == pid) else {
                            return Err(Rejection::new(
                                ErrorKind::UnknownPayment,
                                format!(
                                    "field `payment_id`: payment {:?} was never received on loan {}",
                                    r.payment_id, loan.id
                                ),
                            ));
                        };
                        if loan.reversed.contains(&pid) {
                            return Err(Rejection::new(
                                ErrorKind::DuplicatePayment,
                                format!(
                                    "field `payment_id`: payment {:?} was already reversed",
                                    r.payment_id
                                ),
                            ));
                        }
                        // A reversal takes back what was received, whatever amount it states.
                        loan.paid -= p.amount;
                        if loan.reversed.len() >= settings.limits.max_history_per_loan {
                            loan.reversed.remove(0);
                        }
                        loan.reversed.push(pid);
                    }
                }
                refresh_outstanding(loan, settings.rules.arrears_tolerance.0);
                b.seq = stamp.seq;
                i
            }
            Body::Income(inc) => {
                if let Some(i) = known {
                    if let Some(l) = self.borrowers[i as usize]
                        .loans
                        .iter()
                        .find(|l| l.currency != inc.currency)
                    {
                        check_currency(inc.currency, l)?;
                    }
                }
                let i = self.borrower_index(known, borrower_id);
                let b = &mut self.borrowers[i];
                let stamp = b.stamp(event.occurred_at);
                let keep = settings.rules.income_drop.window_observations as usize + 1;
                let obs = Observation {
                    stamp,
                    date: business_date(event.occurred_at, settings.tz),
                    value: inc.monthly_income,
                };
                insert_observation(&mut b.incomes, obs, keep);
                i
            }
            Body::CollateralValuation(v) => {
                let (i, li) = self.find_loan(known, borrower_id, &v.loan_id)?;
                let b = &mut self.borrowers[i];
                check_currency(v.currency, &b.loans[li])?;
                let stamp = b.stamp(event.occurred_at);
                let obs = Observation {
                    stamp,
                    date: business_date(event.occurred_at, settings.tz),
                    value: v.value,
                };
                let vals = &mut b.loans[li].valuations;
                insert_observation(vals, obs, usize::MAX);
                prune_valuations(
                    vals,
                    settings.rules.collateral_drop.window_days,
                    settings.limits.max_history_per_loan,
                );
                i
            }
            Body::AlertAck { alert_id } => {
                let Some(i) = known else {
                    return Err(unknown_alert(alert_id));
                };
                let b = &mut self.borrowers[i as usize];
                if let Some(note) = ack(b, alert_id, event.occurred_at)? {
                    if let Some(notes) = self.notes.as_mut() {
                        notes.push(note);
                    }
                }
                b.stamp(event.occurred_at);
                i as usize
            }
        };
        self.evaluate(i, now, out);
        Ok(i)
    }

    fn borrower_index(&mut self, known: Option<u32>, borrower_id: &str) -> usize {
        if let Some(i) = known {
            return i as usize;
        }
        let id: Arc<str> = Arc::from(borrower_id);
        let i = self.borrowers.len();
        self.borrowers
            .push(Borrower::new(Arc::clone(&id), self.next_created));
        self.next_created += 1;
        self.portfolio.borrowers += 1;
        self.index.insert(id, i as u32);
        i
    }

    fn find_loan(
        &self,
        known: Option<u32>,
        borrower_id: &str,
        loan_id: &str,
    ) -> Result<(usize, usize), Rejection> {
        known
            .and_then(|i| {
                let i = i as usize;
                self.borrowers[i].loan_index(loan_id).map(|li| (i, li))
            })
            .ok_or_else(|| unknown_loan(borrower_id, loan_id))
    }

    pub(super) fn intern_labels(&mut self, l: &Labels) -> Labels {
        Labels {
            manager_id: self.intern(l.manager_id.as_deref()),
            branch_id: self.intern(l.branch_id.as_deref()),
            dealer_id: self.intern(l.dealer_id.as_deref()),
        }
    }

    fn intern(&mut self, label: Option<&str>) -> Option<Arc<str>> {
        let label = label?;
        if let Some(a) = self.labels.get(label) {
            return Some(Arc::clone(a));
        }
        let a: Arc<str> = Arc::from(label);
        self.labels.insert(label.into(), Arc::clone(&a));
        Some(a)
    }
}

fn unknown_alert(alert_id: &str) -> Rejection {
    Rejection::new(
        ErrorKind::UnknownAlert,
        format!("field `alert_id`: no alert {alert_id:?} was ever opened for this borrower"),
    )
}

/// Marks an alert acknowledged at `at`. An ack of a resolved alert is accepted and changes
/// nothing. The first ack of an open alert is noted for the time-to-ack figures.
fn ack(b: &mut Borrower, alert_id: &str, at: DateTime<Utc>) -> Result<Option<Note>, Rejection> {
    let parsed = alert_id
        .strip_prefix(&*b.id)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| {
            let mut parts = rest.rsplitn(3, '/');
            let n_text = parts.next()?;
            let signal = Signal::parse(parts.next()?)?;
            let loan = parts.next()?;
            let n: u32 = n_text
                .parse()
                .ok()
                .filter(|n: &u32| n.to_string() == n_text)?;
            let loan = (loan != "-").then_some(loan);
            let scope_ok = (signal.scope() == Scope::Loan) == loan.is_some();
            (scope_ok && n >= 1).then_some((loan, signal, n))
        });
    let Some((loan, signal, n)) = parsed else {
        return Err(unknown_alert(alert_id));
    };
    let Some(slot) = b
        .slot_index(loan, signal)
        .map(|i| &mut b.alerts[i])
        .filter(|s| n <= s.opened)
    else {
        return Err(unknown_alert(alert_id));
    };
    if n == slot.opened {
        if let Some(open) = slot.open.as_mut().filter(|o| !o.acked) {
            open.acked = true;
            return Ok(Some(Note::acked(signal, open.severity, open.opened_at, at)));
        }
    }
    Ok(None)
}

/// Keeps outstanding principal in step with what has been paid.
fn refresh_outstanding(loan: &mut Loan, tolerance: Decimal) {
    let covered = loan.terms.covered(loan.paid, tolerance);
    if covered == loan.covered {
        return;
    }
    loan.outstanding = if covered == loan.covered + 1 {
        loan.terms.amortize_month(loan.outstanding)
    } else {
        loan.terms.outstanding_after(covered)
    };
    loan.covered = covered;
}

/// Drops valuations that can no longer be a collateral-drop peak: older than the window before
/// the latest one. Past the cap, the lowest earlier value goes (it cannot be the peak while a
/// higher one stays in the window).
fn prune_valuations(vals: &mut Vec<Observation>, window_days: u32, keep: usize) {
    let Some(latest) = vals.last() else {
        return;
    };
    let from = latest.date - Duration::days(i64::from(window_days));
    let last = vals.len() - 1;
    let mut i = 0;
    vals.retain(|o| {
        let keep = i == last || o.date >= from;
        i += 1;
        keep
    });
    while vals.len() > keep.max(2) {
        let earlier = &vals[..vals.len() - 1];
        let lowest = earlier
            .iter()
            .enumerate()
            .min_by_key(|(_, o)| o.value)
            .map_or(0, |(i, _)| i);
        vals.remove(lowest);
    }
}

/// The borrower's next timer: the earliest future instant at which a DPD band, a staleness
/// deadline or an escalation level can change something.
pub(super) fn next_wake(b: &Borrower, now: DateTime<Utc>, s: &Settings) -> Option<DateTime<Utc>> {
    let today = business_date(now, s.tz);
    let mut next: Option<DateTime<Utc>> = None;
    let mut consider = |t: DateTime<Utc>| {
        if t > now && next.is_none_or(|n| t < n) {
            next = Some(t);
        }
    };
    for loan in &b.loans {
        if let Some(due) = loan.terms.first_uncovered_due(loan.covered) {
            let dpd = (today - due).num_days();
            if let Some(days) = s.dpd_boundaries.iter().find(|d| i64::from(**d) > dpd) {
                consider(start_of_day(due + Duration::days(i64::from(*days)), s.tz));
            }
        }
        if s.rules.stale_valuation.enabled {
            let since = loan.valuations.last().map_or(loan.opened_date, |v| v.date);
            let at = since + Duration::days(i64::from(s.rules.stale_valuation.after_days));
            if at > today {
                consider(start_of_day(at, s.tz));
            }
        }
    }
    if s.rules.stale_income.enabled && !b.loans.is_empty() {
        let since = b
            .incomes
            .last()
            .map(|o| o.date)
            .or_else(|| b.loans.iter().map(|l| l.opened_date).min());
        if let Some(since) = since {
            let at = since + Duration::days(i64::from(s.rules.stale_income.after_days));
            if at > today {
                consider(start_of_day(at, s.tz));
            }
        }
    }
    for slot in &b.alerts {
        if let Some(t) = slot
            .open
            .as_ref()
            .and_then(|a| lifecycle::next_escalation(a, s))
        {
            consider(t);
        }
    }
    next
}
