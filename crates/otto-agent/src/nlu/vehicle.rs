//! Vehicles as callers name them: "2019 Honda Civic", "a Chevy Silverado", "my F-150",
//! "twenty twenty one C R V", "the Silverado fifteen hundred", "three series", and, among the
//! caller's own vehicles, "the Jeep", "my van", "the twenty nineteen" ([`own_vehicle`]).
//!
//! Makes come from a fixed list with common aliases ("Chevy", "VW"); well-known models imply
//! their make ("F-150" → Ford). An unknown model after a known make is taken as said. Models
//! match however they are spoken: letters one by one ("c r v"), digits as words ("rav four",
//! "f one fifty"), with or without hyphens.

use otto_core::numbers;
use otto_core::records::Vehicle;

/// Make, model and model year, each when said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VehicleMention {
    /// Model year, 1950..=2035.
    pub year: Option<u16>,
    /// Canonical make, e.g. "Chevrolet".
    pub make: Option<String>,
    /// Model as usually written, e.g. "F-150", "Civic".
    pub model: Option<String>,
}

impl VehicleMention {
    /// True when year, make and model are all known.
    pub fn is_complete(&self) -> bool {
        self.year.is_some() && self.make.is_some() && self.model.is_some()
    }
}

/// (spoken form, canonical make).
const MAKES: &[(&str, &str)] = &[
    ("acura", "Acura"),
    ("audi", "Audi"),
    ("bmw", "BMW"),
    ("buick", "Buick"),
    ("cadillac", "Cadillac"),
    ("chevrolet", "Chevrolet"),
    ("chevy", "Chevrolet"),
    ("chrysler", "Chrysler"),
    ("dodge", "Dodge"),
    ("fiat", "Fiat"),
    ("ford", "Ford"),
    ("genesis", "Genesis"),
    ("gmc", "GMC"),
    ("honda", "Honda"),
    ("hyundai", "Hyundai"),
    ("infiniti", "Infiniti"),
    ("jaguar", "Jaguar"),
    ("jeep", "Jeep"),
    ("kia", "Kia"),
    ("land rover", "Land Rover"),
    ("lexus", "Lexus"),
    ("lincoln", "Lincoln"),
    ("mazda", "Mazda"),
    ("mercedes", "Mercedes-Benz"),
    ("mercedes-benz", "Mercedes-Benz"),
    ("mini", "Mini"),
    ("mitsubishi", "Mitsubishi"),
    ("nissan", "Nissan"),
    ("porsche", "Porsche"),
    ("ram", "Ram"),
    ("subaru", "Subaru"),
    ("tesla", "Tesla"),
    ("toyota", "Toyota"),
    ("volkswagen", "Volkswagen"),
    ("vw", "Volkswagen"),
    ("volvo", "Volvo"),
];

