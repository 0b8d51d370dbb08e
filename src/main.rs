use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = rdock::cli::Cli::parse();
    ExitCode::from(rdock::run(cli))
}
