//! `postloan-monitor demo`: the main job on the embedded broker.
//!
//! Starts the embedded broker, generates a synthetic book, writes it into the input topics and
//! runs the monitor on it through the real consumer/producer path (event clock,
//! at-least-once), with live progress. Then it checks itself: the same book replayed in-process,
//! partition by partition as the monitor read it ([`reference_fingerprint`]), must publish
//! exactly the same messages (count and multiset, per topic), or the demo exits non-zero. With
//! `--keep-running` it stays up after the book, serving its metrics until Ctrl-C, so that a
//! Prometheus and Grafana can be pointed at it. Last, it writes the book's monthly risk report
//! (`demo-report.html`, as `report` would) and prints its path.

mod notify;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::{ClockSource, Config, ProcessingGuarantee, Topics};
use crate::kafka::broker::EmbeddedBroker;
use crate::kafka::demo::{first_lines, partitions_for, Feed};
use crate::kafka::reference::reference_fingerprint;
use crate::kafka::service;
use crate::metrics::Metrics;
use crate::runtime::worker::WorkerStats;
use crate::service::Service;
use postloan_engine::output::{Fingerprint, OutputKind};
use postloan_engine::types::Signal;
use postloan_generate::{generate, GenerateOptions};

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Size and seed of the generated book.
    #[command(flatten)]
    pub book: super::generate::BookArgs,
    /// Feed the book live at this many events per second of wall time while the monitor runs.
    /// 0 (default) writes the whole book into the broker first, so every task sees complete
    /// inputs and the output must equal replay's. A live feed the monitor catches up with
    /// applies some events after newer ones (the contract's late-event rule, counted as late
    /// events), as a live stream would, and may then differ from replay.
    #[arg(long, default_value_t = 0)]
    pub speed: u32,
    /// Partitions of every topic on the embedded broker (default: enough for the book; the
    /// embedded broker keeps at most ~5 MiB and 100,000 messages per partition).
    #[arg(long)]
    pub partitions: Option<i32>,
    /// Alert lines to show at the end.
    #[arg(long, default_value_t = 5)]
    pub show: usize,
    /// Where to serve /metrics, /healthz and /readyz (the `[http] listen` default).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Keep running (and serving metrics) after the book is processed, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// Where to write the monthly risk report of the book (`report`'s HTML page), through the
    /// end of its last month.
    #[arg(long, value_name = "PATH", default_value = "demo-report.html")]
    pub report: PathBuf,
    /// After the monitor, run `notify` on the embedded broker and deliver the book's
    /// escalation notices to the Alertmanager at this URL (e.g. http://127.0.0.1:9093).
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
}

