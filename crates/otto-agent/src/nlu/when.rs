//! Dates and times of day in everyday phrasing: "tomorrow", "next Tuesday morning",
//! "Thursday at 2", "the 15th", "after lunch", "December 3rd", "2 p.m.", "noon".
//!
//! Dates resolve against `today` (the shop's local date) and always land on or after it:
//! a bare weekday or "next <weekday>" is its first occurrence after today, "<weekday> next week"
//! the one in the following Monday-to-Sunday week, "the 15th" the next 15th on or after today,
//! a month and day the next such date on or after today. A bare hour after "at"/"around"/"by"
//! with no am/pm reads as shop hours do: 7–11 morning, 12 noon, 1–6 afternoon.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

use super::words::{number_word, ordinal};

/// A time-of-day preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOfDay {
    /// An exact local time.
    At(NaiveTime),
    /// Before noon.
    Morning,
    /// Noon or later.
    Afternoon,
    /// Late in the day (from 16:00).
    Evening,
    /// After the shop's lunch break (the dialogue resolves it against the shop's config).
    AfterLunch,
}

/// What an utterance says about when: a date, a time of day, both or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct When {
    pub date: Option<NaiveDate>,
    pub time: Option<TimeOfDay>,
}

/// Finds a date and a time of day in `text`, relative to `today` (see the module docs).
///
/// The text is read as statements: clauses split at sentence punctuation and at correction
/// and suggestion markers ("actually", "make that", "no wait", "how about", "instead"). The
/// last statement that names a date gives the date, and the last that names a time gives the
/// time, so "Monday, actually no, make that Tuesday at 9" is Tuesday at 9. A statement that
/// turns a day or time down ("I can't make Wednesday", "Thursday doesn't work") says nothing
/// about when; after a "not" only what follows the refused time counts ("not at two, at
/// three" and "not at two at three" are both three).
pub fn when(text: &str, today: NaiveDate) -> When {
    let mut found = When::default();
    for statement in statements(text) {
        // "Anything tomorrow? It barely started this morning": a part of today said in
        // passing gives no date when another was said.
        let in_passing = ["this morning", "this afternoon", "this evening", "tonight"]
            .iter()
            .any(|p| super::has_phrase(&statement, p))
            && !super::has_phrase(&statement, "today");
        if let Some(d) = date(&statement, today)
            && !(in_passing && found.date.is_some())
        {
            found.date = Some(d);
        }
        if let Some(t) = time(&statement) {
            found.time = Some(t);
        }
    }
    found
}

/// Phrases that start a new statement: a correction or a counter-suggestion.
const MARKERS: [&str; 19] = [
    "actually",
    "make that",
    "make it",
    "i mean",
    "no wait",
    "scratch that",
    "instead",
    "rather",
    "how about",
    "what about",
    "can we do",
    "could we do",
    "or maybe",
    "better yet",
    "but",
    "also",
    "i need",
    "i want",
    "i'd like",
];

/// The statements of `text` that may say when (see [`when`]), in order.
fn statements(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for clause in super::clauses(text) {
        let mut current: Vec<String> = Vec::new();
        let mut i = 0;
        while i < clause.len() {
            let marker = MARKERS.iter().find_map(|m| {
                let words: Vec<&str> = m.split(' ').collect();
                let here = clause.get(i..i + words.len())?;
                here.iter()
                    .zip(&words)
                    .all(|(a, b)| a == b)
                    .then_some(words.len())
            });
            if let Some(len) = marker {
                out.push(std::mem::take(&mut current));
                i += len;
                // "How about 1 then", "make it 10": a bare hour after a suggestion is a time.
                if clause
                    .get(i)
                    .and_then(|w| hour_minute(w))
                    .is_some_and(|(h, _)| (1..=12).contains(&h))
                {
                    current.push("at".to_string());
                }
                continue;
            }
            current.push(clause[i].clone());
            i += 1;
        }
        out.push(current);
    }
    out.into_iter().filter_map(without_refusal).collect()
}

