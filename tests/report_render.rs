//! The report page as a browser sees it: a page built through the public renderer API is
//! written to disk and opened in headless Chromium (tests/common/chromium.rs), which must
//! log nothing, build every chart with marks, every table with rows, and load nothing.
//!
//! `assert_renders_cleanly` is the shared check: point it at any rendered report file.

mod common;

use std::path::{Path, PathBuf};

use common::chromium;
use postloan_monitor::report::html::{
    render_page, write_csvs, Axis, Cell, Chart, Column, Page, Section, Series, Table,
};
use rust_decimal::Decimal;

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plm-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn months(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{}-{:02}", 2025 + i / 12, i % 12 + 1))
        .collect()
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("test decimal")
}

/// A page with every chart kind and every cell kind, some labels needing escaping.
fn sample_page() -> Page {
    let x = months(12);
    let npl: Vec<Option<f64>> = (0..12)
        .map(|i| (i != 5).then_some(0.02 + i as f64 * 0.002))
        .collect();
    let class_names = [
        "Normal",
        "Special mention",
        "Substandard",
        "Doubtful",
        "Loss",
    ];
    let class_mix: Vec<Series> = class_names
        .iter()
        .enumerate()
        .map(|(k, name)| Series {
            name: (*name).to_owned(),
            values: (0..12)
                .map(|i| Some([0.9, 0.05, 0.025, 0.015, 0.01][k] + (i as f64 - 6.0) * 0.0005))
                .collect(),
        })
        .collect();
    let heat_labels = vec![
        "Current".to_owned(),
        "1-30".to_owned(),
        "31-60 <&\"".to_owned(),
    ];
    Page {
        title: "Monthly risk report <Auto & Co>".to_owned(),
        subtitle: "2025-01 to 2025-12, Asia/Shanghai".to_owned(),
        facts: vec![
            ("input".to_owned(), "book.jsonl".to_owned()),
            ("rules_version".to_owned(), "r-2025.1 \"beta\"".to_owned()),
            ("events".to_owned(), "376,317".to_owned()),
        ],
        sections: vec![
            Section {
                id: "npl-ratio".to_owned(),
                title: "NPL ratio by balance".to_owned(),
                description: "Balance of loans 90+ days past due over the book's balance."
                    .to_owned(),
                chart: Some(Chart::Lines {
                    x_labels: x.clone(),
                    series: vec![
                        Series {
                            name: "NPL <90+>".to_owned(),
                            values: npl.clone(),
                        },
                        Series {
                            name: "30+ & rising".to_owned(),
                            values: npl.iter().map(|v| v.map(|v| v * 2.0)).collect(),
                        },
                    ],
                    y: Axis::Percent,
                }),
                table: Table {
                    columns: vec![
                        Column::text("Month"),
                        Column::numeric("Loans"),
                        Column::numeric("Balance"),
                        Column::numeric("NPL ratio"),
                        Column::text("Comment"),
                    ],
                    rows: x
                        .iter()
                        .zip(&npl)
                        .map(|(m, v)| {
                            vec![
                                Cell::Text(m.clone()),
                                Cell::Count(10_000),
                                Cell::Money(dec("-1234567.891")),
                                Cell::Ratio(v.map(|v| Decimal::try_from(v).unwrap_or_default())),
                                Cell::Empty,
                            ]
                        })
                        .collect(),
                },
            },
            Section {
                id: "class-mix".to_owned(),
                title: "Class mix".to_owned(),
                description: "Share of the balance in each loan class.".to_owned(),
                chart: Some(Chart::StackedBars {
                    x_labels: x.clone(),
                    series: class_mix,
                    y: Axis::Percent,
                }),
                table: Table {
                    columns: vec![Column::text("Month"), Column::numeric("Normal")],
                    rows: x
                        .iter()
                        .map(|m| vec![Cell::Text(m.clone()), Cell::Ratio(Some(dec("0.9")))])
                        .collect(),
                },
            },
            Section {
                id: "flow-rates".to_owned(),
                title: "Flow rates".to_owned(),
                description: "Share of each bucket's balance that moved to each bucket.".to_owned(),
                chart: Some(Chart::Heatmap {
                    rows: heat_labels.clone(),
                    columns: heat_labels.clone(),
                    values: vec![
                        vec![Some(0.97), Some(0.03), None],
                        vec![Some(0.4), Some(0.35), Some(0.25)],
                        vec![Some(0.1), Some(0.2), Some(0.7)],
                    ],
                    scale: Axis::Percent,
                }),
                table: Table {
                    columns: vec![Column::text("From"), Column::numeric("To current")],
                    rows: heat_labels
                        .iter()
                        .map(|l| vec![Cell::Text(l.clone()), Cell::Ratio(None)])
                        .collect(),
                },
            },
            Section {
                id: "top-branches".to_owned(),
                title: "Top branches by NPL ratio".to_owned(),
                description: "The ten branches with the highest NPL ratio at the last month-end."
                    .to_owned(),
                chart: Some(Chart::HorizontalBars {
                    labels: (1..=10)
                        .map(|b| format!("Branch {b} <{}>", "x".repeat(b * 5)))
                        .collect(),
                    values: (1..=10).map(|b| 0.1 - b as f64 * 0.007).collect(),
                    x: Axis::Percent,
                }),
                table: Table {
                    columns: vec![Column::text("Branch"), Column::numeric("Alerts")],
                    rows: vec![vec![Cell::Text("B1".to_owned()), Cell::Count(3)]],
                },
            },
            Section {
                id: "alerts".to_owned(),
                title: "Alerts per month by signal".to_owned(),
                description: "Alerts that fired in each month, by signal.".to_owned(),
                chart: Some(Chart::StackedBars {
                    x_labels: x.clone(),
                    series: (0..9)
                        .map(|s| Series {
                            name: format!("signal_{s}"),
                            values: (0..12)
                                .map(|i| Some(((i * 7 + s * 3) % 11) as f64))
                                .collect(),
                        })
                        .collect(),
                    y: Axis::Count,
                }),
                table: Table {
                    columns: vec![Column::text("Month"), Column::numeric("Alerts")],
                    rows: x
                        .iter()
                        .map(|m| vec![Cell::Text(m.clone()), Cell::Count(1234)])
                        .collect(),
                },
            },
        ],
        notes: vec!["NPL: non-performing loans, 90+ days past due.".to_owned()],
    }
}