/// (spoken form, canonical model, make).
const MODELS: &[(&str, &str, &str)] = &[
    ("civic", "Civic", "Honda"),
    ("accord", "Accord", "Honda"),
    ("cr-v", "CR-V", "Honda"),
    ("crv", "CR-V", "Honda"),
    ("pilot", "Pilot", "Honda"),
    ("odyssey", "Odyssey", "Honda"),
    ("camry", "Camry", "Toyota"),
    ("corolla", "Corolla", "Toyota"),
    ("rav4", "RAV4", "Toyota"),
    ("rav-4", "RAV4", "Toyota"),
    ("tacoma", "Tacoma", "Toyota"),
    ("tundra", "Tundra", "Toyota"),
    ("highlander", "Highlander", "Toyota"),
    ("prius", "Prius", "Toyota"),
    ("sienna", "Sienna", "Toyota"),
    ("f-150", "F-150", "Ford"),
    ("f150", "F-150", "Ford"),
    ("f-250", "F-250", "Ford"),
    ("mustang", "Mustang", "Ford"),
    ("explorer", "Explorer", "Ford"),
    ("escape", "Escape", "Ford"),
    ("focus", "Focus", "Ford"),
    ("fusion", "Fusion", "Ford"),
    ("silverado", "Silverado", "Chevrolet"),
    ("malibu", "Malibu", "Chevrolet"),
    ("equinox", "Equinox", "Chevrolet"),
    ("tahoe", "Tahoe", "Chevrolet"),
    ("impala", "Impala", "Chevrolet"),
    ("altima", "Altima", "Nissan"),
    ("sentra", "Sentra", "Nissan"),
    ("rogue", "Rogue", "Nissan"),
    ("outback", "Outback", "Subaru"),
    ("forester", "Forester", "Subaru"),
    ("crosstrek", "Crosstrek", "Subaru"),
    ("wrangler", "Wrangler", "Jeep"),
    ("cherokee", "Cherokee", "Jeep"),
    ("elantra", "Elantra", "Hyundai"),
    ("sonata", "Sonata", "Hyundai"),
    ("tucson", "Tucson", "Hyundai"),
    ("jetta", "Jetta", "Volkswagen"),
    ("passat", "Passat", "Volkswagen"),
    ("tiguan", "Tiguan", "Volkswagen"),
    ("cx-5", "CX-5", "Mazda"),
    ("sorento", "Sorento", "Kia"),
    ("soul", "Soul", "Kia"),
    ("3 series", "3 Series", "BMW"),
    ("5 series", "5 Series", "BMW"),
    ("grand caravan", "Grand Caravan", "Dodge"),
    ("caravan", "Caravan", "Dodge"),
    ("charger", "Charger", "Dodge"),
    ("pacifica", "Pacifica", "Chrysler"),
    ("sierra", "Sierra", "GMC"),
    ("ranger", "Ranger", "Ford"),
    ("transit", "Transit", "Ford"),
    ("colorado", "Colorado", "Chevrolet"),
    ("frontier", "Frontier", "Nissan"),
    ("model 3", "Model 3", "Tesla"),
    ("model y", "Model Y", "Tesla"),
    ("grand cherokee", "Grand Cherokee", "Jeep"),
];

/// Body-type nicknames and the models (or makes) they fit: "my van", "the truck".
const BODIES: &[(&str, &[&str])] = &[
    (
        "van",
        &[
            "Odyssey",
            "Sienna",
            "Grand Caravan",
            "Caravan",
            "Pacifica",
            "Transit",
        ],
    ),
    (
        "minivan",
        &["Odyssey", "Sienna", "Grand Caravan", "Caravan", "Pacifica"],
    ),
    (
        "truck",
        &[
            "F-150",
            "F-250",
            "Silverado",
            "Sierra",
            "Tacoma",
            "Tundra",
            "Ram",
            "Ranger",
            "Colorado",
            "Frontier",
        ],
    ),
    (
        "pickup",
        &[
            "F-150",
            "F-250",
            "Silverado",
            "Sierra",
            "Tacoma",
            "Tundra",
            "Ram",
            "Ranger",
            "Colorado",
            "Frontier",
        ],
    ),
    (
        "suv",
        &[
            "CR-V",
            "Pilot",
            "RAV4",
            "Highlander",
            "Explorer",
            "Escape",
            "Equinox",
            "Tahoe",
            "Rogue",
            "Outback",
            "Forester",
            "Crosstrek",
            "Wrangler",
            "Cherokee",
            "Grand Cherokee",
            "Tucson",
            "Tiguan",
            "CX-5",
            "Sorento",
            "Model Y",
        ],
    ),
];

/// Words that end a model name after the make (an unknown model is never one of these).
const STOP: &[&str] = &[
    "and", "for", "with", "that", "which", "it", "it's", "is", "needs", "need", "please", "the",
    "my", "a", "an", "i", "we", "on", "at", "in", "to", "but", "truck", "car", "suv", "van",
    "next", "this", "sometime", "around", "about", "or", "so", "too", "again", "there", "here",
    "into", "by", "its", "was", "has", "had", "been", "just", "still", "keeps", "won't", "wont",
    "doesn't", "doesnt", "isn't", "isnt", "due", "making", "because", "cause", "when", "real",
    "really", "got", "started", "starts", "any", "anytime", "whenever", "every", "if", "then",
    "thanks", "thank", "yes", "yeah", "no", "not", "ok", "okay", "uh", "um", "er", "like",
];