/// A statement without what it turns down: `None` when it refuses a day or time outright
/// ("can't make Wednesday", "Thursday doesn't work"); a "not <time>" followed by another
/// "at"/"on" is cut out ("Thursday not at two at three" → "Thursday at three").
fn without_refusal(statement: Vec<String>) -> Option<Vec<String>> {
    let Some(negation) = statement
        .iter()
        .position(|w| NEGATIONS.contains(&w.as_str()))
    else {
        return Some(statement);
    };
    // "The 2010 Camry, not the new one, Thursday at eleven": what is refused is no day or
    // time, so only those words go.
    if statement[negation] == "not"
        && let Some(next) = statement.get(negation + 1)
        && !matches!(
            next.as_str(),
            "at" | "on" | "around" | "before" | "after" | "till" | "until"
        )
        && !is_when_word(next)
        && hour_minute(next).is_none()
        && number_word(next).is_none()
    {
        let resume = statement
            .iter()
            .skip(negation + 1)
            .position(|w| is_when_word(w) || matches!(w.as_str(), "at" | "on" | "around"))
            .map_or(statement.len(), |k| negation + 1 + k);
        return Some([&statement[..negation], &statement[resume..]].concat());
    }
    if statement[negation] == "not" {
        let rest = statement
            .iter()
            .enumerate()
            .skip(negation + 2)
            .find(|(_, w)| matches!(w.as_str(), "at" | "on" | "around"))
            .map(|(i, _)| [&statement[..negation], &statement[i..]].concat());
        if rest.is_some() {
            return rest;
        }
    }
    None
}

/// Words that make a clause a refusal ("can't make it Wednesday", "Thursday doesn't work",
/// "not Monday"). "Don't" and "isn't" are left out: they start questions that ask for a day
/// ("don't you have anything Tuesday?").
const NEGATIONS: [&str; 10] = [
    "not", "can't", "cant", "cannot", "won't", "wont", "doesn't", "doesnt", "couldn't", "unable",
];

/// Words that only ever say when: weekdays (and their abbreviations), "today", "tomorrow",
/// "tonight", "morning", "afternoon", "evening", "week", "weekend". Never part of a name or a
/// model.
pub(crate) fn is_when_word(w: &str) -> bool {
    weekday(w).is_some()
        || matches!(
            w,
            "today"
                | "tomorrow"
                | "tonight"
                | "morning"
                | "afternoon"
                | "evening"
                | "week"
                | "weekend"
        )
}

/// True when `text` names a day by weekday, month, "today"/"tomorrow" or a written date, not
/// only by an ordinal ("the first" may pick an offer rather than the 1st).
pub fn names_a_day(text: &str) -> bool {
    super::tokens(text).iter().any(|w| {
        weekday(w).is_some()
            || month(w).is_some()
            || matches!(w.as_str(), "today" | "tomorrow")
            || w.contains('/')
    })
}

