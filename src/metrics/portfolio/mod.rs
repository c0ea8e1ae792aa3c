//! The risk teams' series: the book by DPD bucket, class, branch, dealer, manager and currency,
//! LTV and score distributions and open alerts by branch (gauges, set from the worker's summed
//! portfolio after commits), and counters of bucket flows, 30→60 rolls, closings,
//! acknowledgements, loan modifications and suppressions (counted with committed work).
//!
//! Branch, dealer and manager ids come from producers, so their label values are capped
//! (`[http] max_label_values`, see [`labels`]), and each series family carries at most one of
//! them: a family by branch × dealer could grow to 500 × 500 series.

mod counters;
mod labels;

use std::collections::BTreeMap;
use std::sync::Mutex;

use prometheus::{GaugeVec, IntGauge, Registry};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

pub use labels::{OTHER, UNKNOWN};

use super::{gauge, gauge_vec, MetricsError};
use labels::{owned, Cap, Family};
use postloan_engine::portfolio::{Class, DpdBucket, Portfolio, Standing, LTV_BANDS, SCORE_BANDS};
use postloan_engine::types::{Severity, Signal};

struct Mutable {
    branches: Cap,
    dealers: Cap,
    managers: Cap,
    loans: Family,
    dealer_loans: Family,
    outstanding: Family,
    class_loans: Family,
    class_outstanding: Family,
    manager_loans: Family,
    manager_outstanding: Family,
    open_alerts: Family,
}

