//! `dynchk`: run a program under the ABI checker, summarize and export its reports.

mod certify;
mod cli;
mod explain;
mod locate;
mod logs;
mod program;
mod run;
mod sarif;
mod style;
mod summary;
mod suppress;
mod symbolize;

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

/// Exit status for dynchk's own failures, chosen like `env` and `timeout` do so that it cannot be
/// mistaken for the usual statuses of the checked program.
pub const EXIT_DYNCHK_ERROR: u8 = 125;

/// Hash of the specification database the interposers and `dynchk explain` were built from.
pub const DB_HASH: &str = env!("DYNCHK_DB_HASH");

/// What `dynchk --version` prints after the name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (spec database ",
    env!("DYNCHK_DB_HASH"),
    ")"
);

fn main() -> ExitCode {
    // Usage errors exit like dynchk's other failures (not clap's 2), so that `dynchk run` never
    // reports a status the command could have produced itself.
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_DYNCHK_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        cli::Command::Run(args) => run::run(args),
        cli::Command::Report(args) => run::report(args),
        cli::Command::Explain(args) => explain::explain(args).map(|()| ExitCode::SUCCESS),
        cli::Command::Certify(args) => certify::certify(args),
        cli::Command::Completions(args) => {
            let mut cmd = cli::Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "dynchk", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        cli::Command::Man => clap_mangen::Man::new(cli::Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
    };
    result.unwrap_or_else(|e| {
        // A reader that stopped early (`dynchk report … | head`) is not an error worth a message;
        // the status is the one a shell shows for a process killed by SIGPIPE.
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        {
            return ExitCode::from(128 + libc::SIGPIPE as u8);
        }
        eprintln!("dynchk: error: {e:#}");
        ExitCode::from(EXIT_DYNCHK_ERROR)
    })
}