/// Runs the demo; Ctrl-C stops it early with a summary.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let mut config = demo_config(&args);
    let (book, total) = generate_book(&args, &config)?;
    let partitions = partitions_for(&config.kafka, &book, args.partitions)?;
    let topics = Topics::default();
    let broker = EmbeddedBroker::start(1, partitions, &topics)?;
    config.kafka.bootstrap_servers = broker.bootstrap_servers();
    eprintln!(
        "Embedded broker at {} ({partitions} partitions per topic).",
        broker.bootstrap_servers()
    );

    let service = Service::start()?;
    let cancel = service.cancel_token();
    let stats = Arc::new(WorkerStats::default());
    let metrics = Arc::new(Metrics::new(config.http.max_label_values)?);
    metrics.watch_inputs(&config.kafka.topics.inputs());
    serve_metrics(&service, &config, &metrics);
    let book = Arc::new(book);
    let feed = Feed::default();
    let fed_first = args.speed == 0;
    if fed_first {
        feed_whole_book(&feed, &config, &book, partitions, &cancel)?;
    }
    let started = Instant::now();
    let worker = {
        let (config, cancel) = (config.clone(), cancel.clone());
        let observer = Arc::new((Arc::clone(&stats), Arc::clone(&metrics)));
        std::thread::spawn(move || service::run(&config, cancel, observer))
    };
    let feeder = (!fed_first).then(|| {
        let (kafka, cancel, feed, book) = (
            config.kafka.clone(),
            cancel.clone(),
            feed.clone(),
            Arc::clone(&book),
        );
        let chunk = (args.speed as usize / 10).max(1);
        std::thread::spawn(move || feed.run(&kafka, &book, partitions, chunk, &cancel))
    });

    let progress = Progress {
        total,
        stats: &stats,
        feed: &feed,
        keep_running: args.keep_running,
    };
    let (interrupted, book_secs) = service.block_on(progress.watch(started));
    eprintln!();
    cancel.cancel();
    if let Some(f) = feeder {
        // The feeder reports its own failure through `feed.failed`, checked below.
        let _ = f.join();
    }
    worker
        .join()
        .map_err(|_| anyhow::anyhow!("the monitor thread panicked"))??;
    if feed.failed.load(Ordering::Relaxed) {
        anyhow::bail!("feeding the book into the embedded broker failed (see the log above)");
    }

    let secs = book_secs.unwrap_or_else(|| started.elapsed().as_secs_f64());
    let mut o = std::io::stdout().lock();
    print_summary(&mut o, &stats, secs, interrupted)?;
    writeln!(o, "\nFirst lines of {}:", topics.alerts)?;
    for line in first_lines(&config.kafka, &topics.alerts, args.show) {
        writeln!(o, "  {line}")?;
    }
    if let (Some(url), false) = (&args.notify, interrupted) {
        notify(&mut o, &mut config, &broker, partitions, url)?;
    }
    drop(broker);
    if interrupted {
        return Ok(ExitCode::SUCCESS);
    }
    let code = verdict(&mut o, &config, &book, partitions, &stats, fed_first)?;
    write_report(&mut o, &config, &book, &args)?;
    Ok(code)
}

/// Delivers the book's escalation notices to the Alertmanager at `url` through `notify`.
fn notify(
    o: &mut impl Write,
    config: &mut Config,
    broker: &EmbeddedBroker,
    partitions: i32,
    url: &str,
) -> anyhow::Result<()> {
    config.notify.alertmanager_urls = vec![url.to_owned()];
    config.notify.group_id = "postloan-demo-notify".to_owned();
    broker.create_topic(&config.notify.state_topic, partitions)?;
    let mut problems = crate::config::Problems::default();
    config.notify.validate(&mut problems);
    anyhow::ensure!(problems.0.is_empty(), "--notify {url}: {problems}");
    eprintln!("Delivering escalation notices to Alertmanager at {url}...");
    let d = notify::deliver_all(config, partitions, Duration::from_secs(600))?;
    writeln!(
        o,
        "\nnotify: the book's escalation notices delivered to {url}: {} open (firing), {} ended (resolved, acknowledged or suppressed); {} failed attempts retried or refused.",
        d.open(),
        d.ended.load(Ordering::Relaxed),
        d.failures.load(Ordering::Relaxed),
    )?;
    writeln!(
        o,
        "  See them: amtool alert query --alertmanager.url={url} alertname=PostloanEscalation"
    )?;
    Ok(())
}

/// The monthly risk report of the book, closed at the end of its last month.
fn write_report(
    o: &mut impl Write,
    config: &Config,
    book: &[u8],
    args: &DemoArgs,
) -> anyhow::Result<()> {
    let tz = config.clock.tz();
    let end = NaiveDate::from_ymd_opt(2025, 1, 1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(args.book.months)))
        .context("end of the book")?;
    let until = postloan_engine::time::start_of_day(end, tz);
    let (figures, _, html) = crate::report::report(
        Arc::new(config.engine_settings()),
        &mut &book[..],
        "demo book",
        Some(until),
        &mut |_| {},
    )?;
    std::fs::write(&args.report, html)
        .with_context(|| format!("cannot write {}", args.report.display()))?;
    let path = std::fs::canonicalize(&args.report).unwrap_or_else(|_| args.report.clone());
    writeln!(
        o,
        "\nMonthly risk report ({} month-ends): {}",
        figures.months.len(),
        path.display()
    )?;
    Ok(())
}