/// Finds a vehicle's year, make and model in `text`.
pub fn vehicle(text: &str) -> VehicleMention {
    let raw: Vec<String> = super::tokens(text)
        .into_iter()
        .map(|w| w.strip_suffix("'s").map(String::from).unwrap_or(w))
        .collect();
    let t = spoken_numbers(&raw);
    let mut v = VehicleMention {
        year: t.iter().find_map(|w| {
            let w = w.trim_start_matches('\'');
            w.parse::<u16>()
                .ok()
                .filter(|y| w.len() == 4 && (1950..=2035).contains(y))
        }),
        ..VehicleMention::default()
    };
    let mut make_end = None;
    for (i, w) in t.iter().enumerate() {
        let two = t.get(i + 1).map(|n| format!("{w} {n}"));
        // "the jeeps due": a possessive heard without its apostrophe.
        let bare = w.strip_suffix('s');
        if let Some((spoken, canon)) = MAKES
            .iter()
            .find(|(s, _)| Some(*s) == two.as_deref() || s == w)
            .or_else(|| MAKES.iter().find(|(s, _)| Some(*s) == bare))
        {
            v.make = Some((*canon).to_string());
            make_end = Some(i + spoken.split(' ').count());
            break;
        }
    }
    if let Some((model, make)) = model_in(&t) {
        // Pickups are named with their class: "Silverado 1500", "Sierra 2500".
        let class = t
            .iter()
            .find(|w| matches!(w.as_str(), "1500" | "2500" | "3500"))
            .filter(|_| matches!(model, "Silverado" | "Sierra"));
        v.model = Some(match class {
            Some(c) => format!("{model} {c}"),
            None => model.to_string(),
        });
        v.make.get_or_insert_with(|| make.to_string());
    } else if let Some(end) = make_end
        && let Some(w) = t.get(end)
        && !STOP.contains(&w.as_str())
        && !super::when::is_when_word(w)
        && w.parse::<u32>().is_err()
    {
        // "my Telluride's AC": the model without the possessive.
        let w = w.strip_suffix("'s").unwrap_or(w);
        let mut c = w.chars();
        v.model = c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>());
    }
    v
}

