use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use preflight::app::{self, Io};
use preflight::cli::Cli;
use preflight::host::Host;

fn main() -> ExitCode {
    // A panic is a bug; the runner turns one inside a check into a finding, so keep the
    // default hook from printing a backtrace hint over the report.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error in preflight (please report it): {info}");
    }));
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let stdout_is_terminal = stdout.is_terminal();
    let terminal_width = stdout_is_terminal
        .then(|| terminal_size::terminal_size_of(&stdout))
        .flatten()
        .map(|(width, _)| usize::from(width.0));
    let io = Io {
        stdout_is_terminal,
        terminal_width,
        out: &mut stdout.lock(),
        err: &mut std::io::stderr(),
    };
    ExitCode::from(app::execute(cli, Host::from_machine(), io))
}