fn weekday(w: &str) -> Option<Weekday> {
    // "Thursday's appointment", "thursdays appointment".
    let w = w
        .strip_suffix("'s")
        .or_else(|| w.strip_suffix("days").map(|_| &w[..w.len() - 1]))
        .unwrap_or(w);
    Some(match w {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" | "weds" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn month(w: &str) -> Option<u32> {
    const M: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if let Some(i) = M.iter().position(|m| *m == w) {
        return Some(i as u32 + 1);
    }
    // Three- or four-letter abbreviations ("dec", "sept"); "may" and "march" are full words.
    (3..=4)
        .contains(&w.len())
        .then(|| {
            M.iter()
                .position(|m| m.starts_with(w))
                .map(|i| i as u32 + 1)
        })
        .flatten()
}

/// A day-of-month token: "3rd", "third", or (after a month name) a bare "3".
fn day_number(w: &str, bare_ok: bool) -> Option<u32> {
    ordinal(w).or_else(|| {
        bare_ok
            .then(|| w.parse::<u32>().ok().filter(|d| (1..=31).contains(d)))
            .flatten()
    })
}

/// A day of the month said at `t[j..]`: "9th", "ninth", "twenty-second" or "twenty second".
fn spoken_day(t: &[String], j: usize) -> Option<u32> {
    let w = t.get(j)?;
    if let Some(d) = ordinal(w) {
        return Some(d);
    }
    let tens = match w.as_str() {
        "twenty" => 20,
        "thirty" => 30,
        _ => return None,
    };
    let unit = ordinal(t.get(j + 1)?).filter(|u| (1..10).contains(u))?;
    Some(tens + unit).filter(|d| *d <= 31)
}

/// The first date on or after `today` with the given month and day.
fn next_month_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..=4)
        .find_map(|y| NaiveDate::from_ymd_opt(today.year() + y, month, day).filter(|d| *d >= today))
}

fn date(t: &[String], today: NaiveDate) -> Option<NaiveDate> {
    let has = |p: &str| super::has_phrase(t, p);
    if has("day after tomorrow") {
        return Some(today + Duration::days(2));
    }
    if has("tomorrow") {
        return Some(today + Duration::days(1));
    }
    if has("today") || has("this afternoon") || has("this morning") || has("tonight") {
        return Some(today);
    }
    if has("yesterday") {
        return Some(today - Duration::days(1));
    }
    // Holidays by name: the next one on or after today.
    if has("christmas eve") {
        return next_month_day(today, 12, 24);
    }
    if has("christmas") || has("xmas") {
        return next_month_day(today, 12, 25);
    }
    if has("new year's eve") || has("new years eve") {
        return next_month_day(today, 12, 31);
    }
    if has("new year's") || has("new years") || has("new year") {
        return next_month_day(today, 1, 1);
    }
    if has("fourth of july") || has("independence day") {
        return next_month_day(today, 7, 4);
    }
    if has("thanksgiving") {
        // The fourth Thursday of November.
        return (0..=1).find_map(|y| {
            let first = NaiveDate::from_ymd_opt(today.year() + y, 11, 1)?;
            let to_thursday = (7 + 3 - first.weekday().num_days_from_monday() as i64) % 7;
            Some(first + Duration::days(to_thursday + 21)).filter(|d| *d >= today)
        });
    }
    let next_week = has("next week") || has("week after");
    for (i, w) in t.iter().enumerate() {
        if let Some(wd) = weekday(w) {
            // "Wednesday the ninth": the next 9th that is a Wednesday (within a year).
            let day = match t.get(i + 1).map(String::as_str) {
                Some("the") => spoken_day(t, i + 2),
                Some(_) => spoken_day(t, i + 1),
                None => None,
            };
            if let Some(day) = day {
                let mut m = today.with_day(1)?;
                for _ in 0..12 {
                    if let Some(date) = NaiveDate::from_ymd_opt(m.year(), m.month(), day)
                        && date >= today
                        && date.weekday() == wd
                    {
                        return Some(date);
                    }
                    m = (m + Duration::days(32)).with_day(1)?;
                }
            }
            let ahead = (7 + wd.num_days_from_monday() as i64
                - today.weekday().num_days_from_monday() as i64
                - 1)
                % 7
                + 1;
            // "last Tuesday", "the one that just went by": a day already past.
            if i > 0 && matches!(t[i - 1].as_str(), "last" | "past" | "previous") {
                return Some(today - Duration::days(7 - ahead % 7));
            }
            let mut d = today + Duration::days(ahead);
            let this_week_end =
                today + Duration::days(6 - today.weekday().num_days_from_monday() as i64);
            if next_week && d <= this_week_end {
                d += Duration::days(7);
            }
            return Some(d);
        }
        if let Some(m) = month(w) {
            // "december 3rd" / "dec 3"
            if let Some(d) = t.get(i + 1).and_then(|n| day_number(n, true)) {
                return next_month_day(today, m, d);
            }
            // "the 3rd of december"
            if i >= 2
                && t[i - 1] == "of"
                && let Some(d) = day_number(&t[i - 2], true)
            {
                return next_month_day(today, m, d);
            }
            // "22 October", "the 3rd december"
            if i >= 1
                && let Some(d) = day_number(&t[i - 1], true)
            {
                return next_month_day(today, m, d);
            }
        }
        if let Some((a, b)) = w.split_once('/')
            && let (Ok(m), Ok(d)) = (a.parse::<u32>(), b.parse::<u32>())
        {
            return next_month_day(today, m, d);
        }
        if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
            return Some(d);
        }
    }
    // "the 15th", "on the fifteenth"; not "the first one" (a choice among offers)
    for (i, pair) in t.windows(2).enumerate() {
        let choice = t
            .get(i + 2)
            .is_some_and(|n| matches!(n.as_str(), "one" | "ones" | "option" | "slot" | "time"));
        if pair[0] == "the"
            && !choice
            && let Some(d) = day_number(&pair[1], false).or_else(|| spoken_day(t, i + 1))
        {
            let mut m = today.with_day(1)?;
            for _ in 0..3 {
                if let Some(date) = NaiveDate::from_ymd_opt(m.year(), m.month(), d)
                    && date >= today
                {
                    return Some(date);
                }
                m = (m + Duration::days(32)).with_day(1)?;
            }
        }
    }
    if next_week {
        let to_monday = 7 - today.weekday().num_days_from_monday() as i64;
        return Some(today + Duration::days(to_monday));
    }
    None
}

