//! Entry point: parse the command line and hand over to the library.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    postloan_monitor::cli::main()
}
