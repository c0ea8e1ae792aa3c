//! `[classification]`: the DPD bands of the bank's five-category loan classification (五级分类)
//! and the class a DPD puts a loan in (a restructured loan's hold is applied by `state`).

use serde::{Deserialize, Serialize};

use super::Problems;
use crate::bands::Class;

/// One class and the lowest DPD it starts at; it runs up to the day before the next band's
/// start (the last band has no end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClassBand {
    /// The class: `normal`, `special_mention`, `substandard`, `doubtful` or `loss`.
    pub class: Class,
    /// Days past due at which a loan enters this class.
    pub from_dpd: u32,
}

/// `[classification]`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClassificationConfig {
    /// The five classes in order of risk, each with the DPD it starts at. The first must be
    /// `normal` from 0 and the starts must rise strictly, so that every DPD has exactly one
    /// class. Default, after the 2023 rule on overdue assets (each bank confirms its own
    /// policy): normal 0, special_mention 1, substandard 91, doubtful 271, loss 361.
    #[serde(default = "default_bands")]
    pub bands: Vec<ClassBand>,
}

fn default_bands() -> Vec<ClassBand> {
    [
        (Class::Normal, 0),
        (Class::SpecialMention, 1),
        (Class::Substandard, 91),
    ]
    .into_iter()
    .chain([(Class::Doubtful, 271), (Class::Loss, 361)])
    .map(|(class, from_dpd)| ClassBand { class, from_dpd })
    .collect()
}

impl Default for ClassificationConfig {
    fn default() -> Self {
        ClassificationConfig {
            bands: default_bands(),
        }
    }
}

impl ClassificationConfig {
    /// Adds every impossible value to `p`: a class missing, repeated or out of order, a first
    /// band not starting at 0, starts that do not rise.
    pub fn validate(&self, p: &mut Problems) {
        let classes: Vec<Class> = self.bands.iter().map(|b| b.class).collect();
        if classes != Class::ALL {
            let names: Vec<&str> = classes.iter().map(|c| c.as_str()).collect();
            p.push(
                "classification.bands",
                format!(
                    "must list normal, special_mention, substandard, doubtful, loss once each in that order, got [{}]",
                    names.join(", ")
                ),
            );
        }
        if let Some(first) = self.bands.first() {
            if first.from_dpd != 0 {
                p.push(
                    "classification.bands[0].from_dpd",
                    format!(
                        "must be 0 so that every DPD has a class, got {}",
                        first.from_dpd
                    ),
                );
            }
        }
        for (i, pair) in self.bands.windows(2).enumerate() {
            if pair[1].from_dpd <= pair[0].from_dpd {
                p.push(
                    &format!("classification.bands[{}].from_dpd", i + 1),
                    format!(
                        "must be above the previous band's ({}), got {}",
                        pair[0].from_dpd, pair[1].from_dpd
                    ),
                );
            }
        }
    }
}

/// The classification the engine runs with, from a validated [`ClassificationConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// DPD at which each class of [`Class::ALL`] starts.
    starts: [u32; 5],
}

impl Classification {
    /// From validated bands (any other input falls back to the defaults' starts for the
    /// classes it lacks, so this never panics).
    pub fn new(c: &ClassificationConfig) -> Self {
        let mut starts = [0, 1, 91, 271, 361];
        for band in &c.bands {
            starts[band.class.index()] = band.from_dpd;
        }
        Classification { starts }
    }

    /// The DPD at which each class starts, best class first.
    pub fn starts(&self) -> [u32; 5] {
        self.starts
    }

    /// The class of a loan `dpd` days past due, by DPD alone.
    pub fn of_dpd(&self, dpd: u32) -> Class {
        Class::ALL
            .into_iter()
            .rev()
            .find(|c| dpd >= self.starts[c.index()])
            .unwrap_or(Class::Normal)
    }

    /// The class of a loan `dpd` days past due that is under a restructure's observation
    /// period: at least special mention and never better than the class it had just before
    /// the restructure — the class of `floor_dpd`, and at least special mention when an
    /// earlier observation period was running then (`floor_watch`).
    pub fn of_observed(&self, dpd: u32, floor_dpd: u32, floor_watch: bool) -> Class {
        let before = self.of_dpd(floor_dpd).max(if floor_watch {
            Class::SpecialMention
        } else {
            Class::Normal
        });
        self.of_dpd(dpd).max(before).max(Class::SpecialMention)
    }
}

impl Default for Classification {
    fn default() -> Self {
        Classification::new(&ClassificationConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bands_put_every_boundary_where_the_contract_does() {
        let c = Classification::default();
        for (dpd, class) in [
            (0, Class::Normal),
            (1, Class::SpecialMention),
            (90, Class::SpecialMention),
            (91, Class::Substandard),
            (270, Class::Substandard),
            (271, Class::Doubtful),
            (360, Class::Doubtful),
            (361, Class::Loss),
            (u32::MAX, Class::Loss),
        ] {
            assert_eq!(c.of_dpd(dpd), class, "DPD {dpd}");
        }
    }

    #[test]
    fn an_observed_loan_is_held_at_its_class_before_and_at_least_special_mention() {
        let c = Classification::default();
        let cases = [
            // (DPD now, floor DPD, earlier observation running then, class)
            (0, 95, false, Class::Substandard),
            (300, 95, false, Class::Doubtful),
            (0, 0, false, Class::SpecialMention),
            (0, 0, true, Class::SpecialMention),
            (0, 40, false, Class::SpecialMention),
            (0, 271, true, Class::Doubtful),
            (400, 0, false, Class::Loss),
        ];
        for (dpd, floor, watch, class) in cases {
            assert_eq!(
                c.of_observed(dpd, floor, watch),
                class,
                "dpd {dpd} floor {floor} watch {watch}"
            );
        }
    }

    #[test]
    fn validation_names_every_problem() {
        let mut bad = ClassificationConfig::default();
        bad.bands[0].from_dpd = 3;
        bad.bands[3].from_dpd = 91;
        bad.bands.swap(1, 4);
        let mut p = Problems::default();
        bad.validate(&mut p);
        let paths: Vec<&str> = p.0.iter().map(|x| x.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "classification.bands",
                "classification.bands[0].from_dpd",
                "classification.bands[2].from_dpd",
                "classification.bands[3].from_dpd",
                "classification.bands[4].from_dpd",
            ],
            "{p}"
        );
        let mut ok = Problems::default();
        ClassificationConfig::default().validate(&mut ok);
        assert!(ok.0.is_empty(), "{ok}");
    }
}
