//! The renderer's contract without a browser: cell formats, CSV bytes, escaping, determinism,
//! degenerate charts, shape errors. tests/report_render.rs checks the page in Chromium.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("test decimal")
}

fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("L{i}")).collect()
}

fn section(id: &str, chart: Option<Chart>) -> Section {
    Section {
        id: id.to_owned(),
        title: format!("Section {id}"),
        description: "What it shows.".to_owned(),
        chart,
        table: Table {
            columns: vec![Column::text("Name"), Column::numeric("Value")],
            rows: vec![vec![Cell::Text("a".to_owned()), Cell::Count(1)]],
        },
    }
}

fn page(sections: Vec<Section>) -> Page {
    Page {
        title: "Report".to_owned(),
        subtitle: "Period".to_owned(),
        facts: vec![("input".to_owned(), "book.jsonl".to_owned())],
        sections,
        notes: vec!["A note.".to_owned()],
    }
}

/// The `data-points` of every chart figure, in page order.
fn data_points(html: &str) -> Vec<usize> {
    html.match_indices("data-points=\"")
        .filter_map(|(at, key)| {
            let rest = &html[at + key.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

fn render_chart(chart: Chart) -> String {
    render_page(&page(vec![section("c", Some(chart))])).expect("renders")
}

fn lines(x: usize, series: Vec<Vec<Option<f64>>>) -> Chart {
    Chart::Lines {
        x_labels: labels(x),
        series: series
            .into_iter()
            .enumerate()
            .map(|(i, values)| Series {
                name: format!("s{i}"),
                values,
            })
            .collect(),
        y: Axis::Percent,
    }
}

#[test]
fn money_has_thousands_separators_two_decimals_and_rounds_half_away_from_zero() {
    let shown = |s: &str| Cell::Money(dec(s)).display();
    assert_eq!(shown("1234567.891"), "1,234,567.89");
    assert_eq!(shown("-1234.5"), "-1,234.50");
    assert_eq!(shown("999.995"), "1,000.00");
    assert_eq!(shown("-0.005"), "-0.01");
    assert_eq!(shown("-0.004"), "0.00");
    assert_eq!(shown("0"), "0.00");
    assert_eq!(shown("100"), "100.00");
    assert_eq!(shown("123456"), "123,456.00");
    assert_eq!(Cell::Money(dec("-1234.5670")).csv(), "-1234.5670");
}

#[test]
fn figures_show_two_decimals_grouped_and_csv_rounds_to_six() {
    let f = |s: &str| Cell::Figure(Some(dec(s)));
    assert_eq!(f("1234.5").display(), "1,234.50");
    assert_eq!(f("12.3456785").csv(), "12.345679");
    assert_eq!(f("89").csv(), "89");
    assert_eq!(f("-0.0000001").csv(), "0");
    assert_eq!(Cell::Figure(None).display(), "—");
    assert_eq!(Cell::Figure(None).csv(), "");
}

#[test]
fn ratios_show_percent_with_two_decimals_and_csv_keeps_six() {
    let r = |s: &str| Cell::Ratio(Some(dec(s)));
    assert_eq!(r("0.0417").display(), "4.17 %");
    assert_eq!(r("0.041749").display(), "4.17 %");
    assert_eq!(r("0.041750").display(), "4.18 %");
    assert_eq!(r("-0.00001").display(), "0.00 %");
    assert_eq!(r("12.5").display(), "1,250.00 %");
    assert_eq!(r("0.0417").csv(), "0.041700");
    assert_eq!(r("0.1234565").csv(), "0.123457");
    assert_eq!(r("-0.1234565").csv(), "-0.123457");
    assert_eq!(r("1").csv(), "1.000000");
    assert_eq!(Cell::Ratio(None).display(), "—");
    assert_eq!(Cell::Ratio(None).csv(), "");
    // A fraction too large to scale by 100 still shows, unscaled and labelled.
    assert!(Cell::Ratio(Some(Decimal::MAX))
        .display()
        .ends_with("(fraction)"));
}

#[test]
fn counts_text_and_empty_cells() {
    assert_eq!(Cell::Count(0).display(), "0");
    assert_eq!(Cell::Count(999).display(), "999");
    assert_eq!(Cell::Count(1000).display(), "1,000");
    assert_eq!(
        Cell::Count(u64::MAX).display(),
        "18,446,744,073,709,551,615"
    );
    assert_eq!(Cell::Count(1234567).csv(), "1234567");
    assert_eq!(Cell::Text("a, \"b\"".to_owned()).csv(), "a, \"b\"");
    assert_eq!(Cell::Empty.display(), "");
    assert_eq!(Cell::Empty.csv(), "");
}

#[test]
fn csv_holds_the_exact_table() {
    let table = Table {
        columns: vec![
            Column::text("Branch, name"),
            Column::numeric("Loans"),
            Column::numeric("Balance"),
            Column::numeric("NPL ratio"),
            Column::text("Note"),
        ],
        rows: vec![
            vec![
                Cell::Text("North \"A\"".to_owned()),
                Cell::Count(1200),
                Cell::Money(dec("1234567.891")),
                Cell::Ratio(Some(dec("0.0416666"))),
                Cell::Empty,
            ],
            vec![
                Cell::Text("South".to_owned()),
                Cell::Count(0),
                Cell::Money(dec("-5")),
                Cell::Ratio(None),
                Cell::Text("line\nbreak".to_owned()),
            ],
        ],
    };
    let mut out = Vec::new();
    csv::write_table(&mut out, &table).expect("csv");
    assert_eq!(
        String::from_utf8(out).expect("utf-8"),
        "\"Branch, name\",Loans,Balance,NPL ratio,Note\n\
         \"North \"\"A\"\"\",1200,1234567.891,0.041667,\n\
         South,0,-5,,\"line\nbreak\"\n"
    );
}

#[test]
fn write_csvs_writes_one_file_per_section_in_a_new_directory() {
    let dir = std::env::temp_dir().join(format!("plm-html-csv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let p = page(vec![section("npl_ratio", None), section("class-mix", None)]);
    let paths = write_csvs(&dir.join("nested"), &p).expect("writes");
    assert_eq!(
        paths,
        vec![
            dir.join("nested/npl_ratio.csv"),
            dir.join("nested/class-mix.csv")
        ]
    );
    let text = std::fs::read_to_string(&paths[0]).expect("read");
    assert_eq!(text, "Name,Value\na,1\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn all_text_is_escaped_in_html_and_in_the_svg() {
    let evil = "<script>alert('x')</script> & \"q\"";
    let mut s = section("evil", None);
    s.title = evil.to_owned();
    s.description = evil.to_owned();
    s.table.columns[0].name = evil.to_owned();
    s.table.rows[0][0] = Cell::Text(evil.to_owned());
    s.chart = Some(Chart::Lines {
        x_labels: vec![evil.to_owned(), "b".to_owned()],
        series: vec![
            Series {
                name: evil.to_owned(),
                values: vec![Some(0.1), Some(0.2)],
            },
            Series {
                name: "<b>".to_owned(),
                values: vec![Some(0.3), None],
            },
        ],
        y: Axis::Percent,
    });
    let mut p = page(vec![s]);
    p.title = evil.to_owned();
    p.subtitle = evil.to_owned();
    p.facts = vec![(evil.to_owned(), evil.to_owned())];
    p.notes = vec![evil.to_owned()];
    let html = render_page(&p).expect("renders");
    assert!(!html.contains("<script"), "unescaped script tag");
    assert!(
        !html.contains("<b>"),
        "unescaped series name in the SVG legend"
    );
    assert!(
        html.contains("&lt;b&gt;"),
        "the legend entry is there, escaped"
    );
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("alert('x')"), "quotes escaped too");
    let heat = Chart::Heatmap {
        rows: vec![evil.to_owned()],
        columns: vec!["<c>".to_owned()],
        values: vec![vec![Some(0.5)]],
        scale: Axis::Percent,
    };
    let bars = Chart::HorizontalBars {
        labels: vec!["<d>".to_owned()],
        values: vec![1.0],
        x: Axis::Count,
    };
    for chart in [heat, bars] {
        let html = render_chart(chart);
        assert!(!html.contains("<script") && !html.contains("<c>") && !html.contains("<d>"));
    }
}

#[test]
fn the_same_page_renders_to_the_same_bytes() {
    let p = page(vec![
        section("a", Some(lines(24, vec![vec![Some(0.01); 24]; 3]))),
        section(
            "b",
            Some(Chart::Heatmap {
                rows: labels(5),
                columns: labels(5),
                values: vec![vec![Some(0.2), None, Some(0.0), Some(1.0), Some(0.5)]; 5],
                scale: Axis::Percent,
            }),
        ),
    ]);
    let first = render_page(&p).expect("renders");
    assert_eq!(first, render_page(&p).expect("renders again"));
}

#[test]
fn data_points_count_present_finite_values() {
    let html = render_chart(lines(
        3,
        vec![
            vec![Some(0.1), None, Some(f64::NAN)],
            vec![Some(f64::INFINITY), Some(0.2), Some(0.3)],
        ],
    ));
    assert_eq!(data_points(&html), vec![3]);
    let html = render_chart(Chart::HorizontalBars {
        labels: labels(3),
        values: vec![1.0, f64::NEG_INFINITY, 2.0],
        x: Axis::Count,
    });
    assert_eq!(data_points(&html), vec![2]);
    let html = render_chart(Chart::Heatmap {
        rows: labels(2),
        columns: labels(2),
        values: vec![vec![Some(0.1), None], vec![Some(f64::NAN), Some(0.0)]],
        scale: Axis::Percent,
    });
    assert_eq!(data_points(&html), vec![2]);
}

#[test]
fn charts_without_data_show_a_placeholder() {
    let empty = [
        lines(0, vec![]),
        lines(3, vec![]),
        lines(3, vec![vec![None, Some(f64::NAN), None]]),
        Chart::StackedBars {
            x_labels: vec![],
            series: vec![],
            y: Axis::Count,
        },
        Chart::HorizontalBars {
            labels: vec![],
            values: vec![],
            x: Axis::Money,
        },
        Chart::Heatmap {
            rows: vec![],
            columns: vec![],
            values: vec![],
            scale: Axis::Percent,
        },
    ];
    for chart in empty {
        let html = render_chart(chart.clone());
        assert_eq!(data_points(&html), vec![0], "{chart:?}");
        assert!(html.contains("No data for this period"), "{chart:?}");
        assert!(!html.contains("<svg"), "{chart:?}");
    }
}

#[test]
fn degenerate_charts_still_draw() {
    let long = "x".repeat(500);
    let big = 1e300;
    let charts = [
        lines(1, vec![vec![Some(0.5)]]),
        lines(2, vec![vec![Some(0.0), Some(0.0)]]),
        lines(
            3,
            vec![vec![Some(-big), Some(big), Some(f64::MIN_POSITIVE)]],
        ),
        Chart::Lines {
            x_labels: vec![long.clone(); 500],
            series: vec![Series {
                name: long.clone(),
                values: (0..500).map(|i| Some(i as f64)).collect(),
            }],
            y: Axis::Money,
        },
        Chart::StackedBars {
            x_labels: vec![long.clone()],
            series: (0..12)
                .map(|i| Series {
                    name: format!("{long}{i}"),
                    values: vec![Some(if i % 2 == 0 { 3.0 } else { -2.0 })],
                })
                .collect(),
            y: Axis::Count,
        },
        Chart::HorizontalBars {
            labels: vec![long.clone(); 500],
            values: (0..500).map(|i| i as f64 - 250.0).collect(),
            x: Axis::Money,
        },
        Chart::Heatmap {
            rows: vec![long.clone(); 60],
            columns: vec![long.clone(); 12],
            values: vec![
                vec![
                    Some(-3.0),
                    Some(7.5e9),
                    None,
                    Some(0.0),
                    Some(1.0),
                    Some(2.0),
                    Some(3.0),
                    Some(4.0),
                    Some(5.0),
                    Some(6.0),
                    Some(7.0),
                    Some(8.0)
                ];
                60
            ],
            scale: Axis::Money,
        },
        Chart::Heatmap {
            rows: labels(1),
            columns: labels(1),
            values: vec![vec![Some(7.0)]],
            scale: Axis::Percent,
        },
    ];
    for chart in charts {
        let html = render_chart(chart.clone());
        let points = data_points(&html);
        assert_eq!(points.len(), 1);
        assert!(points[0] > 0);
        assert!(html.contains("<svg"), "{:.200}", format!("{chart:?}"));
        for bad in ["NaN", "=\"inf", "=\"-inf"] {
            assert!(
                !html.contains(bad),
                "non-finite coordinate in {chart:.200?}"
            );
        }
    }
}

#[test]
fn tables_without_rows_and_long_tables_render() {
    let mut empty = section("empty", None);
    empty.table.rows.clear();
    let mut long = section("long", None);
    long.table.rows = (0..500)
        .map(|i| vec![Cell::Text(format!("r{i}")), Cell::Count(i)])
        .collect();
    let html = render_page(&page(vec![empty, long])).expect("renders");
    assert!(
        html.contains("<tr class=\"empty\"><td colspan=\"2\">No rows for this period</td></tr>")
    );
    assert_eq!(html.matches("<td class=\"num\">").count(), 500);
    assert!(html.contains("<th scope=\"col\" class=\"num\">Value</th>"));
}

#[test]
fn the_page_has_its_parts() {
    let html = render_page(&page(vec![section(
        "npl",
        Some(lines(2, vec![vec![Some(0.1); 2]])),
    )]))
    .expect("renders");
    for part in [
        "<!DOCTYPE html>",
        "Content-Security-Policy",
        "<style>",
        "<dt>input</dt><dd>book.jsonl</dd>",
        "<a href=\"#npl\">Section npl</a>",
        "<section id=\"npl\">",
        "<figure class=\"chart\" data-points=\"2\"",
        "<caption>Section npl</caption>",
        "<li id=\"note-1\">A note.</li>",
    ] {
        assert!(html.contains(part), "missing {part}");
    }
    // The SVG namespace is a name, not a reference; nothing else may name a URL.
    let rest = html.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!rest.contains("<script") && !rest.contains("http://") && !rest.contains("https://"));
}

#[test]
fn shapes_that_do_not_fit_are_errors() {
    let bad_id = page(vec![section("Bad Id", None)]);
    assert!(matches!(
        render_page(&bad_id),
        Err(HtmlError::InvalidId { .. })
    ));
    let climbing = page(vec![section("../x", None)]);
    let dir = std::env::temp_dir();
    assert!(matches!(
        write_csvs(&dir, &climbing),
        Err(HtmlError::InvalidId { .. })
    ));
    let twice = page(vec![section("a", None), section("a", None)]);
    assert!(matches!(
        render_page(&twice),
        Err(HtmlError::DuplicateId { .. })
    ));
    let mut short_row = section("a", None);
    short_row.table.rows.push(vec![Cell::Empty]);
    assert!(matches!(
        render_page(&page(vec![short_row])),
        Err(HtmlError::TableShape {
            row: 1,
            cells: 1,
            columns: 2,
            ..
        })
    ));
    for chart in [
        lines(3, vec![vec![Some(0.1)]]),
        Chart::HorizontalBars {
            labels: labels(2),
            values: vec![1.0],
            x: Axis::Count,
        },
        Chart::Heatmap {
            rows: labels(2),
            columns: labels(2),
            values: vec![vec![Some(1.0), Some(1.0)], vec![Some(1.0)]],
            scale: Axis::Count,
        },
    ] {
        let result = render_page(&page(vec![section("a", Some(chart))]));
        assert!(
            matches!(result, Err(HtmlError::ChartShape { .. })),
            "{result:?}"
        );
    }
}

#[test]
fn an_empty_page_is_still_a_document() {
    let html = render_page(&Page::default()).expect("renders");
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(!html.contains("<nav") && !html.contains("<figure") && !html.contains("<footer"));
    let dir = std::env::temp_dir().join(format!("plm-html-empty-{}", std::process::id()));
    assert_eq!(
        write_csvs(&dir, &Page::default()).expect("writes"),
        Vec::<std::path::PathBuf>::new()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
