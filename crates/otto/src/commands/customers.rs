//! `otto customers find <phone or name>`.

use otto_core::domain::PhoneNumber;

use super::open_shop;
use crate::cli::CustomersCommand;
use crate::config::Config;

/// Prints matching customers with their vehicles.
///
/// # Errors
/// A store error, or an empty query.
pub async fn run(config: &Config, cmd: CustomersCommand) -> anyhow::Result<()> {
    let CustomersCommand::Find { query } = cmd;
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