fn hm(h: u32, m: u32) -> Option<TimeOfDay> {
    NaiveTime::from_hms_opt(h, m, 0).map(TimeOfDay::At)
}

/// Applies am/pm (or the shop-hours reading when absent) to an hour 1..=12.
fn clock(h: u32, m: u32, meridiem: Option<&str>) -> Option<TimeOfDay> {
    if !(1..=12).contains(&h) || m > 59 {
        return (meridiem.is_none() && (13..=23).contains(&h) && m <= 59)
            .then(|| hm(h, m))
            .flatten();
    }
    let h24 = match meridiem {
        Some("am") => h % 12,
        Some(_) => h % 12 + 12,
        None if (1..=6).contains(&h) => h + 12,
        None => h,
    };
    hm(h24, m)
}

/// "2", "10:30", "two" → (hour, minute).
fn hour_minute(w: &str) -> Option<(u32, u32)> {
    if let Some((h, m)) = w.split_once(':') {
        return Some((h.parse().ok()?, m.parse().ok()?));
    }
    if let Ok(h) = w.parse::<u32>() {
        return Some((h, 0));
    }
    number_word(w)
        .filter(|h| (1..=12).contains(h))
        .map(|h| (h, 0))
}

/// Whether the tokens `t` name a time of day ("at 10", "2pm", "morning").
pub(crate) fn has_time(t: &[String]) -> bool {
    time(t).is_some()
}

