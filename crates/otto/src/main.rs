//! The `otto` binary: parses the command line, loads the configuration, installs logging and
//! runs one command from [`otto::commands`].

use clap::Parser;
use otto::cli::{Cli, Command, JobsCommand, MessagesCommand, RemindersCommand};
use otto::commands;
use otto::config::Config;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quiet_broken_pipe();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether `e` comes from writing to a pipe whose reader has gone (`otto … | head`).
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe")
    })
}

/// `otto customers find jo | head`: when the reader of standard output goes away, `println!`
/// panics; stop quietly instead, as Unix tools do. Any other panic is reported as usual.
fn quiet_broken_pipe() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        report(info);
    }));
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Completions { shell } = cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "otto", &mut std::io::stdout());
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    otto::logging::init(&config.log)?;
    match cli.command {
        Command::Config => {
            print!("{}", config.to_redacted_toml()?);
            Ok(())
        }
        Command::Demo => commands::demo::run(&config).await,
        Command::Doctor => commands::doctor::run(&config).await,
        Command::Completions { .. } => Ok(()),
        Command::Serve => commands::serve::run(config).await,
        Command::Call(args) => commands::call::run(&config, args).await,
        Command::Chat { from, now } => commands::chat::run(&config, from, now).await,
        Command::Worker => commands::jobs::run_worker(config).await,
        Command::Eval(args) => commands::eval::run(&config, args).await,
        Command::Jobs(JobsCommand::List {
            status,
            json,
            limit,
        }) => commands::jobs::list(&config, status, limit, json).await,
        Command::Messages(MessagesCommand::List { all, limit, json }) => {
            commands::messages::list(&config, all, limit, json).await
        }
        Command::Reminders(RemindersCommand::List {
            status,
            appointment,
            json,
            limit,
        }) => commands::reminders::list(&config, status, appointment, limit, json).await,
        Command::Sms(args) => commands::reminders::sms(&config, args).await,
        Command::Staff(cmd) => commands::staff::run(&config, cmd).await,
        Command::Calls(cmd) => commands::calls::run(&config, cmd).await,
        Command::Db(cmd) => commands::db::run(&config, cmd).await,
        Command::Slots(args) => commands::slots::run(&config, args).await,
        Command::Calendar(cmd) => commands::calendar::run(&config, cmd).await,
        Command::Customers(cmd) => commands::customers::run(&config, cmd).await,
        Command::Appointments(cmd) => commands::appointments::run(&config, cmd).await,
        Command::Models(cmd) => commands::speech::models(&config, cmd).await,
        Command::Speech(cmd) => commands::speech::run(&config, cmd).await,
        Command::Bench(cmd) => commands::bench::run(&config, cmd).await,
    }
}