/// The tags named `name` in `html` (`<name …>`, up to their `>`).
fn tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let tail = &rest[at..];
        let after = tail[open.len()..].chars().next();
        let end = tail.find('>').map_or(tail.len(), |e| e + 1);
        if matches!(after, Some(' ' | '>' | '/' | '\n')) {
            found.push(&tail[..end]);
        }
        rest = &tail[end.min(tail.len())..];
    }
    found
}

/// The value of attribute `name` in a tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    tag[at..].find('"').map(|end| &tag[at..at + end])
}

/// The blocks `<name …>…</name>` in `html`.
fn blocks<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let tail = &rest[at..];
        let Some(end) = tail.find(&close) else { break };
        found.push(&tail[..end + close.len()]);
        rest = &tail[end + close.len()..];
    }
    found
}

/// A colour that is not grey: data marks are drawn in colour, frames and grids in greys.
fn is_mark_colour(value: &str) -> bool {
    let hex = value.trim_start_matches('#');
    hex.len() == 6 && !(hex[0..2] == hex[2..4] && hex[2..4] == hex[4..6])
}

/// Shapes in `svg` drawn in a data colour.
fn marks(svg: &str) -> usize {
    ["polyline", "path", "rect", "circle", "polygon"]
        .iter()
        .flat_map(|name| tags(svg, name))
        .filter(|tag| {
            ["fill", "stroke"]
                .iter()
                .filter_map(|a| attr(tag, a))
                .any(is_mark_colour)
        })
        .count()
}

