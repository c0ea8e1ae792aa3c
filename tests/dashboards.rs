//! The Grafana dashboards' structure, without a Grafana: current schema, the `datasource`
//! variable on every panel and query, unique panel ids and uids, a description on every panel,
//! and the provisioning file pointing at them. (Their queries run against a real Prometheus in
//! `prometheus_server.rs`.)

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn dashboards() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let v = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn panels(d: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        out.push(p);
        // Collapsed rows carry their panels inside.
        out.extend(p["panels"].as_array().into_iter().flatten());
    }
    out
}

#[test]
fn three_dashboards_with_the_agreed_uids_and_variables() {
    let all = dashboards();
    let found: Vec<(&str, &str)> = all
        .iter()
        .map(|(_, d)| (d["title"].as_str().unwrap(), d["uid"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("Collections & escalations", "postloan-collections"),
            ("Pipeline health", "postloan-pipeline"),
            ("Portfolio risk", "postloan-portfolio"),
        ]
    );
    for (file, d) in &all {
        assert!(d["schemaVersion"].as_u64().unwrap() >= 39, "{file}");
        let vars: Vec<&str> = d["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(vars.first(), Some(&"datasource"), "{file}: {vars:?}");
        let expected: &[&str] = match d["uid"].as_str().unwrap() {
            "postloan-portfolio" => &["datasource", "branch", "dealer"],
            "postloan-pipeline" => &["datasource", "instance"],
            "postloan-collections" => &["datasource", "branch"],
            _ => &["datasource"],
        };
        assert_eq!(vars, expected, "{file}");
    }
}

#[test]
fn every_panel_is_described_and_reads_the_chosen_datasource() {
    let datasource = serde_json::json!({"type": "prometheus", "uid": "${datasource}"});
    for (file, d) in dashboards() {
        let mut ids = BTreeSet::new();
        let mut queries = 0;
        for p in panels(&d) {
            assert!(
                ids.insert(p["id"].as_u64().unwrap()),
                "{file}: duplicate id {}",
                p["id"]
            );
            if p["type"] == "row" {
                continue;
            }
            let title = p["title"].as_str().unwrap();
            assert!(
                p["description"].as_str().is_some_and(|s| s.len() > 20),
                "{file}: panel {title:?} has no description"
            );
            assert_eq!(p["datasource"], datasource, "{file}: {title}");
            let targets = p["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{file}: {title} has no query");
            for t in targets {
                assert_eq!(t["datasource"], datasource, "{file}: {title}");
                let expr = t["expr"].as_str().unwrap();
                assert!(!expr.is_empty(), "{file}: {title}");
                // Money is never added across currencies.
                if expr.contains("postloan_outstanding_principal") {
                    assert!(expr.contains("currency"), "{file}: {title}: {expr}");
                }
                queries += 1;
            }
        }
        assert!(queries >= 10, "{file}: {queries} queries");
    }
}

#[test]
fn provisioning_points_grafana_at_the_dashboards() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let text = std::fs::read_to_string(dir.join("provisioning.yaml")).unwrap();
    for needle in [
        "apiVersion: 1",
        "type: file",
        "path: /var/lib/grafana/dashboards/postloan-monitor",
    ] {
        assert!(text.contains(needle), "provisioning.yaml lacks {needle:?}");
    }
}
