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
    preflight::interrupt::install();
    // Orphans of the children (a `setsid` helper) come back to preflight, to be killed.
    preflight::host::adopt_orphans();
    let stdout = std::io::stdout();
    let stdout_is_terminal = stdout.is_terminal();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A usage error: clap says it on stderr and exits 2.
        Err(e) if e.use_stderr() => e.exit(),
        // --help and --version: output like any other, so a write error is one too.
        Err(e) => {
            let text = e.render();
            let text = if stdout_is_terminal {
                text.ansi().to_string()
            } else {
                text.to_string()
            };
            let code = app::emit(
                &mut stdout.lock(),
                &mut std::io::stderr(),
                text.as_bytes(),
                preflight::report::EXIT_READY,
            );
            return ExitCode::from(code);
        }
    };
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
    let code = app::execute(cli, Host::from_machine(), io);
    // A check the runner gave up on (it overran its deadline) may still wait on a child:
    // that child must not outlive the run either.
    preflight::host::stop_all_children();
    // A signal's handler may be exiting with its own code right now.
    ExitCode::from(preflight::interrupt::stopping().unwrap_or(code))
}