fn time(t: &[String]) -> Option<TimeOfDay> {
    // Homophones a recogniser writes for an hour after "at": "at for thirty", "at to".
    let heard: Vec<String> = t
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let after_at = i > 0 && matches!(t[i - 1].as_str(), "at" | "around");
            match w.as_str() {
                "for" | "fore" if after_at => "four".to_string(),
                "to" | "too" if after_at => "two".to_string(),
                _ => w.clone(),
            }
        })
        .collect();
    let t = heard.as_slice();
    let has = |p: &str| super::has_phrase(t, p);
    if has("noon") || has("midday") || has("lunchtime") {
        return hm(12, 0);
    }
    if has("midnight") {
        return hm(0, 0);
    }
    for (i, w) in t.iter().enumerate() {
        // "2pm", "10am", "2:30pm"
        for suffix in ["am", "pm"] {
            if let Some(num) = w.strip_suffix(suffix)
                && !num.is_empty()
                && let Some((h, m)) = hour_minute(num)
            {
                return clock(h, m, Some(suffix));
            }
        }
        let next = t.get(i + 1).map(String::as_str);
        let after_anchor = i > 0
            && matches!(
                t[i - 1].as_str(),
                "at" | "around" | "about" | "by" | "after" | "like"
            );
        // "Tuesday ten thirty", "tomorrow 9": a bare hour right after a day.
        let after_day = i > 0
            && (weekday(&t[i - 1]).is_some() || matches!(t[i - 1].as_str(), "tomorrow" | "today"))
            && hour_minute(w).is_some_and(|(h, _)| (1..=12).contains(&h));
        let after_anchor = after_anchor || after_day;
        if let Some((h, mut m)) = hour_minute(w) {
            if matches!(next, Some("am" | "pm")) {
                return clock(h, m, next);
            }
            if next == Some("o'clock") || after_anchor || w.contains(':') {
                // "two thirty"
                if m == 0
                    && let Some(mins) = next.and_then(number_word).filter(|m| *m >= 10)
                {
                    m = mins;
                }
                let after = t.get(i + 2).map(String::as_str);
                let mer = [next, after]
                    .into_iter()
                    .flatten()
                    .find(|x| *x == "am" || *x == "pm");
                return clock(h, m, mer);
            }
        }
    }
    if has("after lunch") {
        Some(TimeOfDay::AfterLunch)
    } else if has("morning") || has("first thing") {
        Some(TimeOfDay::Morning)
    } else if has("afternoon") {
        Some(TimeOfDay::Afternoon)
    } else if has("evening") || has("end of the day") || has("after work") {
        Some(TimeOfDay::Evening)
    } else {
        None
    }
}

/// Whether `text` says nothing but a clock time, give or take a few words of assent ("nine
/// thirty", "eleven works for me", "10 am please").
pub fn only_a_time(text: &str) -> bool {
    const ASIDE: &[&str] = &[
        "works", "for", "me", "is", "good", "fine", "great", "uh", "um", "please", "that", "at",
        "around", "maybe", "say", "o'clock", "am", "pm", "would", "be", "ok", "okay", "oh",
    ];
    let t = super::tokens(text);
    let clock = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_digit()) || otto_core::numbers::cardinal(w).is_some()
    };
    t.iter().any(|w| clock(w)) && t.iter().all(|w| clock(w) || ASIDE.contains(&w.as_str()))
}

