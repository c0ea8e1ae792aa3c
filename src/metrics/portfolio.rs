//! The risk teams' series: the book by DPD bucket, branch, dealer and currency, LTV and score
//! distributions and open alerts (gauges, set from the worker's summed portfolio after
//! commits), and counters of 30→60 rolls, acknowledgements, loan modifications and
//! suppressions (counted with committed work).
//!
//! Branch and dealer ids come from producers, so their label values are capped
//! (`[http] max_label_values`): the first values seen get series of their own, later ones are
//! counted under `other`; loans without one are counted under `unknown`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use prometheus::{GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Registry};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::{counter_vec, gauge, gauge_vec, MetricsError};
use crate::runtime::observe::Work;
use postloan_engine::portfolio::{DpdBucket, Portfolio, Standing, LTV_BANDS, SCORE_BANDS};
use postloan_engine::types::{ModificationKind, Severity, Signal, SuppressionReason};

/// Label value of a loan without a branch or dealer.
pub const UNKNOWN: &str = "unknown";
/// Label value of the branches or dealers past the cap.
pub const OTHER: &str = "other";

/// Seconds from an alert opening to its first acknowledgement: 5 min to 30 days.
const ACK_BUCKETS: [f64; 10] = [
    300.0,
    900.0,
    3600.0,
    14_400.0,
    28_800.0,
    86_400.0,
    172_800.0,
    259_200.0,
    604_800.0,
    2_592_000.0,
];

/// The label values a capped label (branch or dealer) has handed out.
struct Cap {
    max: usize,
    known: HashSet<Arc<str>>,
}

impl Cap {
    fn label<'a>(&mut self, v: &'a Option<Arc<str>>) -> &'a str {
        let Some(v) = v else { return UNKNOWN };
        if self.known.contains(v) {
            return v;
        }
        if self.known.len() < self.max {
            self.known.insert(Arc::clone(v));
            return v;
        }
        OTHER
    }
}

/// A gauge family whose label sets come and go (a branch's last loan in a bucket leaves):
/// series not set in a report are removed rather than left at their last value.
struct Family {
    vec: GaugeVec,
    last: HashSet<Vec<String>>,
}

impl Family {
    fn publish(&mut self, values: impl IntoIterator<Item = (Vec<String>, f64)>) {
        let mut now = HashSet::new();
        for (labels, v) in values {
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            self.vec.with_label_values(&refs).set(v);
            now.insert(labels);
        }
        for gone in self.last.difference(&now) {
            let refs: Vec<&str> = gone.iter().map(String::as_str).collect();
            let _ = self.vec.remove_label_values(&refs);
        }
        self.last = now;
    }
}

struct Mutable {
    branches: Cap,
    dealers: Cap,
    loans: Family,
    dealer_loans: Family,
    outstanding: Family,
}

/// Portfolio series over the monitor's registry.
pub(super) struct PortfolioMetrics {
    borrowers: IntGauge,
    active_borrowers: IntGauge,
    open_loans: IntGauge,
    ltv: GaugeVec,
    scores: GaugeVec,
    open_alerts: GaugeVec,
    rolls: IntCounterVec,
    acks: IntCounterVec,
    ack_delay: HistogramVec,
    modifications: IntCounterVec,
    suppressions: IntCounterVec,
    mutable: Mutex<Mutable>,
}

