//! Capped label values and gauge families whose label sets come and go.

use std::collections::HashSet;
use std::sync::Arc;

use prometheus::{GaugeVec, Registry};

use super::super::{gauge_vec, MetricsError};

/// Label value of a loan without a branch, dealer or manager.
pub const UNKNOWN: &str = "unknown";
/// Label value of the branches, dealers or managers past the cap.
pub const OTHER: &str = "other";

/// The label values a capped label (branch, dealer or manager) has handed out: the first
/// `max` values seen get series of their own, later ones are counted under [`OTHER`].
pub(super) struct Cap {
    max: usize,
    known: HashSet<Arc<str>>,
}

impl Cap {
    pub(super) fn new(max: usize) -> Self {
        Cap {
            max,
            known: HashSet::new(),
        }
    }

    pub(super) fn label<'a>(&mut self, v: &'a Option<Arc<str>>) -> &'a str {
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
pub(super) struct Family {
    vec: GaugeVec,
    last: HashSet<Vec<String>>,
}

impl Family {
    pub(super) fn new(
        r: &Registry,
        name: &str,
        help: &str,
        labels: &[&str],
    ) -> Result<Self, MetricsError> {
        Ok(Family {
            vec: gauge_vec(r, name, help, labels)?,
            last: HashSet::new(),
        })
    }

    pub(super) fn publish(&mut self, values: impl IntoIterator<Item = (Vec<String>, f64)>) {
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

/// Label values as owned strings, for [`Family::publish`].
pub(super) fn owned(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|s| (*s).to_owned()).collect()
}
