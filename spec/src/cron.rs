//! Cron expressions: `minute hour day-of-month month day-of-week`, in UTC, as Vixie cron reads
//! them, and the next time one fires.
//!
//! Each field is a list (`a,b`) of items; an item is `*`, a number, a range `a-b`, or either of
//! `*` and a range followed by a step (`*/15`, `8-18/2`). Months and weekdays may be written as
//! their English three-letter names, in any case (`jan`..`dec`, `sun`..`sat`, also inside
//! ranges: `mon-fri`); weekday `7` is Sunday, like `0`.
//!
//! Day-of-month and day-of-week combine as in Vixie cron: when both fields are restricted (do
//! not start with `*`), a day matches if *either* matches (`0 0 1 * mon` is the first of each
//! month and every Monday); when either starts with `*`, both must match (so `*/2` counts as
//! unrestricted, as it does there).
//!
//! An expression that can never fire (`0 0 30 feb *`) is refused when it is parsed, so every
//! [`Cron`] fires again within the 400-year cycle of the Gregorian calendar.

use crate::GrammarError;

/// The form, for messages.
const FORM: &str = "a cron expression is five fields, `minute hour day-of-month month day-of-week` (UTC), e.g. `0 3 * * *` for 03:00 every day";

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One field's name, bounds and names.
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names of the values from `min` on (months, weekdays).
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &MONTHS,
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &WEEKDAYS,
};

/// A parsed cron expression: one bit per allowed value of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    /// Bits 1 to 31.
    days: u32,
    /// Bits 1 to 12.
    months: u16,
    /// Bits 0 (Sunday) to 6.
    weekdays: u8,
    /// Both day fields restricted: a day matches when either does.
    either_day: bool,
}

impl Field {
    fn error(&self, text: &str, why: impl std::fmt::Display) -> GrammarError {
        GrammarError::new(format!("the {} field `{text}`: {why}", self.name))
    }

    fn range_text(&self) -> String {
        match self.names.first() {
            Some(first) => format!(
                "{}-{} or `{first}`..`{}`",
                self.min,
                self.max,
                self.names.last().unwrap_or(first)
            ),
            None => format!("{}-{}", self.min, self.max),
        }
    }

    /// One value: a number within bounds, or a name.
    fn value(&self, field: &str, text: &str) -> Result<u32, GrammarError> {
        if text.is_empty() {
            return Err(self.error(field, "a value is missing"));
        }
        if text.chars().all(|c| c.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(n) if (self.min..=self.max).contains(&n) => Ok(n),
                _ => Err(self.error(
                    field,
                    format!("`{text}` is out of range ({})", self.range_text()),
                )),
            };
        }
        let lower = text.to_ascii_lowercase();
        if let Some(index) = self.names.iter().position(|name| *name == lower) {
            return Ok(self.min + index as u32);
        }
        let why = if self.names.is_empty() {
            format!("`{text}` is not a number ({})", self.range_text())
        } else {
            format!("`{text}` is not a number or a name ({})", self.range_text())
        };
        Err(self.error(field, why))
    }

    /// The bits one field selects, and whether it starts with `*`.
    fn parse(&self, field: &str) -> Result<(u64, bool), GrammarError> {
        let mut bits = 0u64;
        for item in field.split(',') {
            if item.is_empty() {
                return Err(self.error(
                    field,
                    "an item of the list is empty (`a,,b` or a trailing `,`)",
                ));
            }
            let (base, step) = match item.split_once('/') {
                Some((base, step)) => (base, Some(step)),
                None => (item, None),
            };
            let (low, high) = if base == "*" {
                (self.min, self.max)
            } else if let Some((low, high)) = base.split_once('-') {
                let (low, high) = (self.value(field, low)?, self.value(field, high)?);
                if low > high {
                    return Err(self.error(
                        field,
                        format!("the range `{base}` runs backwards; write it from low to high (split one that wraps around in two, e.g. `22-23,0-2`)"),
                    ));
                }
                (low, high)
            } else {
                let value = self.value(field, base)?;
                if step.is_some() {
                    return Err(self.error(
                        field,
                        format!("a step follows `*` or a range, not a single value; write `{base}-{}/{}` for every n-th from {base}", self.max, step.unwrap_or_default()),
                    ));
                }
                (value, value)
            };
            let span = self.max - self.min + 1;
            let step = match step {
                None => 1,
                Some(step) => match step.parse::<u32>() {
                    Ok(0) => return Err(self.error(field, "a step is at least 1")),
                    Ok(step) if step <= span => step,
                    Ok(_) => {
                        return Err(self.error(
                            field,
                            format!(
                                "the step `{step}` is longer than the field ({})",
                                self.range_text()
                            ),
                        ));
                    }
                    Err(_) => {
                        return Err(
                            self.error(field, format!("the step `{step}` is not a whole number"))
                        );
                    }
                },
            };
            let mut value = low;
            while value <= high {
                bits |= 1u64 << value;
                value += step;
            }
        }
        Ok((bits, field.starts_with('*')))
    }
}