fn family(r: &Registry, name: &str, help: &str, labels: &[&str]) -> Result<Family, MetricsError> {
    Ok(Family {
        vec: gauge_vec(r, name, help, labels)?,
        last: HashSet::new(),
    })
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

impl PortfolioMetrics {
    pub(super) fn new(r: &Registry, max_label_values: usize) -> Result<Self, MetricsError> {
        let cap = || Cap {
            max: max_label_values,
            known: HashSet::new(),
        };
        Ok(PortfolioMetrics {
            borrowers: gauge(
                r,
                "postloan_borrowers",
                "Borrowers with state in the owned partitions (including those whose loans have all closed).",
            )?,
            active_borrowers: gauge(
                r,
                "postloan_active_borrowers",
                "Borrowers with at least one open loan.",
            )?,
            open_loans: gauge(r, "postloan_open_loans", "Open loans, all buckets together.")?,
            ltv: gauge_vec(
                r,
                "postloan_loans_by_ltv",
                "Open loans by loan-to-value band (outstanding principal / latest valuation; lower bound inclusive).",
                &["bucket"],
            )?,
            scores: gauge_vec(
                r,
                "postloan_borrowers_by_score",
                "Borrowers with an open loan by early-warning score band (bounds inclusive).",
                &["bucket"],
            )?,
            open_alerts: gauge_vec(
                r,
                "postloan_open_alerts",
                "Alerts open now, by signal, severity and standing (status unacknowledged: never acknowledged; acknowledged: an ack covers it at its severity now; risen_after_ack: acknowledged, then its severity rose above the acknowledged one; suppressed: its slot is suppressed, whatever its ack).",
                &["signal", "severity", "status"],
            )?,
            rolls: counter_vec(
                r,
                "postloan_dpd_rolls_30_to_60_total",
                "Loans that moved from 30-59 to 60 or more days past due, by branch and dealer.",
                &["branch", "dealer"],
            )?,
            acks: counter_vec(
                r,
                "postloan_alert_acks_total",
                "First acknowledgements of open alerts by collections, by signal and severity.",
                &["signal", "severity"],
            )?,
            ack_delay: {
                let h = HistogramVec::new(
                    HistogramOpts::new(
                        "postloan_alert_ack_delay_seconds",
                        "Time from an alert opening to its first acknowledgement (the ack's occurred_at), by signal.",
                    )
                    .buckets(ACK_BUCKETS.to_vec()),
                    &["signal"],
                )?;
                r.register(Box::new(h.clone()))?;
                h
            },
            modifications: counter_vec(
                r,
                "postloan_loan_modifications_total",
                "loan_modified events applied, by kind (deferral, restructure).",
                &["kind"],
            )?,
            suppressions: counter_vec(
                r,
                "postloan_suppressions_total",
                "suppression events applied (granted, replaced or revoked), by reason.",
                &["reason"],
            )?,
            mutable: Mutex::new(Mutable {
                branches: cap(),
                dealers: cap(),
                loans: family(
                    r,
                    "postloan_loans",
                    "Open loans by DPD bucket (current, 1-29, 30-59, 60-89, 90+) and branch.",
                    &["bucket", "branch"],
                )?,
                dealer_loans: family(
                    r,
                    "postloan_dealer_loans",
                    "Open loans by DPD bucket and the dealer that sold the vehicle.",
                    &["bucket", "dealer"],
                )?,
                outstanding: family(
                    r,
                    "postloan_outstanding_principal",
                    "Outstanding principal of open loans by DPD bucket, branch and currency, in units of that currency.",
                    &["bucket", "branch", "currency"],
                )?,
            }),
        })
    }

    /// Creates the series of the closed label sets at 0 (see `Metrics::initialise`).
    pub(super) fn initialise(&self) {
        self.set(&Portfolio::default());
        for s in Signal::ALL {
            for sev in Severity::ALL {
                self.acks.with_label_values(&[s.as_str(), sev.as_str()]);
            }
            self.ack_delay.with_label_values(&[s.as_str()]);
        }
        for kind in ModificationKind::ALL {
            self.modifications.with_label_values(&[kind.as_str()]);
        }
        for reason in SuppressionReason::ALL {
            self.suppressions.with_label_values(&[reason.as_str()]);
        }
    }

    /// Sets the gauges from the book summed over the owned partitions.
    pub(super) fn set(&self, p: &Portfolio) {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.borrowers.set(clamp(p.borrowers));
        self.active_borrowers.set(clamp(p.active_borrowers()));
        self.open_loans.set(clamp(p.open_loans()));
        for (band, n) in LTV_BANDS.iter().zip(p.ltv) {
            self.ltv.with_label_values(&[band]).set(n as f64);
        }
        for (band, n) in SCORE_BANDS.iter().zip(p.scores) {
            self.scores.with_label_values(&[band]).set(n as f64);
        }
        for signal in Signal::ALL {
            for (v, severity) in Severity::ALL.iter().enumerate() {
                let counts = p.open_alerts[signal.index()][v];
                for (standing, n) in Standing::ALL.iter().zip(counts) {
                    self.open_alerts
                        .with_label_values(&[signal.as_str(), severity.as_str(), standing.as_str()])
                        .set(n as f64);
                }
            }
        }
        let Ok(mut m) = self.mutable.lock() else {
            return;
        };
        let m = &mut *m;
        // Summed exactly per series first; each series is rounded to a float once.
        let mut loans: BTreeMap<(DpdBucket, &str), u64> = BTreeMap::new();
        let mut dealer_loans: BTreeMap<(DpdBucket, &str), u64> = BTreeMap::new();
        let mut outstanding: BTreeMap<(DpdBucket, &str, &str), Decimal> = BTreeMap::new();
        for (k, e) in &p.book {
            let branch = m.branches.label(&k.branch);
            let dealer = m.dealers.label(&k.dealer);
            *loans.entry((k.bucket, branch)).or_default() += e.loans;
            *dealer_loans.entry((k.bucket, dealer)).or_default() += e.loans;
            let o = outstanding
                .entry((k.bucket, branch, k.currency.as_str()))
                .or_default();
            *o = o.saturating_add(e.outstanding);
        }
        let key = |b: DpdBucket, rest: &[&str]| {
            std::iter::once(b.as_str())
                .chain(rest.iter().copied())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        m.loans.publish(
            loans
                .iter()
                .map(|((b, branch), n)| (key(*b, &[branch]), *n as f64)),
        );
        m.dealer_loans.publish(
            dealer_loans
                .iter()
                .map(|((b, dealer), n)| (key(*b, &[dealer]), *n as f64)),
        );
        m.outstanding.publish(
            outstanding
                .iter()
                .map(|((b, branch, cur), d)| (key(*b, &[branch, cur]), f64_of(*d))),
        );
    }

    /// Counts the rolls, acknowledgements, modifications and suppressions of committed work.
    pub(super) fn committed(&self, work: &Work) {
        if !work.rolls().is_empty() {
            if let Ok(mut m) = self.mutable.lock() {
                let m = &mut *m;
                for (branch, dealer) in work.rolls() {
                    let branch = m.branches.label(branch);
                    let dealer = m.dealers.label(dealer);
                    self.rolls.with_label_values(&[branch, dealer]).inc();
                }
            }
        }
        for (signal, severity, after_s) in work.acks() {
            self.acks
                .with_label_values(&[signal.as_str(), severity.as_str()])
                .inc();
            self.ack_delay
                .with_label_values(&[signal.as_str()])
                .observe(*after_s as f64);
        }
        for (kind, n) in work.modifications() {
            self.modifications
                .with_label_values(&[kind.as_str()])
                .inc_by(n);
        }
        for (reason, n) in work.suppressions() {
            self.suppressions
                .with_label_values(&[reason.as_str()])
                .inc_by(n);
        }
    }
}
