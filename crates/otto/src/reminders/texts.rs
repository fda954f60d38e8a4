//! What reminders say: the confirmation and reminder texts, the reply keywords they offer,
//! the voicemail a reminder call leaves, and the answers to STOP, START and HELP (worded as
//! US carriers require: the shop's name, how to opt out, how to get help).

use otto_agent::speak;
use otto_core::records::{Appointment, ReminderKind, Vehicle};
use otto_core::shop::ShopConfig;

/// What every appointment text offers.
const CHOICES: &str =
    "Reply C to confirm, R to reschedule or CANCEL to cancel. Reply STOP to opt out.";

/// The SMS for a confirmation or a reminder of `a` ("Otto's Auto: you're booked for an oil
/// change for the 2019 Honda Civic on Tuesday, March 11 at 9:00 AM. Reply C …").
pub fn sms(shop: &ShopConfig, kind: ReminderKind, a: &Appointment, vehicles: &[Vehicle]) -> String {
    let what = speak::describe(shop, a, vehicles);
    match kind {
        ReminderKind::Confirmation => format!(
            "{}: you're booked for {}{what}. {CHOICES}",
            shop.name,
            speak::a_or_an(&what)
        ),
        ReminderKind::Reminder => format!("{}: a reminder of your {what}. {CHOICES}", shop.name),
    }
}

/// The voicemail a reminder call leaves after the beep.
pub fn voicemail(shop: &ShopConfig, a: &Appointment, vehicles: &[Vehicle]) -> String {
    format!(
        "Hi, this is Otto from {} with a reminder of your {}. To move or cancel it, reply to our text message or call us at {}. Thank you, goodbye.",
        shop.name,
        speak::describe(shop, a, vehicles),
        spoken_phone(shop)
    )
}

/// The shop's number read digit by digit in groups ("5 5 5, 5 5 5, 0 1 0 0").
fn spoken_phone(shop: &ShopConfig) -> String {
    let digits: Vec<char> = shop
        .phone
        .as_str()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let national = if digits.len() == 11 && digits[0] == '1' {
        &digits[1..]
    } else {
        &digits[..]
    };
    let groups: Vec<String> = if national.len() == 10 {
        [&national[..3], &national[3..6], &national[6..]]
            .iter()
            .map(|g| g.iter().map(char::to_string).collect::<Vec<_>>().join(" "))
            .collect()
    } else {
        vec![
            national
                .iter()
                .map(char::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ]
    };
    groups.join(", ")
}

/// The answer to STOP (Twilio's standard opt-out wording, with the shop's name).
pub fn stopped(shop: &ShopConfig) -> String {
    format!(
        "{}: you have been unsubscribed and will not receive any more messages or reminder calls. Reply START to resubscribe.",
        shop.name
    )
}

/// The answer to START.
pub fn started(shop: &ShopConfig) -> String {
    format!(
        "{}: you have been resubscribed to appointment messages. Reply STOP to opt out.",
        shop.name
    )
}

/// The answer to HELP.
pub fn help(shop: &ShopConfig) -> String {
    format!(
        "{}: appointment reminders. Reply C to confirm, R to reschedule, CANCEL to cancel. Call us at {} or visit {}. Msg & data rates may apply. Reply STOP to opt out.",
        shop.name, shop.phone, shop.address
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_shop_number_is_read_in_groups() {
        let shop = ShopConfig::default();
        let spoken = spoken_phone(&shop);
        assert_eq!(spoken.split(", ").count(), 3, "{spoken}");
        assert!(
            spoken
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == ',')
        );
    }
}
