//! Counters of what happened to the book in committed work: bucket flows, 30→60 rolls,
//! closings, acknowledgements, loan modifications and suppressions.

use prometheus::{CounterVec, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use rust_decimal::prelude::ToPrimitive;

use super::super::{counter_vec, MetricsError};
use super::labels::Cap;
use crate::runtime::observe::Work;
use postloan_engine::portfolio::DpdBucket;
use postloan_engine::types::{ModificationKind, Severity, Signal, SuppressionReason};

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

pub(super) struct Counters {
    flows: IntCounterVec,
    rolls: IntCounterVec,
    dealer_rolls: IntCounterVec,
    closed: IntCounterVec,
    closed_principal: CounterVec,
    acks: IntCounterVec,
    ack_delay: HistogramVec,
    modifications: IntCounterVec,
    suppressions: IntCounterVec,
}

impl Counters {
    pub(super) fn new(r: &Registry) -> Result<Self, MetricsError> {
        Ok(Counters {
            flows: counter_vec(
                r,
                "postloan_dpd_flows_total",
                "Loans that moved from one DPD bucket (current, 1-29, 30-59, 60-89, 90+) to another, as it happened: forward by the clock, back by payments, deferrals or restructures.",
                &["from", "to"],
            )?,
            rolls: counter_vec(
                r,
                "postloan_dpd_rolls_30_to_60_total",
                "Loans that moved from 30-59 to 60 or more days past due, by branch.",
                &["branch"],
            )?,
            dealer_rolls: counter_vec(
                r,
                "postloan_dealer_dpd_rolls_30_to_60_total",
                "Loans that moved from 30-59 to 60 or more days past due, by the dealer that sold the vehicle.",
                &["dealer"],
            )?,
            closed: counter_vec(
                r,
                "postloan_loans_closed_total",
                "Loans that left the book, by reason (paid_off, charged_off, repossessed, refinanced) and currency.",
                &["reason", "currency"],
            )?,
            closed_principal: {
                let c = CounterVec::new(
                    Opts::new(
                        "postloan_closed_principal_total",
                        "Outstanding principal of the loans that left the book when they closed, by reason and currency, in units of that currency (for charged_off: the principal written off).",
                    ),
                    &["reason", "currency"],
                )?;
                r.register(Box::new(c.clone()))?;
                c
            },
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
        })
    }

    /// Creates the series of the closed label sets at 0.
    pub(super) fn initialise(&self) {
        for from in DpdBucket::ALL {
            for to in DpdBucket::ALL.into_iter().filter(|to| *to != from) {
                self.flows.with_label_values(&[from.as_str(), to.as_str()]);
            }
        }
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

    /// Counts committed work; rolls need the branch and dealer caps (skipped without them).
    pub(super) fn committed(&self, work: &Work, caps: Option<(&mut Cap, &mut Cap)>) {
        for (from, to, n) in work.flows() {
            self.flows
                .with_label_values(&[from.as_str(), to.as_str()])
                .inc_by(n);
        }
        if let Some((branches, dealers)) = caps {
            for (branch, dealer) in work.rolls() {
                self.rolls
                    .with_label_values(&[branches.label(branch)])
                    .inc();
                self.dealer_rolls
                    .with_label_values(&[dealers.label(dealer)])
                    .inc();
            }
        }
        for (reason, currency, outstanding) in work.closed() {
            let labels = [reason.as_str(), currency.as_str()];
            self.closed.with_label_values(&labels).inc();
            self.closed_principal
                .with_label_values(&labels)
                .inc_by(outstanding.to_f64().unwrap_or(0.0).max(0.0));
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
