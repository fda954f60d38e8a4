//! `otto customers find <phone, name or VIN>` and `otto customers add`.

use otto_core::domain::PhoneNumber;

use super::open_shop;
use crate::cli::CustomersCommand;
use crate::config::Config;

/// Runs a `customers` subcommand.
///
/// # Errors
/// A store error; an empty query; for `add`, an empty name, an invalid e-mail address or a
/// phone number another customer has.
pub async fn run(config: &Config, cmd: CustomersCommand) -> anyhow::Result<()> {
    match cmd {
        CustomersCommand::Find { query, json } => find(config, &query, json).await,
        CustomersCommand::Add { name, phone, email } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
                anyhow::bail!("a name is 1 to 80 printable characters");
            }
            let email = email
                .as_deref()
                .map(otto_core::domain::Email::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let shop = open_shop(config).await?;
            let c = shop
                .store()
                .create_customer(&otto_core::records::NewCustomer {
                    name,
                    phone,
                    email,
                    address: None,
                })
                .await?;
            println!("added customer #{} {} {}", c.id, c.name, c.phone.national());
            Ok(())
        }
    }
}

/// Prints matching customers with their vehicles.
async fn find(config: &Config, query: &str, json: bool) -> anyhow::Result<()> {
    let query = query.trim();
    if query.is_empty() {
        anyhow::bail!("give a phone number or part of a name");
    }
    let shop = open_shop(config).await?;
    let store = shop.store();
    let found = match PhoneNumber::parse(query) {
        Ok(phone) => store.customer_by_phone(&phone).await?.into_iter().collect(),
        Err(_) => store.search_customers(query, 20).await?,
    };
    if json {
        let mut records = Vec::with_capacity(found.len());
        for c in found {
            let vehicles = store.vehicles_of(c.id).await?;
            records.push(serde_json::json!({ "customer": c, "vehicles": vehicles }));
        }
        return super::print_json(&records);
    }
    if found.is_empty() {
        println!("no customer matches {query:?}");
    }
    for c in found {
        println!(
            "#{:<6} {:<28} {}  {}",
            c.id,
            c.name,
            c.phone.national(),
            c.email.as_ref().map_or("", |e| e.as_str())
        );
        for v in store.vehicles_of(c.id).await? {
            println!(
                "        vehicle #{}: {} {} {}{}",
                v.id,
                v.year,
                v.make,
                v.model,
                v.vin.map(|vin| format!("  VIN {vin}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}
