//! `postloan-monitor demo`: the main job on an embedded default.
//!
//! Starts the embedded broker, generates a synthetic book, streams it into the input topics at
//! an accelerated pace while the monitor consumes it through the real consumer/producer path
//! (event clock, at-least-once), shows live progress, and ends with a summary and the first
//! lines of the alert topic. With `--keep-running` it stays up after the book, serving its
//! metrics until Ctrl-C, so that a Prometheus and Grafana can be pointed at it.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::{ClockSource, Config, ProcessingGuarantee, Topics};
use crate::engine::types::Signal;
use crate::generate::{generate, GenerateOptions};
use crate::kafka::broker::EmbeddedBroker;
use crate::kafka::produce::Publisher;
use crate::kafka::service;
use crate::metrics::Metrics;
use crate::runtime::worker::WorkerStats;

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Size and seed of the generated book.
    #[command(flatten)]
    pub book: super::generate::BookArgs,
    /// Events fed into Kafka per second of wall time; 0 (default) feeds as fast as the broker
    /// takes them. Keeping the feed ahead of the monitor means every task sees complete inputs,
    /// so the merge order is the book's; a throttled feed the monitor catches up with applies
    /// some events on arrival instead (the contract's late-event rule), as a live stream would.
    #[arg(long, default_value_t = 0)]
    pub speed: u32,
    /// Partitions of every topic on the embedded broker.
    #[arg(long, default_value_t = 8)]
    pub partitions: i32,
    /// Alert lines to show at the end.
    #[arg(long, default_value_t = 5)]
    pub show: usize,
    /// Where to serve /metrics, /healthz and /readyz (the `[http] listen` default).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Keep running (and serving metrics) after the book is processed, until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
}

