//! The demo seed: a deterministic, realistic shop history for demos, tests and the benchmark.
//!
//! [`seed_demo`] fills an empty store with customers (realistic names, unique US numbers,
//! emails, Virginia addresses), 1–2 vehicles each (valid VINs, model years 2010–2024), a month
//! of appointments around `today` (the past completed or no-show, the next two weeks
//! scheduled, all inside the shop's hours, off lunch, on the slot grid, one per bay at a time)
//! and the service history of the completed ones. The same size and `today` always give the
//! same data (ChaCha8 with a fixed seed). It is idempotent: a store that already has customers
//! is left alone.
//!
//! The well-known demo customer is [`DEMO_CUSTOMER_NAME`] at [`DEMO_CUSTOMER_PHONE`] with a
//! 2019 Honda Civic, one past oil change and no appointments.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use otto_core::domain::{Email, PhoneNumber, UsState, Vin};
use otto_core::records::{Address, AppointmentStatus, BookingSource, Id, NewCustomer, NewVehicle};
use otto_core::shop::ShopConfig;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use otto_store::{ImportedAppointment, NewAppointment, NewServiceRecord, StoreError};

use crate::shop::Shop;

/// Name of the demo customer every seed contains.
pub const DEMO_CUSTOMER_NAME: &str = "Jordan Smith";
/// Phone number (E.164) of the demo customer.
pub const DEMO_CUSTOMER_PHONE: &str = "+15555550123";
/// Area codes the other customers' numbers use (all Virginia), with exchange 555.
const AREA_CODES: [u32; 7] = [703, 571, 540, 804, 757, 434, 276];
/// Most customers a seed can hold (unique numbers available).
pub const MAX_CUSTOMERS: u32 = 1 + AREA_CODES.len() as u32 * 10_000;
/// Seed of the random generator: same seed, same shop.
const RNG_SEED: u64 = 0x0770_5EED;
/// Share of grid points that start a job on future days (the rest stays bookable).
const FUTURE_FILL: f64 = 0.35;
/// Share of grid points that start a job on past days.
const PAST_FILL: f64 = 0.7;
/// Days after `today` that get scheduled appointments.
const FUTURE_DAYS: i64 = 14;

/// How much to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSize {
    /// Customers, including the demo customer. 1..=[`MAX_CUSTOMERS`].
    pub customers: u32,
    /// Appointments at most. The next two weeks are filled first (about a third of capacity),
    /// then past days, going back from yesterday, until this many exist.
    pub appointments: u32,
}

impl SeedSize {
    /// The benchmark's size: 10,000 customers and 100,000 appointments.
    pub const BENCH: Self = Self {
        customers: 10_000,
        appointments: 100_000,
    };
}

impl Default for SeedSize {
    /// About 200 customers and a month of appointments for the demo shop (two bays).
    fn default() -> Self {
        Self {
            customers: 200,
            appointments: 300,
        }
    }
}

/// What a seed run inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeedReport {
    /// True when the store already had customers and nothing was inserted.
    pub skipped: bool,
    pub customers: u64,
    pub vehicles: u64,
    pub appointments: u64,
    pub service_records: u64,
}

impl std::fmt::Display for SeedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.skipped {
            return f.write_str("store already has customers; nothing seeded");
        }
        write!(
            f,
            "seeded {} customers, {} vehicles, {} appointments, {} service records",
            self.customers, self.vehicles, self.appointments, self.service_records
        )
    }
}

