//! `postloan-monitor broker`: an embedded Kafka-protocol broker for development and tests.

use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use crate::config::{NotifyConfig, Topics};
use crate::kafka::broker::EmbeddedBroker;

/// Arguments of `broker`.
#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Partitions of every contract topic (created at start).
    #[arg(long, default_value_t = 4)]
    pub partitions: i32,
    /// Number of mock brokers in the cluster.
    #[arg(long, default_value_t = 1)]
    pub brokers: i32,
}

/// Prints `bootstrap=HOST:PORT` on stdout, then serves until SIGINT/SIGTERM.
pub fn run(args: BrokerArgs) -> anyhow::Result<ExitCode> {
    // The mock cluster is not Send: it lives on this thread, which only waits for the signal.
    let broker = EmbeddedBroker::start(args.brokers, args.partitions, &Topics::default())?;
    // `notify`'s state topic, so that it runs on this broker as it would on a real one.
    broker.create_topic(&NotifyConfig::default().state_topic, args.partitions)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "bootstrap={}", broker.bootstrap_servers())?;
    stdout.flush()?;
    tracing::info!(
        bootstrap = %broker.bootstrap_servers(),
        partitions = args.partitions,
        "Embedded broker serving the contract topics until SIGINT/SIGTERM"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(crate::shutdown::wait_for_signal());
    tracing::info!("Embedded broker stopping");
    drop(broker);
    Ok(ExitCode::SUCCESS)
}
