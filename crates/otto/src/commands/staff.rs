//! `otto staff add|passwd|list`: dashboard accounts. Passwords are hashed with argon2id
//! ([`crate::dashboard::auth::hash_password`]) before they reach the database, and never
//! logged.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use otto_store::NewStaff;

use super::open_shop;
use crate::cli::StaffCommand;
use crate::config::Config;
use crate::dashboard::auth::{hash_password, random_token};

/// The password: generated (and printed), typed twice without echo, or one line of stdin.
fn password(generate: bool) -> anyhow::Result<String> {
    if generate {
        let p = random_token(15);
        println!("password: {p}");
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Runs a `staff` subcommand.
///
/// # Errors
/// A password too short or long, a name taken or invalid, an unknown account, the database.
pub async fn run(config: &Config, cmd: StaffCommand) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let store = shop.store();
    match cmd {
        StaffCommand::Add {
            name,
            role,
            generate,
        } => {
            let hash = hash_password(&password(generate)?)?;
            let m = store
                .create_staff(&NewStaff {
                    name,
                    role,
                    password_hash: hash,
                })
                .await?;
            println!("added {} ({})", m.name, m.role);
        }
        StaffCommand::Passwd { name, generate } => {
            let hash = hash_password(&password(generate)?)?;
            let m = store.set_staff_password(&name, &hash).await?;
            println!("password changed for {}; their sessions have ended", m.name);
        }
        StaffCommand::List { json } => {
            let list = store.list_staff().await?;
            if json {
                return super::print_json(&list);
            }
            if list.is_empty() {
                println!("no staff accounts: add one with `otto staff add NAME --role owner`");
            }
            for m in list {
                println!("{:<24} {}", m.name, m.role);
            }
        }
    }
    Ok(())
}