/// Seeds `shop`'s store for a shop whose "today" (local date) is `today`. See the module docs.
///
/// # Errors
/// [`StoreError::Rejected`] when `size.customers` is 0 or above [`MAX_CUSTOMERS`]; any store
/// error from the inserts (each table is inserted in one transaction).
pub async fn seed_demo(
    shop: &Shop,
    size: SeedSize,
    today: NaiveDate,
) -> Result<SeedReport, StoreError> {
    if size.customers == 0 || size.customers > MAX_CUSTOMERS {
        return Err(StoreError::Rejected(format!(
            "seed size must be 1..={MAX_CUSTOMERS} customers"
        )));
    }
    let store = shop.store();
    if store.count_customers().await? > 0 {
        return Ok(SeedReport {
            skipped: true,
            ..SeedReport::default()
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(RNG_SEED);
    let customers: Vec<NewCustomer> = (0..size.customers)
        .map(|i| demo_customer(&mut rng, i))
        .collect();
    let customer_ids = store.import_customers(&customers).await?;

    let mut vehicles = Vec::new();
    let mut owner_index = Vec::new();
    for (i, &customer_id) in customer_ids.iter().enumerate() {
        let count = if i == 0 { 1 } else { rng.random_range(1..=2) };
        for _ in 0..count {
            vehicles.push(demo_vehicle(
                &mut rng,
                customer_id,
                i == 0,
                vehicles.len(),
                today.year(),
            )?);
            owner_index.push(i);
        }
    }
    let vehicle_ids = store.import_vehicles(&vehicles).await?;
    let mut fleet: Vec<Vec<(Id, u32)>> = vec![Vec::new(); customer_ids.len()];
    for ((&owner, &vehicle_id), v) in owner_index.iter().zip(&vehicle_ids).zip(&vehicles) {
        fleet[owner].push((vehicle_id, v.mileage.unwrap_or(0)));
    }

    let jobs = schedule(shop.config(), &mut rng, today, size.appointments);
    let mut appointments = Vec::with_capacity(jobs.len());
    let mut history = vec![NewServiceRecord {
        vehicle_id: vehicle_ids[0],
        date: today - Duration::days(90),
        mileage: Some(39_500),
        work: "oil change".into(),
        cost_cents: 6_900,
    }];
    for job in jobs {
        // Customer 0 (the demo customer) keeps a predictable, empty calendar.
        let owner = if customer_ids.len() > 1 {
            rng.random_range(1..customer_ids.len())
        } else {
            0
        };
        if owner == 0 {
            continue;
        }
        let &(vehicle_id, mileage) = fleet[owner].choose(&mut rng).unwrap_or(&(0, 0));
        let status = if job.past {
            if rng.random_bool(0.06) {
                AppointmentStatus::NoShow
            } else {
                AppointmentStatus::Completed
            }
        } else {
            AppointmentStatus::Scheduled
        };
        let service = &shop.config().services[job.service];
        if status == AppointmentStatus::Completed {
            let days_ago = (today - job.date).num_days().max(0);
            let cents = rng.random_range(
                u64::from(service.price_min_cents) / 100..=u64::from(service.price_max_cents) / 100,
            ) * 100;
            history.push(NewServiceRecord {
                vehicle_id,
                date: job.date,
                mileage: Some(
                    mileage
                        .saturating_sub(u32::try_from(days_ago * 35).unwrap_or(u32::MAX))
                        .max(500),
                ),
                work: service.name.clone(),
                cost_cents: i64::try_from(cents).unwrap_or(i64::MAX),
            });
        }
        appointments.push(ImportedAppointment {
            appointment: NewAppointment {
                customer_id: customer_ids[owner],
                vehicle_id: Some(vehicle_id),
                service: service.id.clone(),
                start: job.start,
                end: job.end,
                source: *[
                    BookingSource::Phone,
                    BookingSource::Phone,
                    BookingSource::Dashboard,
                    BookingSource::Text,
                ]
                .choose(&mut rng)
                .unwrap_or(&BookingSource::Phone),
                notes: None,
            },
            bay: job.bay,
            status,
        });
    }
    let appointment_count = store.import_appointments(&appointments).await?;
    let history_count = store.import_service_records(&history).await?;
    Ok(SeedReport {
        skipped: false,
        customers: customer_ids.len() as u64,
        vehicles: vehicle_ids.len() as u64,
        appointments: appointment_count,
        service_records: history_count,
    })
}

/// The phone number of seeded customer `index` (0 is the demo customer). Deterministic, so the
/// benchmark can look customers up without reading them first.
pub fn demo_phone(index: u32) -> PhoneNumber {
    let text = if index == 0 {
        DEMO_CUSTOMER_PHONE.to_string()
    } else {
        let i = index - 1;
        let area = AREA_CODES[(i % AREA_CODES.len() as u32) as usize];
        format!("+1{area}555{:04}", i / AREA_CODES.len() as u32)
    };
    PhoneNumber::parse(&text).expect("seed phone numbers are valid by construction")
}

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Karen",
    "Christopher",
    "Sarah",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Steven",
    "Emily",
    "Andrew",
    "Michelle",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "Luis",
    "Maria",
    "Carlos",
    "Ana",
    "Wei",
    "Mei",
    "Raj",
    "Priya",
    "Kwame",
    "Aisha",
    "Tyrone",
    "Keisha",
    "Hannah",
    "Ethan",
    "Olivia",
    "Noah",
    "Grace",
    "Samuel",
    "Chloe",
    "Jamal",
    "Nguyen",
];
const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Okafor",
];
const STREETS: &[&str] = &[
    "Main Street",
    "Oak Avenue",
    "Maple Drive",
    "Braddock Road",
    "Old Keene Mill Road",
    "Rolling Road",
    "Backlick Road",
    "Franconia Road",
    "Commerce Street",
    "Amherst Avenue",
    "Hooes Road",
    "Sydenstricker Road",
    "Bonniemill Lane",
    "Cardinal Forest Lane",
];
/// (city, ZIP) in Virginia.
const CITIES: &[(&str, &str)] = &[
    ("Springfield", "22150"),
    ("Springfield", "22152"),
    ("Burke", "22015"),
    ("Alexandria", "22310"),
    ("Lorton", "22079"),
    ("Fairfax", "22032"),
    ("Annandale", "22003"),
    ("Falls Church", "22042"),
];
/// (make, model, WMI, VDS prefix) — VDS characters are from the VIN alphabet.
const MODELS: &[(&str, &str, &str, &str)] = &[
    ("Honda", "Civic", "2HG", "FC2F5"),
    ("Honda", "Accord", "1HG", "CV1F3"),
    ("Honda", "CR-V", "2HK", "RW2H8"),
    ("Toyota", "Camry", "4T1", "B11HK"),
    ("Toyota", "Corolla", "2T1", "BURHE"),
    ("Toyota", "RAV4", "2T3", "P1RFV"),
    ("Ford", "F-150", "1FT", "EW1EP"),
    ("Ford", "Escape", "1FM", "CU9GD"),
    ("Chevrolet", "Silverado", "1GC", "UYDED"),
    ("Chevrolet", "Malibu", "1G1", "ZD5ST"),
    ("Nissan", "Altima", "1N4", "BL4BV"),
    ("Subaru", "Outback", "4S4", "BSANC"),
    ("Hyundai", "Elantra", "5NP", "D84LF"),
    ("Jeep", "Grand Cherokee", "1C4", "RJFAG"),
];
const TRIMS: &[&str] = &["Base", "LX", "EX", "SE", "XLE", "Sport", "Limited"];

fn demo_customer(rng: &mut ChaCha8Rng, index: u32) -> NewCustomer {
    let name = if index == 0 {
        DEMO_CUSTOMER_NAME.to_string()
    } else {
        format!(
            "{} {}",
            FIRST_NAMES.choose(rng).unwrap_or(&"Alex"),
            LAST_NAMES.choose(rng).unwrap_or(&"Doe")
        )
    };
    let email = (index == 0 || rng.random_bool(0.8)).then(|| {
        let local = format!("{}{}", name.replace(' ', ".").to_lowercase(), index);
        Email::parse(&format!("{local}@example.com"))
            .expect("seed emails are valid by construction")
    });
    let (city, zip) = *CITIES.choose(rng).unwrap_or(&CITIES[0]);
    NewCustomer {
        name,
        phone: demo_phone(index),
        email,
        address: Some(Address {
            street: format!(
                "{} {}",
                rng.random_range(100..9900),
                STREETS.choose(rng).unwrap_or(&STREETS[0])
            ),
            city: city.into(),
            state: UsState::parse("VA").expect("VA is a state"),
            postal_code: zip.into(),
        }),
    }
}

/// Vehicle number `serial` (unique, so VINs are unique). The demo customer's is a 2019 Civic.
fn demo_vehicle(
    rng: &mut ChaCha8Rng,
    customer_id: Id,
    demo: bool,
    serial: usize,
    this_year: i32,
) -> Result<NewVehicle, StoreError> {
    let (make, model, wmi, vds) = if demo {
        MODELS[0]
    } else {
        *MODELS.choose(rng).unwrap_or(&MODELS[0])
    };
    let year: u16 = if demo {
        2019
    } else {
        rng.random_range(2010..=2024)
    };
    // Model-year codes for 2010.. (position 7 is a letter, so the 2010 cycle applies).
    let year_code = b"ABCDEFGHJKLMNPRSTVWXY"[usize::from(year - 2010)] as char;
    let plant = *b"ABCDEFGHJKLMN".choose(rng).unwrap_or(&b'A') as char;
    let template = format!("{wmi}{vds}0{year_code}{plant}{:06}", serial % 1_000_000);
    let check =
        Vin::check_digit_for(&template).map_err(|_| StoreError::Corrupt("seed VIN".into()))?;
    let mut text = template.into_bytes();
    text[8] = check as u8;
    let text = String::from_utf8(text).map_err(|_| StoreError::Corrupt("seed VIN".into()))?;
    let vin = Vin::parse(&text).map_err(|_| StoreError::Corrupt("seed VIN".into()))?;
    let age = (i64::from(this_year) - i64::from(year)).max(1);
    Ok(NewVehicle {
        customer_id,
        vin: Some(vin),
        year,
        make: make.into(),
        model: model.into(),
        trim: Some((*TRIMS.choose(rng).unwrap_or(&"Base")).into()),
        mileage: Some(if demo {
            42_000
        } else {
            u32::try_from(age * rng.random_range(8_000..15_000)).unwrap_or(150_000)
        }),
        plate: Some(format!(
            "{}{}{}-{:04}",
            rng.random_range(b'A'..=b'Z') as char,
            rng.random_range(b'A'..=b'Z') as char,
            rng.random_range(b'A'..=b'Z') as char,
            rng.random_range(0..10_000)
        )),
    })
}

/// One seeded job, already placed in a bay.
struct Job {
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    bay: u32,
    service: usize,
    past: bool,
}

/// Up to `budget` jobs: the next [`FUTURE_DAYS`] days first, then past days back from
/// yesterday. Each bay is walked along the slot grid from opening; a job starts at a grid point
/// with the day's fill probability, ends by closing, skips lunch, and the bay's next job starts
/// on the grid after it ends, so no bay ever holds two jobs at once.
fn schedule(shop: &ShopConfig, rng: &mut ChaCha8Rng, today: NaiveDate, budget: u32) -> Vec<Job> {
    let mut jobs = Vec::new();
    let budget = budget as usize;
    let future = (1..=FUTURE_DAYS).filter_map(|d| today.checked_add_signed(Duration::days(d)));
    let past = (1..).map_while(|d| today.checked_sub_signed(Duration::days(d)));
    for (date, is_past) in future.map(|d| (d, false)).chain(past.map(|d| (d, true))) {
        if jobs.len() >= budget || today.year() - date.year() > 200 {
            break;
        }
        let fill = if is_past { PAST_FILL } else { FUTURE_FILL };
        day_jobs(shop, rng, date, is_past, fill, &mut jobs);
    }
    jobs.truncate(budget);
    jobs
}

fn day_jobs(
    shop: &ShopConfig,
    rng: &mut ChaCha8Rng,
    date: NaiveDate,
    past: bool,
    fill: f64,
    out: &mut Vec<Job>,
) {
    let Some(hours) = shop.hours.on(date.weekday()) else {
        return;
    };
    if shop.holidays.contains(&date) {
        return;
    }
    let step = i64::from(shop.slot_step_minutes);
    let (open, close) = (minutes_of(hours.open), minutes_of(hours.close));
    let lunch = shop
        .lunch
        .map(|l| (minutes_of(l.open), minutes_of(l.close)));
    for bay in 1..=shop.bays {
        let mut t = open;
        while t < close {
            if !rng.random_bool(fill) {
                t += step;
                continue;
            }
            let service = rng.random_range(0..shop.services.len());
            let end = t + i64::from(shop.services[service].duration_minutes);
            if let Some((l_open, l_close)) = lunch
                && t < l_close
                && l_open < end
            {
                t = t.max(l_close);
                t = open + (t - open + step - 1) / step * step;
                continue;
            }
            if end > close {
                break;
            }
            let local = date.and_time(NaiveTime::MIN) + Duration::minutes(t);
            if let Some(start) = shop.time_zone.from_local_datetime(&local).single() {
                let start = start.with_timezone(&Utc);
                out.push(Job {
                    date,
                    start,
                    end: start + Duration::minutes(end - t),
                    bay,
                    service,
                    past,
                });
            }
            // Next start: the first grid point at or after this job's end.
            t = open + (end - open + step - 1) / step * step;
        }
    }
}

/// Minutes since midnight.
fn minutes_of(t: NaiveTime) -> i64 {
    use chrono::Timelike;
    i64::from(t.hour() * 60 + t.minute())
}