/// The index in `own` of the one vehicle `text` names: by model, make, model year (also in
/// words) or body type ("the van"). `None` when it names none of them, or several.
pub fn own_vehicle(text: &str, own: &[Vehicle]) -> Option<usize> {
    let said = vehicle(text);
    let t = spoken_numbers(&super::tokens(text));
    let body_models: Vec<&str> = BODIES
        .iter()
        .filter(|(b, _)| t.iter().any(|w| w == b || *w == format!("{b}s")))
        .flat_map(|(_, models)| models.iter().copied())
        .collect();
    let fits = |v: &Vehicle| -> bool {
        let model = said.model.as_ref().is_some_and(|m| same_model(m, &v.model));
        let make = said.model.is_none()
            && said
                .make
                .as_ref()
                .is_some_and(|m| m.eq_ignore_ascii_case(&v.make));
        let year = said.year == Some(v.year);
        let body = body_models
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&v.model) || m.eq_ignore_ascii_case(&v.make));
        // A model said that is not on file names no vehicle of theirs, whatever else matches.
        let other_model = said
            .model
            .as_ref()
            .is_some_and(|m| !same_model(m, &v.model));
        !other_model && (model || make || year || body)
    };
    let hits: Vec<usize> = own
        .iter()
        .enumerate()
        .filter(|(_, v)| fits(v))
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The catalog model `t` names, however it is spoken ("c r v", "rav 4", "f 150",
/// "3 series"): windows of up to three tokens, squashed, compared with the squashed
/// spoken forms. Longer names win ("grand caravan" over "caravan").
fn model_in(t: &[String]) -> Option<(&'static str, &'static str)> {
    let mut best: Option<(usize, &str, &str)> = None;
    for len in 1..=3 {
        for w in t.windows(len) {
            let joined = squash(&w.join(""));
            if let Some((spoken, model, make)) = MODELS.iter().find(|(s, ..)| squash(s) == joined)
                && best.is_none_or(|(l, ..)| spoken.len() > l)
            {
                best = Some((spoken.len(), model, make));
            }
        }
    }
    best.map(|(_, model, make)| (model, make))
}

/// Whether two model names are the same vehicle line, one perhaps with its class:
/// "Silverado" and "Silverado 1500", "CR-V" and "crv".
pub fn same_model(a: &str, b: &str) -> bool {
    let (a, b) = (squash(a), squash(b));
    !a.is_empty() && !b.is_empty() && (a.starts_with(&b) || b.starts_with(&a))
}

/// Lower case with hyphens and spaces removed: "CR-V" → "crv", "3 Series" → "3series".
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Number words as digits, the way model names and years are written: "twenty twenty one" →
/// "2021", "twenty nineteen" → "2019", "two thousand eighteen" → "2018", "fifteen hundred" →
/// "1500", "one fifty" → "150", "four" → "4". Other tokens are kept.
fn spoken_numbers(t: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let here = numbers::cardinal(&t[i]);
        let next = t.get(i + 1).and_then(|w| numbers::cardinal(w));
        // "twenty" + "twenty-one" / "twenty one", "nineteen" + "ninety eight", "twenty" + "ten"
        if let (Some(hi), Some(lo)) = (here, next)
            && (19..=20).contains(&hi)
            && lo >= 10
        {
            let (lo, used) = compound(t, i + 1);
            out.push((hi * 100 + lo).to_string());
            i += 1 + used;
            continue;
        }
        if t[i] == "two" && t.get(i + 1).map(String::as_str) == Some("thousand") {
            let (lo, used) = compound(t, i + 2);
            out.push((2000 + lo).to_string());
            i += 2 + used;
            continue;
        }
        if let Some(h) = here
            && t.get(i + 1).map(String::as_str) == Some("hundred")
        {
            out.push((h * 100).to_string());
            i += 2;
            continue;
        }
        // "one fifty" → 150 (a digit then a two-digit number, as in model names)
        if let (Some(d), Some(lo)) = (here, next)
            && (1..=9).contains(&d)
            && lo >= 10
        {
            let (lo, used) = compound(t, i + 1);
            out.push(format!("{d}{lo:02}"));
            i += 1 + used;
            continue;
        }
        match here {
            Some(n) => out.push(n.to_string()),
            None => out.push(t[i].clone()),
        }
        i += 1;
    }
    out
}

