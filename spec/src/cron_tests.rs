use super::*;

/// Seconds since the epoch of a UTC civil time.
fn at(year: i64, month: u32, day: u32, hour: i64, minute: i64) -> i64 {
    days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60
}

fn cron(text: &str) -> Cron {
    Cron::parse(text).unwrap_or_else(|error| panic!("{text:?}: {error}"))
}

/// The next firing of `text` after the given time.
fn next(text: &str, after: (i64, u32, u32, i64, i64)) -> Option<i64> {
    let (year, month, day, hour, minute) = after;
    cron(text).next_after(at(year, month, day, hour, minute))
}

fn error(text: &str) -> String {
    match Cron::parse(text) {
        Ok(parsed) => panic!("{text:?} parsed: {parsed:?}"),
        Err(error) => error.message().to_owned(),
    }
}

#[test]
fn civil_arithmetic_matches_known_dates() {
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(1969, 12, 31), -1);
    // 2000-03-01T00:00:00Z is 951868800, 2024-01-01 is 1704067200.
    assert_eq!(days_from_civil(2000, 3, 1) * 86_400, 951_868_800);
    assert_eq!(days_from_civil(2024, 1, 1) * 86_400, 1_704_067_200);
    assert_eq!(days_from_civil(2024, 2, 29) * 86_400, 1_709_164_800);
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    // 2100 is not a leap year, 2000 is.
    assert_eq!(
        civil_from_days(days_from_civil(2100, 2, 28) + 1),
        (2100, 3, 1)
    );
    assert_eq!(
        civil_from_days(days_from_civil(2000, 2, 28) + 1),
        (2000, 2, 29)
    );
}

#[test]
fn civil_arithmetic_round_trips_and_counts_every_day() {
    for days in (-1_000_000..1_000_000).step_by(37) {
        let (year, month, day) = civil_from_days(days);
        assert!((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month));
        assert_eq!(
            days_from_civil(year, month, day),
            days,
            "{year}-{month}-{day}"
        );
    }
    // Day by day over a 400-year cycle: each date follows the previous one.
    let mut previous = civil_from_days(days_from_civil(1999, 12, 31));
    for days in days_from_civil(2000, 1, 1)..days_from_civil(2400, 1, 2) {
        let (year, month, day) = civil_from_days(days);
        let (py, pm, pd) = previous;
        let follows = if pd < days_in_month(py, pm) {
            (year, month, day) == (py, pm, pd + 1)
        } else if pm < 12 {
            (year, month, day) == (py, pm + 1, 1)
        } else {
            (year, month, day) == (py + 1, 1, 1)
        };
        assert!(follows, "{previous:?} then {year}-{month}-{day}");
        previous = (year, month, day);
    }
}

#[test]
fn every_minute_fires_on_the_next_whole_minute() {
    let start = at(2024, 5, 17, 10, 42);
    let every = cron("* * * * *");
    assert_eq!(every.next_after(start), Some(start + 60));
    assert_eq!(every.next_after(start + 1), Some(start + 60));
    assert_eq!(every.next_after(start + 59), Some(start + 60));
    assert_eq!(every.next_after(start - 1), Some(start));
}

#[test]
fn numbers_ranges_lists_and_steps() {
    // Strictly after: at 03:00 exactly, the next is tomorrow's.
    assert_eq!(
        next("0 3 * * *", (2024, 5, 17, 3, 0)),
        Some(at(2024, 5, 18, 3, 0))
    );
    assert_eq!(
        next("0 3 * * *", (2024, 5, 17, 2, 59)),
        Some(at(2024, 5, 17, 3, 0))
    );
    assert_eq!(
        next("*/15 * * * *", (2024, 5, 17, 10, 7)),
        Some(at(2024, 5, 17, 10, 15))
    );
    assert_eq!(
        next("*/15 * * * *", (2024, 5, 17, 10, 45)),
        Some(at(2024, 5, 17, 11, 0))
    );
    assert_eq!(
        next("5-20/5 * * * *", (2024, 5, 17, 10, 16)),
        Some(at(2024, 5, 17, 10, 20))
    );
    assert_eq!(
        next("5-20/5 * * * *", (2024, 5, 17, 10, 20)),
        Some(at(2024, 5, 17, 11, 5))
    );
    assert_eq!(
        next("10,40 8-9 * * *", (2024, 5, 17, 9, 40)),
        Some(at(2024, 5, 18, 8, 10))
    );
    assert_eq!(
        next("0 8-18/4 * * *", (2024, 5, 17, 12, 0)),
        Some(at(2024, 5, 17, 16, 0))
    );
    assert_eq!(
        next("0 8-18/4 * * *", (2024, 5, 17, 16, 0)),
        Some(at(2024, 5, 18, 8, 0))
    );
    // Mixed list items, and a step of the field's whole length.
    assert_eq!(cron("1-3,7,*/30 * * * *"), cron("0,1,2,3,7,30 * * * *"));
    assert_eq!(cron("*/60 * * * *"), cron("0 * * * *"));
    // Leading zeros and white space around.
    assert_eq!(cron("  05 03 * * *\n"), cron("5 3 * * *"));
}