/// Portfolio series over the monitor's registry.
pub(super) struct PortfolioMetrics {
    borrowers: IntGauge,
    active_borrowers: IntGauge,
    open_loans: IntGauge,
    ltv: GaugeVec,
    scores: GaugeVec,
    counters: counters::Counters,
    mutable: Mutex<Mutable>,
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

const CLASSES: &str = "classification (normal, special_mention, substandard, doubtful, loss)";

impl PortfolioMetrics {
    pub(super) fn new(r: &Registry, max_label_values: usize) -> Result<Self, MetricsError> {
        let family = |name: &str, help: &str, labels: &[&str]| Family::new(r, name, help, labels);
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
            counters: counters::Counters::new(r)?,
            mutable: Mutex::new(Mutable {
                branches: Cap::new(max_label_values),
                dealers: Cap::new(max_label_values),
                managers: Cap::new(max_label_values),
                loans: family(
                    "postloan_loans",
                    "Open loans by DPD bucket (current, 1-29, 30-59, 60-89, 90+) and branch.",
                    &["bucket", "branch"],
                )?,
                dealer_loans: family(
                    "postloan_dealer_loans",
                    "Open loans by DPD bucket and the dealer that sold the vehicle.",
                    &["bucket", "dealer"],
                )?,
                outstanding: family(
                    "postloan_outstanding_principal",
                    "Outstanding principal of open loans by DPD bucket, branch and currency, in units of that currency.",
                    &["bucket", "branch", "currency"],
                )?,
                class_loans: family(
                    "postloan_loans_by_class",
                    &format!("Open loans by {CLASSES}, branch and currency."),
                    &["classification", "branch", "currency"],
                )?,
                class_outstanding: family(
                    "postloan_outstanding_principal_by_class",
                    &format!("Outstanding principal of open loans by {CLASSES}, branch and currency, in units of that currency; the NPL ratio is substandard + doubtful + loss over all, per currency."),
                    &["classification", "branch", "currency"],
                )?,
                manager_loans: family(
                    "postloan_manager_loans_by_class",
                    "Open loans by classification, account manager and currency.",
                    &["classification", "manager", "currency"],
                )?,
                manager_outstanding: family(
                    "postloan_manager_outstanding_principal_by_class",
                    "Outstanding principal of open loans by classification, account manager and currency, in units of that currency.",
                    &["classification", "manager", "currency"],
                )?,
                open_alerts: family(
                    "postloan_open_alerts",
                    "Alerts open now, by signal, severity, standing and the branch the alert carries (status unacknowledged: never acknowledged; acknowledged: an ack covers it at its severity now; risen_after_ack: acknowledged, then its severity rose above the acknowledged one; suppressed: its slot is suppressed, whatever its ack). A series exists while its count is above 0.",
                    &["signal", "severity", "status", "branch"],
                )?,
            }),
        })
    }

    /// Creates the series of the closed label sets at 0 (see `Metrics::initialise`).
    pub(super) fn initialise(&self) {
        self.set(&Portfolio::default());
        self.counters.initialise();
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
        let Ok(mut m) = self.mutable.lock() else {
            return;
        };
        let m = &mut *m;
        // Summed exactly per series first; each series is rounded to a float once.
        let mut loans: BTreeMap<(DpdBucket, &str), u64> = BTreeMap::new();
        let mut dealer_loans: BTreeMap<(DpdBucket, &str), u64> = BTreeMap::new();
        let mut outstanding: BTreeMap<(DpdBucket, &str, &str), Decimal> = BTreeMap::new();
        let mut by_class: BTreeMap<(Class, &str, &str), (u64, Decimal)> = BTreeMap::new();
        for (k, e) in &p.book {
            let branch = m.branches.label(&k.branch);
            let dealer = m.dealers.label(&k.dealer);
            let currency = k.currency.as_str();
            *loans.entry((k.bucket, branch)).or_default() += e.loans;
            *dealer_loans.entry((k.bucket, dealer)).or_default() += e.loans;
            let o = outstanding.entry((k.bucket, branch, currency)).or_default();
            *o = o.saturating_add(e.outstanding);
            let c = by_class.entry((k.class, branch, currency)).or_default();
            c.0 += e.loans;
            c.1 = c.1.saturating_add(e.outstanding);
        }
        let mut by_manager: BTreeMap<(Class, &str, &str), (u64, Decimal)> = BTreeMap::new();
        for (k, e) in &p.managers {
            let manager = m.managers.label(&k.manager);
            let c = by_manager
                .entry((k.class, manager, k.currency.as_str()))
                .or_default();
            c.0 += e.loans;
            c.1 = c.1.saturating_add(e.outstanding);
        }
        m.loans.publish(
            loans
                .iter()
                .map(|((b, branch), n)| (owned(&[b.as_str(), branch]), *n as f64)),
        );
        m.dealer_loans.publish(
            dealer_loans
                .iter()
                .map(|((b, dealer), n)| (owned(&[b.as_str(), dealer]), *n as f64)),
        );
        m.outstanding.publish(
            outstanding
                .iter()
                .map(|((b, branch, cur), d)| (owned(&[b.as_str(), branch, cur]), f64_of(*d))),
        );
        let class_key = |(c, label, cur): &(Class, &str, &str)| owned(&[c.as_str(), label, cur]);
        m.class_loans
            .publish(by_class.iter().map(|(k, (n, _))| (class_key(k), *n as f64)));
        m.class_outstanding.publish(
            by_class
                .iter()
                .map(|(k, (_, d))| (class_key(k), f64_of(*d))),
        );
        m.manager_loans.publish(
            by_manager
                .iter()
                .map(|(k, (n, _))| (class_key(k), *n as f64)),
        );
        m.manager_outstanding.publish(
            by_manager
                .iter()
                .map(|(k, (_, d))| (class_key(k), f64_of(*d))),
        );
        let mut alerts: BTreeMap<(Signal, Severity, Standing, &str), u64> = BTreeMap::new();
        for (branch, grid) in &p.open_alerts {
            let branch = m.branches.label(branch);
            for signal in Signal::ALL {
                for (v, severity) in Severity::ALL.iter().enumerate() {
                    let counts = grid[signal.index()][v];
                    for (standing, n) in Standing::ALL.iter().zip(counts) {
                        if n > 0 {
                            *alerts
                                .entry((signal, *severity, *standing, branch))
                                .or_default() += n;
                        }
                    }
                }
            }
        }
        m.open_alerts.publish(
            alerts
                .iter()
                .map(|((signal, severity, standing, branch), n)| {
                    (
                        owned(&[
                            signal.as_str(),
                            severity.as_str(),
                            standing.as_str(),
                            branch,
                        ]),
                        *n as f64,
                    )
                }),
        );
    }

    /// Counts the flows, rolls, closings, acknowledgements, modifications and suppressions of
    /// committed work.
    pub(super) fn committed(&self, work: &crate::runtime::observe::Work) {
        // Only rolls need the label caps (and so the lock).
        let mut guard = if work.rolls().is_empty() {
            None
        } else {
            self.mutable.lock().ok()
        };
        let caps = guard
            .as_deref_mut()
            .map(|m| (&mut m.branches, &mut m.dealers));
        self.counters.committed(work, caps);
    }
}
