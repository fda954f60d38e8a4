//! Vehicles as callers name them: "2019 Honda Civic", "a Chevy Silverado", "my F-150",
//! "twenty nineteen Camry" is not handled (recognisers write years as digits).
//!
//! Makes come from a fixed list with common aliases ("Chevy", "VW"); well-known models imply
//! their make ("F-150" → Ford). An unknown model after a known make is taken as said.

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
];

/// Words that end a model name after the make.
const STOP: &[&str] = &[
    "and", "for", "with", "that", "which", "it", "it's", "is", "needs", "need", "please", "the",
    "my", "a", "an", "i", "we", "on", "at", "in", "to", "but", "truck", "car", "suv", "van",
];

/// Finds a vehicle's year, make and model in `text`.
pub fn vehicle(text: &str) -> VehicleMention {
    let t = super::tokens(text);
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
        if let Some((spoken, canon)) = MAKES
            .iter()
            .find(|(s, _)| Some(*s) == two.as_deref() || s == w)
        {
            v.make = Some((*canon).to_string());
            make_end = Some(i + spoken.split(' ').count());
            break;
        }
    }
    if let Some((_, model, make)) = t.iter().find_map(|w| MODELS.iter().find(|(s, ..)| s == w)) {
        v.model = Some((*model).to_string());
        v.make.get_or_insert_with(|| (*make).to_string());
    } else if let Some(end) = make_end
        && let Some(w) = t.get(end)
        && !STOP.contains(&w.as_str())
        && w.parse::<u32>().is_err()
    {
        let mut c = w.chars();
        v.model = c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>());
    }
    v
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
    fn partial_or_nothing() {
        assert_eq!(vehicle("a Toyota"), m(None, "Toyota", ""));
        assert_eq!(vehicle("a Toyota that needs brakes"), m(None, "Toyota", ""));
        assert_eq!(vehicle("I need an oil change"), VehicleMention::default());
        assert_eq!(vehicle("call 555-123-4567").year, None);
    }
}