/// Runs the demo; Ctrl-C stops it early with a summary.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let topics = Topics::default();
    // Keep partitions small: the embedded broker drops a partition's oldest data past ~5 MiB.
    let broker = EmbeddedBroker::start(1, args.partitions, &topics)?;
    let mut config = Config::default();
    config.kafka.bootstrap_servers = broker.bootstrap_servers();
    config.kafka.group_id = "postloan-demo".to_owned();
    config.kafka.processing_guarantee = ProcessingGuarantee::AtLeastOnce;
    config.kafka.commit_interval_ms = 200;
    config.kafka.session_timeout_ms = 6000;
    config.clock.mode = ClockSource::Event;
    if let Some(addr) = args.listen {
        config.http.listen = addr.to_string();
    }
    eprintln!(
        "Embedded broker at {} ({} partitions per topic).",
        broker.bootstrap_servers(),
        args.partitions
    );

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
    let total = generated.lines;

    let cancel = CancellationToken::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stats = Arc::new(WorkerStats::default());
    let metrics = Arc::new(Metrics::new(config.http.max_label_values)?);
    serve_metrics(&runtime, &config, &metrics, &cancel);
    let produced = Arc::new(AtomicU64::new(0));
    let feeding_failed = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let worker = {
        let (config, cancel) = (config.clone(), cancel.clone());
        let observer = Arc::new((Arc::clone(&stats), Arc::clone(&metrics)));
        std::thread::spawn(move || service::run(&config, cancel, observer))
    };
    let feeder = {
        let (kafka, cancel, produced, failed) = (
            config.kafka.clone(),
            cancel.clone(),
            Arc::clone(&produced),
            Arc::clone(&feeding_failed),
        );
        let chunk = if args.speed == 0 {
            usize::MAX
        } else {
            (args.speed as usize / 10).max(1)
        };
        std::thread::spawn(move || {
            let mut publisher = match Publisher::new(&kafka) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "Cannot create the demo's producer");
                    failed.store(true, Ordering::Relaxed);
                    return;
                }
            };
            let mut lines = book
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .peekable();
            // Paced in slices of 100 ms of wall time.
            while lines.peek().is_some() && !cancel.is_cancelled() {
                let tick = Instant::now();
                for l in lines.by_ref().take(chunk) {
                    if let Err(e) = publisher.send_line(l) {
                        tracing::error!(error = %e, "Feeding the demo book failed");
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                    produced.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(rest) = Duration::from_millis(100).checked_sub(tick.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
            if let Err(e) = publisher.flush(Duration::from_secs(60)) {
                tracing::error!(error = %e, "Feeding the demo book failed");
                failed.store(true, Ordering::Relaxed);
            }
        })
    };

    // Live progress until every event is processed (or Ctrl-C).
    let mut last = (Instant::now(), 0u64);
    let mut finished = false;
    // With --keep-running, the figures are the book's, not the idle time after it.
    let mut book_secs = None;
    let interrupted = runtime.block_on(async {
        let signal = crate::shutdown::wait_for_signal();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                _ = &mut signal => return !finished,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            let done = stats.inputs();
            let rate = (done - last.1) as f64 / last.0.elapsed().as_secs_f64().max(0.001);
            last = (Instant::now(), done);
            let alerts: u64 = Signal::ALL.iter().map(|s| stats.alerts(*s)).sum();
            eprint!(
                "\r  fed {:>8}/{total}  processed {done:>8} ({rate:>7.0} ev/s)  alerts {alerts:>6}  escalations {:>5}  ",
                produced.load(Ordering::Relaxed),
                stats.escalations.load(Ordering::Relaxed)
            );
            let _ = std::io::stderr().flush();
            if feeding_failed.load(Ordering::Relaxed) {
                return false;
            }
            if done >= total && !finished {
                if !args.keep_running {
                    return false;
                }
                finished = true;
                book_secs = Some(started.elapsed().as_secs_f64());
                eprintln!(
                    "\nThe book is processed; the monitor keeps running and serving metrics. Ctrl-C stops it."
                );
            }
        }
    });
    eprintln!();
    cancel.cancel();
    let _ = feeder.join();
    let result = worker
        .join()
        .map_err(|_| anyhow::anyhow!("the monitor thread panicked"))?;
    result?;
    if feeding_failed.load(Ordering::Relaxed) {
        anyhow::bail!("feeding the book into the embedded broker failed (see the log above)");
    }

    let secs = book_secs.unwrap_or_else(|| started.elapsed().as_secs_f64());
    let mut o = std::io::stdout().lock();
    writeln!(
        o,
        "\nDemo summary{}",
        if interrupted { " (interrupted)" } else { "" }
    )?;
    writeln!(
        o,
        "  {} events in {secs:.1} s ({:.0} events/s end to end): {} applied, {} duplicates, {} rejected",
        stats.inputs(),
        stats.inputs() as f64 / secs,
        stats.applied.load(Ordering::Relaxed),
        stats.duplicates.load(Ordering::Relaxed),
        stats.rejected.load(Ordering::Relaxed)
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
    )?;
    writeln!(o, "\nFirst lines of {}:", topics.alerts)?;
    for line in first_lines(&config, &topics.alerts, args.show) {
        writeln!(o, "  {line}")?;
    }
    drop(broker);
    Ok(ExitCode::SUCCESS)
}

/// The first `n` messages of partition 0 of `topic`.
fn first_lines(config: &Config, topic: &str, n: usize) -> Vec<String> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Message;
    let Ok(consumer) = crate::kafka::client_config(&config.kafka)
        .set("group.id", "postloan-demo-reader")
        .set("enable.auto.commit", "false")
        .create::<BaseConsumer>()
    else {
        return Vec::new();
    };
    let mut tpl = rdkafka::TopicPartitionList::new();
    if tpl
        .add_partition_offset(topic, 0, rdkafka::Offset::Beginning)
        .is_err()
        || consumer.assign(&tpl).is_err()
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < n && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            out.push(String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned());
        }
    }
    out
}

/// Serves `/metrics`, `/healthz` and `/readyz` while the demo runs; a demo without them (the
/// port is taken) still runs.
fn serve_metrics(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    metrics: &Arc<Metrics>,
    cancel: &CancellationToken,
) {
    let Some(addr) = config.http.addr() else {
        return;
    };
    match runtime.block_on(crate::http::bind(addr)) {
        Ok(listener) => {
            let addr = listener.local_addr().unwrap_or(addr);
            eprintln!("Metrics at http://{addr}/metrics (readiness: /readyz).");
            runtime.spawn(crate::http::serve(
                listener,
                Arc::clone(metrics),
                cancel.clone(),
            ));
        }
        Err(e) => eprintln!("Not serving metrics: {e}."),
    }
}
