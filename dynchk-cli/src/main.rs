//! `dynchk`: run a program under the ABI checker, summarize and export its reports.

mod cli;
mod explain;
mod locate;
mod logs;
mod run;
mod sarif;
mod summary;
mod symbolize;

use clap::Parser;
use std::process::ExitCode;

/// Exit status for dynchk's own failures, chosen like `env` and `timeout` do so that it cannot be
/// mistaken for the usual statuses of the checked program.
pub const EXIT_DYNCHK_ERROR: u8 = 125;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Run(args) => run::run(args),
        cli::Command::Report(args) => run::report(args),
        cli::Command::Explain(args) => explain::explain(args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        eprintln!("dynchk: error: {e:#}");
        ExitCode::from(EXIT_DYNCHK_ERROR)
    })
}