/// The demo's configuration: the defaults, on the event clock, committing often.
fn demo_config(args: &DemoArgs) -> Config {
    let mut config = Config::default();
    config.kafka.group_id = "postloan-demo".to_owned();
    config.kafka.processing_guarantee = ProcessingGuarantee::AtLeastOnce;
    config.kafka.commit_interval_ms = 200;
    config.kafka.session_timeout_ms = 6000;
    config.clock.mode = ClockSource::Event;
    if let Some(addr) = args.listen {
        config.http.listen = addr.to_string();
    }
    config
}

/// The synthetic book (0.2 % of its lines malformed, to show rejections) and its line count.
fn generate_book(args: &DemoArgs, config: &Config) -> anyhow::Result<(Vec<u8>, u64)> {
    let opts = GenerateOptions {
        borrowers: args.book.borrowers,
        months: args.book.months,
        seed: args.book.seed,
        start: NaiveDate::from_ymd_opt(2025, 1, 1).context("start date")?,
        bad_ratio: 0.002,
        time_zone: config.clock.tz(),
    };
    let mut book = Vec::new();
    let generated = generate(&opts, &mut book)?;
    eprintln!(
        "Generated {} borrowers over {} months: {} events ({} deliberately malformed).",
        args.book.borrowers, args.book.months, generated.lines, generated.bad_lines
    );
    Ok((book, generated.lines))
}

/// Writes the whole book into the input topics before the monitor starts.
fn feed_whole_book(
    feed: &Feed,
    config: &Config,
    book: &[u8],
    partitions: i32,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let started = Instant::now();
    feed.run(&config.kafka, book, partitions, usize::MAX, cancel);
    if feed.failed.load(Ordering::Relaxed) {
        anyhow::bail!("feeding the book into the embedded broker failed (see the log above)");
    }
    eprintln!(
        "Fed {} events into the input topics in {:.1} s.",
        feed.produced.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The self-check: what was published against replay of the same book, partition by
/// partition. A live feed may legitimately differ (late events); a book fed first never may.
fn verdict(
    o: &mut impl Write,
    config: &Config,
    book: &[u8],
    partitions: i32,
    stats: &WorkerStats,
    fed_first: bool,
) -> anyhow::Result<ExitCode> {
    let published = stats
        .fingerprint
        .lock()
        .map(|f| *f)
        .map_err(|_| anyhow::anyhow!("the monitor's counters are poisoned"))?;
    let replayed = reference_fingerprint(config, book, partitions);
    let late = stats.late.load(Ordering::Relaxed);
    let same = check_against_replay(o, &published, &replayed, late)?;
    Ok(if same || (!fed_first && late > 0) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FATAL)
    })
}

/// The progress line, once a second, until the book is processed (or Ctrl-C).
struct Progress<'a> {
    total: u64,
    stats: &'a WorkerStats,
    feed: &'a Feed,
    keep_running: bool,
}

impl Progress<'_> {
    /// Returns whether Ctrl-C cut the book short, and (with `--keep-running`) how long the
    /// book took.
    async fn watch(&self, started: Instant) -> (bool, Option<f64>) {
        let signal = crate::shutdown::wait_for_signal();
        tokio::pin!(signal);
        let mut last = (Instant::now(), 0u64);
        let mut book_secs = None;
        loop {
            tokio::select! {
                _ = &mut signal => return (book_secs.is_none(), book_secs),
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            let done = self.stats.inputs();
            let rate = (done - last.1) as f64 / last.0.elapsed().as_secs_f64().max(0.001);
            last = (Instant::now(), done);
            let alerts: u64 = Signal::ALL.iter().map(|s| self.stats.alerts(*s)).sum();
            eprint!(
                "\r  fed {:>8}/{}  processed {done:>8} ({rate:>7.0} ev/s)  alerts {alerts:>6}  escalations {:>5}  ",
                self.feed.produced.load(Ordering::Relaxed),
                self.total,
                self.stats.escalations.load(Ordering::Relaxed)
            );
            let _ = std::io::stderr().flush();
            if self.feed.failed.load(Ordering::Relaxed) {
                return (false, book_secs);
            }
            if done >= self.total && book_secs.is_none() {
                book_secs = Some(started.elapsed().as_secs_f64());
                if !self.keep_running {
                    return (false, book_secs);
                }
                eprintln!(
                    "\nThe book is processed; the monitor keeps running and serving metrics. Ctrl-C stops it."
                );
            }
        }
    }
}

