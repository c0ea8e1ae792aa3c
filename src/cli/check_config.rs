//! `postloan-monitor check-config`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

/// Arguments of `check-config`.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// Configuration file (default: the built-in defaults, as in config/monitor.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Prints OK with the rules_version the file gives, or every problem; exit 0 or 2.
pub fn run(args: CheckConfigArgs) -> anyhow::Result<ExitCode> {
    match super::load_config(args.config.as_ref()) {
        Ok(config) => {
            let name = args.config.as_ref().map_or_else(
                || "built-in defaults".to_owned(),
                |p| p.display().to_string(),
            );
            use std::io::Write;
            // The version every alert and escalation will carry (docs/config.md).
            writeln!(
                std::io::stdout(),
                "OK: {name} (rules_version {})",
                config.engine_settings().rules_version
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(code) => Ok(code),
    }
}