/// A clock time said while times are on offer, where a bare "ten thirty" or "9:30" means a
/// time even without "at" (the last clock-like words of `text`).
pub fn clock_time(text: &str, today: NaiveDate) -> Option<NaiveTime> {
    let read = |t: &str| match when(t, today).time {
        Some(TimeOfDay::At(at)) => Some(at),
        _ => None,
    };
    if let Some(at) = read(text) {
        return Some(at);
    }
    // The last clock-like words: "actually make it 10" → "at 10", "ten thirty" → "at ten
    // thirty".
    let t = super::tokens(text);
    // "one" is a clock time only as "one thirty" or "one pm", never in "the first one".
    let hour = |i: usize| {
        let w = t[i].as_str();
        let next = t.get(i + 1).map(String::as_str);
        let one_ok = w != "one"
            || matches!(next, Some("am" | "pm"))
            || next
                .and_then(otto_core::numbers::cardinal)
                .is_some_and(|m| m >= 10);
        one_ok
            && (w.starts_with(|c: char| c.is_ascii_digit())
                || otto_core::numbers::cardinal(w).is_some_and(|n| (1..=12).contains(&n)))
    };
    let i = (0..t.len()).rev().find(|&i| hour(i))?;
    let start = if i > 0 && hour(i - 1) { i - 1 } else { i };
    read(&format!("at {}", t[start..].join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday 10 March 2025.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 10).unwrap()
    }

    fn d(m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2025, m, day)
    }

    fn at(h: u32, m: u32) -> Option<TimeOfDay> {
        Some(TimeOfDay::At(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
    }

    #[test]
    fn relative_days() {
        assert_eq!(when("tomorrow please", today()).date, d(3, 11));
        assert_eq!(when("the day after tomorrow", today()).date, d(3, 12));
        assert_eq!(when("today if possible", today()).date, d(3, 10));
        assert_eq!(when("sometime next week", today()).date, d(3, 17));
    }

    #[test]
    fn a_weekday_with_its_day_of_month() {
        // Monday 10 March 2025: Wednesday the 9th is in April.
        assert_eq!(
            when("wednesday the ninth at two pm", today()).date,
            NaiveDate::from_ymd_opt(2025, 4, 9)
        );
        assert_eq!(when("thursday the 13th", today()).date, d(3, 13));
        assert_eq!(
            when(
                "can we do saturday the twenty second in the afternoon",
                today()
            )
            .date,
            d(3, 22)
        );
    }

    #[test]
    fn a_choice_among_offers_is_no_date() {
        assert_eq!(when("the first one", today()).date, None);
        assert_eq!(when("the second option please", today()).date, None);
        assert_eq!(when("the 15th", today()).date, d(3, 15));
    }

    #[test]
    fn the_last_correction_wins() {
        let w = when("Monday, actually no, make that Tuesday at 9", today());
        assert_eq!((w.date, w.time), (d(3, 11), at(9, 0)));
        let w = when("thursday at two no wait at three", today());
        assert_eq!((w.date, w.time), (d(3, 13), at(15, 0)));
        let w = when("thursday not at two at three", today());
        assert_eq!((w.date, w.time), (d(3, 13), at(15, 0)));
        let w = when("thursday doesn't work how about friday", today());
        assert_eq!(w.date, d(3, 14));
        // A time stated once stays when only the day is corrected.
        let w = when("friday at 10, actually make it saturday", today());
        assert_eq!((w.date, w.time), (d(3, 15), at(10, 0)));
    }

    #[test]
    fn a_day_turned_down_is_not_the_day_asked_for() {
        let w = when("I can't make Wednesday, can we do Friday at 2", today());
        assert_eq!((w.date, w.time), (d(3, 14), at(14, 0)));
        let w = when("Not Tuesday. Thursday morning works.", today());
        assert_eq!((w.date, w.time), (d(3, 13), Some(TimeOfDay::Morning)));
        assert_eq!(when("I cannot do Monday", today()), When::default());
        assert_eq!(when("No, Tuesday is better", today()).date, d(3, 11));
        let w = when("Thursday doesn't work for me, how about Friday?", today());
        assert_eq!(w.date, d(3, 14));
        let asks = when("Don't you have anything on Tuesday?", today());
        assert_eq!(asks.date, d(3, 11));
    }

    #[test]
    fn weekdays() {
        assert_eq!(when("Tuesday", today()).date, d(3, 11));
        assert_eq!(when("next Tuesday morning", today()).date, d(3, 11));
        assert_eq!(when("Monday", today()).date, d(3, 17), "never today");
        assert_eq!(when("tuesday next week", today()).date, d(3, 18));
        assert_eq!(when("on Sat.", today()).date, d(3, 15));
        assert_eq!(when("Sunday next week", today()).date, d(3, 23));
    }

    #[test]
    fn calendar_dates() {
        assert_eq!(when("the 15th", today()).date, d(3, 15));
        assert_eq!(
            when("an inspection on the twenty third", today()).date,
            d(3, 23)
        );
        assert_eq!(
            when(
                "anything open tomorrow? it barely started this morning.",
                today()
            )
            .date,
            d(3, 11)
        );
        assert_eq!(when("on the fifth", today()).date, d(4, 5));
        assert_eq!(when("December 3rd", today()).date, d(12, 3));
        assert_eq!(when("march 11", today()).date, d(3, 11));
        assert_eq!(
            when("march 1", today()).date,
            NaiveDate::from_ymd_opt(2026, 3, 1)
        );
        assert_eq!(when("the 3rd of december", today()).date, d(12, 3));
        assert_eq!(when("dec 3", today()).date, d(12, 3));
        assert_eq!(when("4/2", today()).date, d(4, 2));
        assert_eq!(when("2025-03-12", today()).date, d(3, 12));
        assert_eq!(when("the 31st", today()).date, d(3, 31));
        assert_eq!(when("february 30th", today()).date, None);
        assert_eq!(when("I may come", today()).date, None);
    }

    #[test]
    fn clock_times() {
        assert_eq!(when("2 p.m.", today()).time, at(14, 0));
        assert_eq!(when("at 2pm", today()).time, at(14, 0));
        assert_eq!(when("10:30 a.m.", today()).time, at(10, 30));
        assert_eq!(when("Thursday at 2", today()).time, at(14, 0));
        assert_eq!(when("at 9", today()).time, at(9, 0));
        assert_eq!(when("around 11 o'clock", today()).time, at(11, 0));
        assert_eq!(when("noon", today()).time, at(12, 0));
        assert_eq!(when("midnight tonight", today()).time, at(0, 0));
        assert_eq!(when("friday at for thirty", today()).time, at(16, 30));
        assert_eq!(when("at to", today()).time, at(14, 0));
        assert_eq!(when("later the same day like 4", today()).time, at(16, 0));
        assert_eq!(
            when("is possible on 22 October, at 14:00?", today()).date,
            d(10, 22)
        );
        let w = when("i need a tire rotation tuesday ten thirty", today());
        assert_eq!((w.date, w.time), (d(3, 11), at(10, 30)));
        let w = when(
            "the twenty ten camry not the new one uh thursday at eleven",
            today(),
        );
        assert_eq!((w.date, w.time), (d(3, 13), at(11, 0)));
        assert_eq!(
            when("oh, you close at 2? ok how about 1 then", today()).time,
            at(13, 0)
        );
        assert_eq!(when("last tuesday", today()).date, d(3, 4));
        assert_eq!(when("last monday", today()).date, d(3, 3));
        assert_eq!(when("yesterday", today()).date, d(3, 9));
        assert_eq!(when("are you open christmas day", today()).date, d(12, 25));
        assert_eq!(when("thanksgiving", today()).date, d(11, 27));
        assert_eq!(
            when("new year's day", today()).date,
            NaiveDate::from_ymd_opt(2026, 1, 1)
        );
        assert_eq!(when("at two thirty", today()).time, at(14, 30));
        assert_eq!(when("at 12 am", today()).time, at(0, 0));
        assert_eq!(when("at 15:45", today()).time, at(15, 45));
        assert_eq!(when("2019 Honda Civic", today()).time, None);
        assert_eq!(when("555-123-4567", today()).time, None);
    }

    #[test]
    fn parts_of_day() {
        let w = when("next Tuesday morning", today());
        assert_eq!(w.time, Some(TimeOfDay::Morning));
        assert_eq!(
            when("after lunch", today()).time,
            Some(TimeOfDay::AfterLunch)
        );
        assert_eq!(
            when("friday afternoon", today()).time,
            Some(TimeOfDay::Afternoon)
        );
        assert_eq!(when("first thing", today()).time, Some(TimeOfDay::Morning));
        assert_eq!(when("this evening", today()).time, Some(TimeOfDay::Evening));
    }

    #[test]
    fn date_and_time_together() {
        assert_eq!(
            when("Thursday at 2", today()),
            When {
                date: d(3, 13),
                time: at(14, 0)
            }
        );
    }
}
