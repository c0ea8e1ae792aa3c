//! `rules_version`: a short, stable fingerprint of the settings that decide what the engine
//! publishes, stamped on every alert and escalation so that a reader can tell which rules
//! produced a message.
//!
//! Canonical form: every setting of `[rules]` and `[escalation]` as a line `path=value`
//! (dotted path as in the configuration file, array items by index: `rules.early_warning.
//! dpd_points.0.at=1`), sorted by path, then `clock.time_zone=<IANA name>`; decimals written in
//! their shortest exact form (`0.30` and `0.3` are the same setting), booleans `true`/`false`,
//! text as is. The version is the first 16 hex digits of the xxh3-64 hash of that text (UTF-8,
//! lines ended by `\n`): xxh3 is a fixed algorithm, so equal settings give the same version on
//! every machine and run, and any change to a threshold, severity, score weight, tolerance,
//! time zone, escalation delay or recipient gives another. `[limits]` is left out: its caps
//! bound memory and message sizes, not what a signal decides.

use std::str::FromStr;

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{EscalationConfig, RulesConfig};

/// The canonical text the version hashes (see the module docs).
pub fn canonical(rules: &RulesConfig, escalation: &EscalationConfig, tz: Tz) -> String {
    let mut lines = Vec::new();
    // Serialising these derived structs into a Value cannot fail: they hold strings, numbers,
    // booleans, vectors and maps keyed by severity names.
    if let Ok(v) = serde_json::to_value(rules) {
        flatten("rules", &v, &mut lines);
    }
    if let Ok(v) = serde_json::to_value(escalation) {
        flatten("escalation", &v, &mut lines);
    }
    lines.sort();
    lines.push(format!("clock.time_zone={}", tz.name()));
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// The version: 16 hex digits.
pub fn rules_version(rules: &RulesConfig, escalation: &EscalationConfig, tz: Tz) -> String {
    let text = canonical(rules, escalation, tz);
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

fn flatten(path: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{path}.{k}"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}.{i}"), v, out);
            }
        }
        Value::String(s) => out.push(format!("{path}={}", decimal_or_text(s))),
        Value::Number(n) => out.push(format!("{path}={}", decimal_or_text(&n.to_string()))),
        Value::Bool(b) => out.push(format!("{path}={b}")),
        Value::Null => out.push(format!("{path}=")),
    }
}

/// A decimal in its shortest exact form; anything else unchanged.
fn decimal_or_text(s: &str) -> String {
    match Decimal::from_str(s) {
        Ok(d) => d.normalize().to_string(),
        Err(_) => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::rules::Threshold;
    use crate::types::Severity;

    fn version(rules: &RulesConfig, esc: &EscalationConfig) -> String {
        rules_version(rules, esc, Tz::Asia__Shanghai)
    }

    #[test]
    fn the_defaults_have_a_fixed_version() {
        let v = version(&RulesConfig::default(), &EscalationConfig::default());
        assert_eq!(v.len(), 16);
        assert!(v.chars().all(|c| c.is_ascii_hexdigit()));
        // Pinned: a change here means every alert's rules_version changes for the defaults;
        // that must be deliberate (a change of a default), never a side effect.
        assert_eq!(v, "0a6d9ba8e217a8e7");
    }

    #[test]
    fn the_same_decimal_written_differently_is_the_same_setting() {
        let mut a = RulesConfig::default();
        let mut b = RulesConfig::default();
        a.arrears_tolerance = Threshold(Decimal::new(100, 2));
        b.arrears_tolerance = Threshold(Decimal::new(1, 0));
        let esc = EscalationConfig::default();
        assert_eq!(version(&a, &esc), version(&b, &esc));
    }

    #[test]
    fn the_time_zone_counts() {
        let (r, e) = (RulesConfig::default(), EscalationConfig::default());
        assert_ne!(
            rules_version(&r, &e, Tz::Asia__Shanghai),
            rules_version(&r, &e, Tz::Europe__London)
        );
    }

    #[test]
    fn every_single_setting_changes_the_version() {
        let esc = EscalationConfig::default();
        let base_rules = RulesConfig::default();
        let base = version(&base_rules, &esc);
        // Every line of the canonical form, edited one at a time through the TOML the
        // operator writes: a changed value must change the version.
        let text = canonical(&base_rules, &esc, Tz::Asia__Shanghai);
        let paths: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split_once('=').map(|(p, _)| p))
            .filter(|p| !p.starts_with("clock."))
            .collect();
        assert!(paths.len() > 60, "only {} settings: {paths:?}", paths.len());
        let mut unchanged = Vec::new();
        for path in &paths {
            let (rules, esc2) = edited(&base_rules, &esc, path);
            if version(&rules, &esc2) == base {
                unchanged.push(*path);
            }
        }
        assert!(
            unchanged.is_empty(),
            "edits that kept the version: {unchanged:?}"
        );
    }

    fn severity(s: &str) -> Option<Severity> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    /// The settings with the value at `path` changed (a number raised, a flag flipped, a
    /// severity or a recipient replaced), through their JSON form.
    fn edited(
        rules: &RulesConfig,
        esc: &EscalationConfig,
        path: &str,
    ) -> (RulesConfig, EscalationConfig) {
        let mut doc = serde_json::json!({
            "rules": serde_json::to_value(rules).unwrap(),
            "escalation": serde_json::to_value(esc).unwrap(),
        });
        let mut cur = &mut doc;
        for seg in path.split('.') {
            cur = match cur {
                Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
                other => &mut other[seg],
            };
        }
        *cur = match &*cur {
            Value::Bool(b) => Value::Bool(!b),
            Value::Number(n) => Value::from(n.as_u64().unwrap() + 1),
            Value::String(s) if Decimal::from_str(s).is_ok() => {
                Value::String((Decimal::from_str(s).unwrap() + Decimal::new(1, 2)).to_string())
            }
            Value::String(s) if severity(s).is_some() => {
                let other = if severity(s) == Some(Severity::Info) {
                    "low"
                } else {
                    "info"
                };
                Value::String(other.to_owned())
            }
            Value::String(s) => Value::String(format!("{s}_x")),
            other => panic!("{path}: unexpected {other}"),
        };
        (
            serde_json::from_value(doc["rules"].clone()).unwrap(),
            serde_json::from_value(doc["escalation"].clone()).unwrap(),
        )
    }
}
