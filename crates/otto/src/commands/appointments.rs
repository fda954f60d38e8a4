//! `otto appointments list|book|reschedule|cancel`: staff actions through the booking façade,
//! so the same rules apply as on the phone.

use anyhow::{Context, bail};
use chrono::Utc;
use otto_core::records::BookingSource;
use otto_core::scheduling::local_day_bounds;
use otto_shop::BookingRequest;

use super::{appointment_line, local_to_utc, open_shop, today};
use crate::cli::AppointmentsCommand;
use crate::config::Config;

/// Runs an `appointments` subcommand.
///
/// # Errors
/// Unknown customer, vehicle or appointment; a time that breaks a shop rule or is taken; store
/// errors. Nothing is written when an error is reported.
pub async fn run(config: &Config, cmd: AppointmentsCommand) -> anyhow::Result<()> {
    let shop = open_shop(config).await?;
    let tz = shop.config().time_zone;
    let now = Utc::now();
    match cmd {
        AppointmentsCommand::List { date, phone, json } => {
            let (title, list) = if let Some(phone) = phone {
                let customer = shop
                    .store()
                    .customer_by_phone(&phone)
                    .await?
                    .with_context(|| format!("no customer has the number {}", phone.national()))?;
                (
                    format!("upcoming appointments of {}:", customer.name),
                    shop.upcoming(customer.id, now).await?,
                )
            } else {
                let day = date.unwrap_or_else(|| today(tz, now));
                let bounds = local_day_bounds(tz, day);
                (
                    format!("appointments on {day}:"),
                    shop.store()
                        .active_appointments_between(bounds.start, bounds.end)
                        .await?,
                )
            };
            if json {
                return super::print_json(&list);
            }
            println!("{title}");
            if list.is_empty() {
                println!("  none");
            }
            for a in &list {
                println!("  {}", appointment_line(&shop, a));
            }
        }
        AppointmentsCommand::Book {
            phone,
            service,
            start,
            vehicle,
            notes,
        } => {
            let customer = shop
                .store()
                .customer_by_phone(&phone)
                .await?
                .with_context(|| format!("no customer has the number {}", phone.national()))?;
            let vehicle_id = match vehicle {
                Some(id) => Some(id),
                None => {
                    let vehicles = shop.store().vehicles_of(customer.id).await?;
                    match vehicles.as_slice() {
                        [] => None,
                        [only] => Some(only.id),
                        _ => bail!(
                            "{} has {} vehicles; pick one with --vehicle ({})",
                            customer.name,
                            vehicles.len(),
                            vehicles
                                .iter()
                                .map(|v| format!("{}: {} {} {}", v.id, v.year, v.make, v.model))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }
                }
            };
            let appointment = shop
                .book(
                    BookingRequest {
                        customer_id: customer.id,
                        vehicle_id,
                        service_id: service,
                        start: local_to_utc(tz, start)?,
                        source: BookingSource::Dashboard,
                        notes,
                    },
                    now,
                )
                .await?;
            println!("booked {}", appointment_line(&shop, &appointment));
        }
        AppointmentsCommand::Reschedule { id, start } => {
            let current = shop
                .store()
                .appointment(id)
                .await?
                .with_context(|| format!("no appointment #{id}"))?;
            let moved = shop
                .reschedule(current.customer_id, id, local_to_utc(tz, start)?, now)
                .await?;
            println!("moved {}", appointment_line(&shop, &moved));
        }
        AppointmentsCommand::Cancel { id } => {
            let current = shop
                .store()
                .appointment(id)
                .await?
                .with_context(|| format!("no appointment #{id}"))?;
            let cancelled = shop.cancel(current.customer_id, id, now).await?;
            println!("cancelled {}", appointment_line(&shop, &cancelled));
        }
    }
    Ok(())
}