/// What every rendered report must satisfy in a real browser: no console message (script
/// errors and loads refused by the page's CSP alike), every chart with data points and drawn
/// marks, every table with rows, no reference outside the page.
fn assert_renders_cleanly(html: &Path) -> chromium::Loaded {
    let loaded = chromium::load(html, Some(&html.with_extension("png")));
    assert!(
        loaded.console.is_empty(),
        "console messages on {}: {:#?}",
        html.display(),
        loaded.console
    );
    let dom = &loaded.dom;
    let figures = blocks(dom, "figure");
    for figure in &figures {
        let points: usize = tags(figure, "figure")
            .first()
            .and_then(|t| attr(t, "data-points"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("figure without data-points: {figure:.200}"));
        assert!(points > 0, "chart without data: {figure:.300}");
        let svgs = blocks(figure, "svg");
        assert_eq!(svgs.len(), 1, "one <svg> per chart: {figure:.300}");
        assert!(marks(svgs[0]) > 0, "chart draws no marks: {figure:.300}");
    }
    let tables = blocks(dom, "table");
    assert!(!tables.is_empty(), "no table in {}", html.display());
    for table in &tables {
        let body = blocks(table, "tbody");
        let rows = body
            .first()
            .map(|b| {
                tags(b, "tr")
                    .iter()
                    .filter(|t| attr(t, "class") != Some("empty"))
                    .count()
            })
            .unwrap_or(0);
        assert!(rows >= 1, "table without body rows: {table:.300}");
    }
    for name in ["src", "href", "xlink:href", "action", "srcset", "poster"] {
        let key = format!(" {name}=\"");
        for (at, _) in dom.match_indices(&key) {
            let value = &dom[at + key.len()..];
            assert!(
                value.starts_with('#') || value.starts_with("data:"),
                "external reference: {}",
                &value[..value.len().min(120)]
            );
        }
    }
    for needle in [
        "url(http", "url(//", "url(file", "@import", "<script", "<link", "<iframe",
    ] {
        assert!(!dom.contains(needle), "{needle} in {}", html.display());
    }
    loaded
}

#[test]
fn sample_report_renders_cleanly_in_chromium() {
    let dir = scratch("sample");
    let page = sample_page();
    let html = render_page(&page).expect("renders");
    let path = dir.join("report.html");
    std::fs::write(&path, &html).expect("write report");
    let loaded = assert_renders_cleanly(&path);
    assert_eq!(blocks(&loaded.dom, "figure").len(), 5);
    assert!(loaded
        .dom
        .contains("Monthly risk report &lt;Auto &amp; Co&gt;"));
    assert!(dir.join("report.png").is_file(), "screenshot written");

    let csvs = write_csvs(&dir.join("csv"), &page).expect("csv");
    assert_eq!(csvs.len(), page.sections.len());
    let npl = std::fs::read_to_string(&csvs[0]).expect("read csv");
    assert!(npl.starts_with(
        "Month,Loans,Balance,NPL ratio,Comment\n2025-01,10000,-1234567.891,0.020000,\n"
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The oracle itself: a script error, a `console.error` and a load the page's CSP refuses all
/// show as console messages, and a clean page shows none. Without this, "no console errors"
/// could be true because nothing is ever detected.
#[test]
fn console_detector_catches_errors_and_refused_loads() {
    let dir = scratch("detector");
    let csp = "<meta http-equiv=\"Content-Security-Policy\" \
               content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">";
    let write = |name: &str, head: &str, body: &str| {
        let path = dir.join(name);
        let html = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\">{head}<title>t</title></head>\
             <body>{body}</body></html>"
        );
        std::fs::write(&path, html).expect("write page");
        path
    };

    let clean = chromium::load(&write("clean.html", csp, "<p>fine</p>"), None);
    assert!(clean.console.is_empty(), "{:#?}", clean.console);
    assert!(clean.dom.contains("<p>fine</p>"));

    let broken = write(
        "broken.html",
        "",
        "<script>this is not javascript(</script><script>console.error('boom')</script>",
    );
    let broken = chromium::load(&broken, None);
    assert!(
        broken.console.iter().any(|m| m.contains("SyntaxError")),
        "syntax error not detected: {:#?}\n{}",
        broken.console,
        broken.log
    );
    assert!(broken.console.iter().any(|m| m.contains("boom")));

    let missing = write("missing.html", csp, "<img src=\"missing.png\" alt=\"\">");
    let missing = chromium::load(&missing, None);
    assert!(
        missing
            .console
            .iter()
            .any(|m| m.contains("missing.png") && m.contains("Content Security Policy")),
        "refused image not detected: {:#?}\n{}",
        missing.console,
        missing.log
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shared check fails where it should: a chart with no data is not a clean report.
#[test]
fn the_shared_check_rejects_an_empty_chart() {
    let dir = scratch("empty-chart");
    let mut page = sample_page();
    page.sections[0].chart = Some(Chart::Lines {
        x_labels: months(3),
        series: vec![Series {
            name: "nothing".to_owned(),
            values: vec![None; 3],
        }],
        y: Axis::Percent,
    });
    let path = dir.join("report.html");
    std::fs::write(&path, render_page(&page).expect("renders")).expect("write report");
    let failure = std::panic::catch_unwind(|| assert_renders_cleanly(&path))
        .expect_err("a chart without data must fail the check");
    let message = failure
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("chart without data"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real thing: `postloan-monitor report` on a generated book (2,000 borrowers, 24 months,
/// some malformed lines) through the command line, with `--csv`, opened in Chromium.
#[test]
fn the_report_of_a_generated_book_renders_cleanly_in_chromium() {
    let dir = scratch("generated");
    let book = dir.join("book.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&book).expect("create book"));
    postloan_generate::generate(
        &postloan_generate::GenerateOptions {
            borrowers: 2_000,
            months: 24,
            seed: 7,
            start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            bad_ratio: 0.002,
            time_zone: chrono_tz::Tz::Asia__Shanghai,
        },
        &mut file,
    )
    .expect("generate");
    std::io::Write::flush(&mut file).expect("flush");
    drop(file);
    let html = dir.join("report.html");
    let csv = dir.join("csv");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
        .args(["report", "--input"])
        .arg(&book)
        .arg("--output")
        .arg(&html)
        .arg("--csv")
        .arg(&csv)
        .args(["--until", "2027-01-01T00:00:00+08:00"])
        .output()
        .expect("run report");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("report: 24 month-ends"),
        "the summary names the month-ends: {stderr}"
    );
    let loaded = assert_renders_cleanly(&html);
    // Every section of the report made it, each chart over its table.
    let ids = [
        "npl",
        "classes",
        "closings",
        "flow-matrix",
        "roll-rates",
        "flows",
        "bucket-moves",
        "vintages",
        "branch-npl",
        "dealer-npl",
        "manager-npl",
        "alerts",
        "escalations",
        "rejections",
        "bad-lines",
    ];
    for id in ids {
        assert!(
            loaded.dom.contains(&format!("<section id=\"{id}\"")),
            "section {id} missing"
        );
        assert!(csv.join(format!("{id}.csv")).is_file(), "{id}.csv missing");
    }
    assert_eq!(blocks(&loaded.dom, "figure").len(), 11, "charts");
    // The malformed lines are counted and listed with their line numbers.
    let bad = std::fs::read_to_string(csv.join("bad-lines.csv")).expect("bad lines");
    assert!(bad.lines().count() > 10, "{bad}");
    assert!(
        bad.lines()
            .nth(1)
            .is_some_and(|l| l.contains("book.jsonl/")),
        "{bad}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_backtest_page_of_a_generated_book_renders_cleanly_in_chromium() {
    let dir = scratch("backtest");
    let book = dir.join("book.jsonl");
    let mut text = Vec::new();
    postloan_generate::generate(
        &postloan_generate::GenerateOptions {
            borrowers: 1_000,
            months: 18,
            seed: 11,
            start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            bad_ratio: 0.002,
            time_zone: chrono_tz::Tz::Asia__Shanghai,
        },
        &mut text,
    )
    .expect("generate");
    std::fs::write(&book, text).expect("write book");
    let root = env!("CARGO_MANIFEST_DIR");
    let baseline = format!("{root}/config/monitor.toml");
    let candidate = dir.join("candidate.toml");
    let moved = std::fs::read_to_string(&baseline)
        .expect("config")
        .replace("low = 1, medium = 7,", "low = 1, medium = 10,")
        .replace(
            r#"{ medium = "0.5", high = "0.8" }"#,
            r#"{ medium = "0.5", high = "0.7" }"#,
        );
    std::fs::write(&candidate, moved).expect("write candidate");
    let html = dir.join("backtest.html");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_postloan-monitor"))
        .args(["backtest", "--input"])
        .arg(&book)
        .args(["--baseline", &baseline, "--candidate"])
        .arg(&candidate)
        .arg("--html")
        .arg(&html)
        .arg("--csv")
        .arg(dir.join("csv"))
        .args(["--until", "2026-07-01T00:00:00+08:00"])
        .output()
        .expect("run backtest");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let loaded = assert_renders_cleanly(&html);
    for id in [
        "volume",
        "quality",
        "workload",
        "lead-times",
        "changes",
        "rejections",
        "bad-lines",
    ] {
        assert!(
            loaded.dom.contains(&format!("<section id=\"{id}\"")),
            "section {id} missing"
        );
        assert!(
            dir.join(format!("csv/{id}.csv")).is_file(),
            "{id}.csv missing"
        );
    }
    // Workload per week and lead times, each with A and B.
    let figures = blocks(&loaded.dom, "figure");
    assert_eq!(figures.len(), 2, "charts");
    for f in &figures {
        assert!(
            f.contains("A (baseline)") && f.contains("B (candidate)"),
            "{f:.300}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