#[test]
fn month_and_weekday_names_in_any_case() {
    assert_eq!(cron("0 0 1 jan,JUL *"), cron("0 0 1 1,7 *"));
    assert_eq!(cron("0 0 * * Mon-FRI"), cron("0 0 * * 1-5"));
    assert_eq!(cron("0 0 * mar-may *"), cron("0 0 * 3-5 *"));
    assert_eq!(cron("0 0 * * sun"), cron("0 0 * * 0"));
    assert_eq!(cron("0 0 * jan-dec/3 *"), cron("0 0 * 1,4,7,10 *"));
    // Friday 2024-01-05 17:30 → Monday 09:30.
    assert_eq!(
        next("30 9-17 * * mon-fri", (2024, 1, 5, 17, 30)),
        Some(at(2024, 1, 8, 9, 30))
    );
    assert_eq!(
        next("0 0 1 dec *", (2024, 6, 1, 0, 0)),
        Some(at(2024, 12, 1, 0, 0))
    );
    // Year rollover.
    assert_eq!(
        next("0 0 1 1 *", (2024, 6, 1, 0, 0)),
        Some(at(2025, 1, 1, 0, 0))
    );
}

#[test]
fn seven_is_sunday() {
    assert_eq!(cron("0 0 * * 7"), cron("0 0 * * 0"));
    assert_eq!(cron("0 0 * * 5-7"), cron("0 0 * * fri,sat,sun"));
    assert_eq!(cron("0 0 * * 0-7"), cron("0 0 * * *"));
    // 2024-01-07 is a Sunday.
    assert_eq!(
        next("0 12 * * 7", (2024, 1, 1, 0, 0)),
        Some(at(2024, 1, 7, 12, 0))
    );
}

#[test]
fn february_29_fires_in_leap_years_only() {
    assert_eq!(
        next("0 0 29 2 *", (2024, 1, 1, 0, 0)),
        Some(at(2024, 2, 29, 0, 0))
    );
    assert_eq!(
        next("0 0 29 2 *", (2024, 2, 29, 0, 0)),
        Some(at(2028, 2, 29, 0, 0))
    );
    // 2100 is no leap year: eight years apart.
    assert_eq!(
        next("0 0 29 2 *", (2096, 3, 1, 0, 0)),
        Some(at(2104, 2, 29, 0, 0))
    );
    assert_eq!(
        next("30 23 29 feb *", (1999, 1, 1, 0, 0)),
        Some(at(2000, 2, 29, 23, 30))
    );
}

#[test]
fn month_ends_skip_shorter_months() {
    assert_eq!(
        next("0 0 31 * *", (2024, 1, 31, 0, 0)),
        Some(at(2024, 3, 31, 0, 0))
    );
    assert_eq!(
        next("0 0 31 * *", (2024, 3, 31, 0, 0)),
        Some(at(2024, 5, 31, 0, 0))
    );
    assert_eq!(
        next("0 0 30 * *", (2023, 1, 30, 0, 0)),
        Some(at(2023, 3, 30, 0, 0))
    );
    assert_eq!(
        next("59 23 28-31 * *", (2023, 2, 28, 23, 59)),
        Some(at(2023, 3, 28, 23, 59))
    );
    assert_eq!(
        next("59 23 28-31 * *", (2023, 12, 31, 23, 58)),
        Some(at(2023, 12, 31, 23, 59))
    );
    assert_eq!(
        next("59 23 28-31 * *", (2023, 12, 31, 23, 59)),
        Some(at(2024, 1, 28, 23, 59))
    );
}

#[test]
fn day_of_month_or_day_of_week_when_both_are_restricted() {
    // The 13th or any Friday: 2024-01-01 is a Monday, the 5th a Friday.
    let either = "0 0 13 * fri";
    assert_eq!(next(either, (2024, 1, 1, 0, 0)), Some(at(2024, 1, 5, 0, 0)));
    assert_eq!(
        next(either, (2024, 1, 12, 0, 0)),
        Some(at(2024, 1, 13, 0, 0))
    );
    assert_eq!(
        next(either, (2024, 1, 13, 0, 0)),
        Some(at(2024, 1, 19, 0, 0))
    );
    // The 1st of the month or Monday; the 31st of February or a Monday of it.
    assert_eq!(
        next("0 0 1 * mon", (2024, 1, 29, 0, 0)),
        Some(at(2024, 2, 1, 0, 0))
    );
    assert_eq!(
        next("0 0 31 2 mon", (2024, 1, 1, 0, 0)),
        Some(at(2024, 2, 5, 0, 0))
    );
}