fn print_summary(
    o: &mut impl Write,
    stats: &WorkerStats,
    secs: f64,
    interrupted: bool,
) -> std::io::Result<()> {
    writeln!(
        o,
        "\nDemo summary{}",
        if interrupted { " (interrupted)" } else { "" }
    )?;
    writeln!(
        o,
        "  {} events in {secs:.1} s ({:.0} events/s, group join included): {} applied, {} duplicates, {} rejected, {} late",
        stats.inputs(),
        stats.inputs() as f64 / secs,
        stats.applied.load(Ordering::Relaxed),
        stats.duplicates.load(Ordering::Relaxed),
        stats.rejected.load(Ordering::Relaxed),
        stats.late.load(Ordering::Relaxed),
    )?;
    writeln!(o, "  {:<20} {:>8}", "alert messages", "count")?;
    for s in Signal::ALL {
        writeln!(o, "  {:<20} {:>8}", s.as_str(), stats.alerts(s))?;
    }
    writeln!(
        o,
        "  {:<20} {:>8}",
        "escalations",
        stats.escalations.load(Ordering::Relaxed)
    )
}

/// Prints, per output topic, whether the live run published exactly what replay publishes;
/// returns whether all three match.
fn check_against_replay(
    o: &mut impl Write,
    published: &Fingerprint,
    replayed: &Fingerprint,
    late: u64,
) -> std::io::Result<bool> {
    let kinds = [
        (OutputKind::Alert, "alerts"),
        (OutputKind::Escalation, "escalations"),
        (OutputKind::Rejected, "rejections"),
    ];
    let same = kinds.iter().all(|(k, _)| published.same(replayed, *k));
    if same {
        writeln!(
            o,
            "\nOutput matches replay: {} alerts, {} escalations, {} rejections, the same messages as replaying the book partition by partition.",
            published.count(OutputKind::Alert),
            published.count(OutputKind::Escalation),
            published.count(OutputKind::Rejected)
        )?;
        return Ok(true);
    }
    writeln!(
        o,
        "\nOutput DIFFERS from replay of the same book, partition by partition:"
    )?;
    for (k, name) in kinds {
        writeln!(
            o,
            "  {name:<12} published {:>8}, replay {:>8}{}",
            published.count(k),
            replayed.count(k),
            if published.same(replayed, k) {
                ""
            } else {
                "  (differ)"
            }
        )?;
    }
    if late > 0 {
        writeln!(
            o,
            "  {late} events were applied late (after newer ones): expected when a live feed (--speed) is slower than the monitor."
        )?;
    }
    Ok(false)
}

/// Serves `/metrics`, `/healthz` and `/readyz` while the demo runs; a demo without them (the
/// port is taken) still runs.
fn serve_metrics(service: &Service, config: &Config, metrics: &Arc<Metrics>) {
    let Some(addr) = config.http.addr() else {
        return;
    };
    match service.spawn_endpoint(addr, Arc::clone(metrics) as Arc<dyn crate::metrics::Scrape>) {
        Ok(addr) => eprintln!("Metrics at http://{addr}/metrics (readiness: /readyz)."),
        Err(e) => eprintln!("Not serving metrics: {e}."),
    }
}