/// The number 0..=99 spoken at `t[i..]` ("twenty one", "twenty-one", "nineteen") and how many
/// tokens it took (0 when none).
fn compound(t: &[String], i: usize) -> (u32, usize) {
    let Some(first) = t.get(i).and_then(|w| numbers::cardinal(w)) else {
        return (0, 0);
    };
    if first % 10 == 0
        && first >= 20
        && let Some(unit) = t
            .get(i + 1)
            .and_then(|w| numbers::unit(w))
            .filter(|u| (1..10).contains(u))
    {
        return (first + unit, 2);
    }
    (first, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(year: Option<u16>, make: &str, model: &str) -> VehicleMention {
        VehicleMention {
            year,
            make: Some(make.into()),
            model: (!model.is_empty()).then(|| model.into()),
        }
    }

    #[test]
    fn year_make_model() {
        assert_eq!(
            vehicle("a 2019 Honda Civic"),
            m(Some(2019), "Honda", "Civic")
        );
        assert_eq!(
            vehicle("2015 chevy silverado"),
            m(Some(2015), "Chevrolet", "Silverado")
        );
        assert_eq!(
            vehicle("my 2021 Land Rover Defender"),
            m(Some(2021), "Land Rover", "Defender")
        );
        assert!(vehicle("a 2019 Honda Civic").is_complete());
    }

    #[test]
    fn models_imply_makes() {
        assert_eq!(vehicle("my F-150"), m(None, "Ford", "F-150"));
        assert_eq!(vehicle("it's a 2018 rav4"), m(Some(2018), "Toyota", "RAV4"));
        assert_eq!(vehicle("2020 CR-V"), m(Some(2020), "Honda", "CR-V"));
    }

    #[test]
    fn spoken_years_and_models() {
        assert_eq!(
            vehicle("twenty twenty one honda c r v"),
            m(Some(2021), "Honda", "CR-V")
        );
        assert_eq!(
            vehicle("a twenty nineteen chevy silverado fifteen hundred"),
            m(Some(2019), "Chevrolet", "Silverado 1500")
        );
        assert_eq!(
            vehicle("two thousand eighteen toyota rav four"),
            m(Some(2018), "Toyota", "RAV4")
        );
        assert_eq!(vehicle("my f one fifty"), m(None, "Ford", "F-150"));
        assert_eq!(vehicle("a three series"), m(None, "BMW", "3 Series"));
        assert_eq!(
            vehicle("my dodge grand caravan"),
            m(None, "Dodge", "Grand Caravan")
        );
        assert_eq!(vehicle("nineteen ninety eight civic").year, Some(1998));
    }

    fn own(year: u16, make: &str, model: &str) -> Vehicle {
        Vehicle {
            id: 0,
            customer_id: 1,
            vin: None,
            year,
            make: make.into(),
            model: model.into(),
            trim: None,
            mileage: None,
            plate: None,
        }
    }

    #[test]
    fn own_vehicles_by_any_name() {
        let garage = [
            own(2021, "Jeep", "Wrangler"),
            own(2016, "Dodge", "Grand Caravan"),
            own(2019, "Chevrolet", "Silverado"),
        ];
        assert_eq!(own_vehicle("the jeep", &garage), Some(0));
        assert_eq!(own_vehicle("my van", &garage), Some(1));
        assert_eq!(own_vehicle("the truck please", &garage), Some(2));
        assert_eq!(own_vehicle("the twenty nineteen", &garage), Some(2));
        assert_eq!(own_vehicle("silverado fifteen hundred", &garage), Some(2));
        assert_eq!(own_vehicle("the wrangler", &garage), Some(0));
        let two = [own(2015, "Jeep", "Wrangler"), own(2019, "Toyota", "Camry")];
        assert_eq!(
            own_vehicle(
                "can one of your guys take a look at the jeep its shaking real bad on the highway",
                &two
            ),
            Some(0)
        );
        assert_eq!(
            own_vehicle("hey uh the jeeps due for an oil change", &two),
            Some(0)
        );
        // A model they don't have, or nothing that tells them apart, names none.
        assert_eq!(own_vehicle("my civic", &garage), None);
        assert_eq!(own_vehicle("my car", &garage), None);
        let two_hondas = [own(2018, "Honda", "Civic"), own(2020, "Honda", "CR-V")];
        assert_eq!(own_vehicle("the honda", &two_hondas), None);
        assert_eq!(own_vehicle("the c r v", &two_hondas), Some(1));
    }

    #[test]
    fn partial_or_nothing() {
        assert_eq!(vehicle("a Toyota"), m(None, "Toyota", ""));
        assert_eq!(vehicle("the jeep tomorrow at 10"), m(None, "Jeep", ""));
        assert_eq!(vehicle("a Toyota that needs brakes"), m(None, "Toyota", ""));
        assert_eq!(vehicle("I need an oil change"), VehicleMention::default());
        assert_eq!(vehicle("call 555-123-4567").year, None);
    }
}