#[test]
fn both_day_fields_must_match_when_one_starts_with_a_star() {
    // `*/2` counts as unrestricted (Vixie): odd days that are Fridays.
    let both = "0 0 */2 * fri";
    assert_eq!(next(both, (2024, 1, 1, 0, 0)), Some(at(2024, 1, 5, 0, 0)));
    assert_eq!(next(both, (2024, 1, 5, 0, 0)), Some(at(2024, 1, 19, 0, 0)));
    // A restricted day of the month with `*` weekdays: that day only.
    assert_eq!(
        next("0 0 13 * *", (2024, 1, 1, 0, 0)),
        Some(at(2024, 1, 13, 0, 0))
    );
    // `*/1` weekdays: every day, and the day of the month decides.
    assert_eq!(
        next("0 0 13 * */1", (2024, 1, 1, 0, 0)),
        Some(at(2024, 1, 13, 0, 0))
    );
}

#[test]
fn times_before_the_epoch_and_past_the_range() {
    assert_eq!(next("0 0 1 1 *", (1969, 6, 1, 0, 0)), Some(0));
    assert_eq!(
        next("0 12 * * *", (1900, 2, 28, 13, 0)),
        Some(at(1900, 3, 1, 12, 0))
    );
    assert_eq!(cron("* * * * *").next_after(i64::MAX), None);
    let late = i64::MAX - 3600;
    let fired = cron("* * * * *").next_after(late);
    assert!(
        fired.is_some_and(|t| t > late && t - late <= 60 && t % 60 == 0),
        "{fired:?}"
    );
    assert!(cron("0 0 1 1 *").next_after(i64::MIN).is_some());
}

#[test]
fn expressions_that_never_fire_are_refused() {
    for text in ["0 0 30 feb *", "0 0 31 4,6,9,11 *", "0 0 30-31 2 *"] {
        assert!(error(text).contains("never fires"), "{text}");
    }
    // The 31st exists in one of the months named.
    assert!(Cron::parse("0 0 31 2,3 *").is_ok());
}

#[test]
fn invalid_expressions_say_what_is_wrong() {
    let cases = [
        ("", "has 0 fields"),
        ("* * * *", "has 4 fields"),
        ("0 * * * * *", "has 6 fields"),
        ("daily", "has 1 field;"),
        ("@daily", "`@daily` is `0 0 * * *`"),
        (
            "60 * * * *",
            "the minute field `60`: `60` is out of range (0-59)",
        ),
        (
            "* 24 * * *",
            "the hour field `24`: `24` is out of range (0-23)",
        ),
        (
            "* * 0 * *",
            "day-of-month field `0`: `0` is out of range (1-31)",
        ),
        ("* * 32 * *", "`32` is out of range (1-31)"),
        ("* * * 13 *", "`13` is out of range (1-12 or `jan`..`dec`)"),
        ("* * * * 8", "`8` is out of range (0-7 or `sun`..`sat`)"),
        ("*/0 * * * *", "a step is at least 1"),
        ("*/61 * * * *", "the step `61` is longer than the field"),
        ("*/x * * * *", "the step `x` is not a whole number"),
        ("*/ * * * *", "the step `` is not a whole number"),
        ("5/10 * * * *", "write `5-59/10`"),
        ("10-5 * * * *", "the range `10-5` runs backwards"),
        ("* * * * fri-mon", "the range `fri-mon` runs backwards"),
        ("a * * * *", "`a` is not a number (0-59)"),
        (
            "* * * foo *",
            "`foo` is not a number or a name (1-12 or `jan`..`dec`)",
        ),
        ("* * * * monday", "`monday` is not a number or a name"),
        ("* * jan * *", "`jan` is not a number (1-31)"),
        ("1,,2 * * * *", "an item of the list is empty"),
        ("1, * * * *", "an item of the list is empty"),
        ("-5 * * * *", "a value is missing"),
        ("1- * * * *", "a value is missing"),
        ("99999999999 * * * *", "is out of range (0-59)"),
        ("* * * * 1.5", "`1.5` is not a number or a name"),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(message.contains(expected), "{text:?}: {message}");
    }
    // The form is named whenever the shape is wrong.
    assert!(error("* *").contains("minute hour day-of-month month day-of-week"));
}