/// Days in `month` (1 to 12) of `year`.
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days from 1970-01-01 to `year-month-day` (proleptic Gregorian), the same
/// way: the inverse of [`civil_from_days`], which the tests check it against.
#[cfg(test)]
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    // Months from March: March is 0, February 11.
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of `days` since 1970-01-01. Counted in 400-year eras of 146 097 days, each
/// starting on a 1 March so that the leap day ends its year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    // The year within the era, correcting for the leap days (one per 4 years, none per 100,
    // one per 400) before `day_of_era`.
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year, month, day)
}

/// The lowest set bit of `bits` at or above `from`, if any.
fn next_bit(bits: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let above = bits & (u64::MAX << from);
    (above != 0).then(|| above.trailing_zeros())
}

impl Cron {
    /// Parses a five-field expression (see the module docs).
    pub fn parse(text: &str) -> Result<Cron, GrammarError> {
        let text = text.trim();
        if text.starts_with('@') {
            return Err(GrammarError::new(format!(
                "`{text}`: shortcuts like `@daily` are not supported; {FORM} (`@daily` is `0 0 * * *`, `@hourly` is `0 * * * *`)"
            )));
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(GrammarError::new(format!(
                "`{text}` has {} field{}; {FORM}",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" }
            )));
        };
        let (minutes, _) = MINUTE.parse(minute)?;
        let (hours, _) = HOUR.parse(hour)?;
        let (days, any_day) = DAY_OF_MONTH.parse(day)?;
        let (months, _) = MONTH.parse(month)?;
        let (weekdays, any_weekday) = DAY_OF_WEEK.parse(weekday)?;
        // Weekday 7 is Sunday.
        let weekdays = (weekdays | (weekdays >> 7)) & 0x7f;
        let cron = Cron {
            minutes,
            hours: hours as u32,
            days: days as u32,
            months: months as u16,
            weekdays: weekdays as u8,
            either_day: !any_day && !any_weekday,
        };
        // With the weekday unrestricted only the day of the month decides: it must exist in
        // one of the months (a 29 February exists every four years or so).
        if !any_day && any_weekday {
            let possible = (1..=12u32)
                .filter(|month| cron.months & (1 << month) != 0)
                .any(|month| {
                    let longest = days_in_month(2000, month);
                    cron.days & ((1u64 << (longest + 1)) - 2) as u32 != 0
                });
            if !possible {
                return Err(GrammarError::new(format!(
                    "`{text}` never fires: no month it names has the day of the month it names (February has 29 days at most, April, June, September and November 30)"
                )));
            }
        }
        Ok(cron)
    }

    fn day_matches(&self, day: u32, days: i64) -> bool {
        // 1970-01-01 was a Thursday (weekday 4).
        let weekday = (days + 4).rem_euclid(7) as u32;
        let by_day = self.days & (1 << day) != 0;
        let by_weekday = self.weekdays & (1 << weekday) != 0;
        if self.either_day {
            by_day || by_weekday
        } else {
            by_day && by_weekday
        }
    }

    /// The first time this expression fires strictly after `unix_seconds` (seconds since the
    /// Unix epoch, UTC), on a whole minute; `None` past the range of `i64` seconds.
    pub fn next_after(&self, unix_seconds: i64) -> Option<i64> {
        let start = unix_seconds
            .div_euclid(60)
            .checked_add(1)?
            .checked_mul(60)?;
        let mut days = start.div_euclid(86_400);
        let seconds_of_day = start.rem_euclid(86_400);
        let mut minute_of_day = (seconds_of_day / 60) as u32;
        // Every expression that parsed fires within one 400-year cycle; the bound only guards
        // against a loop if that were ever wrong.
        let last_day = days.checked_add(146_097 + 366)?;
        while days <= last_day {
            let (year, month, day) = civil_from_days(days);
            if self.months & (1 << month) == 0 {
                // The first day of the next month.
                days += i64::from(days_in_month(year, month) - day + 1);
                minute_of_day = 0;
                continue;
            }
            if self.day_matches(day, days) {
                let mut hour = minute_of_day / 60;
                let mut minute = minute_of_day % 60;
                while let Some(next_hour) = next_bit(u64::from(self.hours), hour) {
                    if next_hour != hour {
                        minute = 0;
                    }
                    if let Some(next_minute) = next_bit(self.minutes, minute) {
                        let at = i64::from(next_hour * 60 + next_minute) * 60;
                        return days.checked_mul(86_400)?.checked_add(at);
                    }
                    hour = next_hour + 1;
                    minute = 0;
                }
            }
            days += 1;
            minute_of_day = 0;
        }
        None
    }
}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
