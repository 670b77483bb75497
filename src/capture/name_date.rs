//! A date written in a file's name by the phone or app that made it:
//! `IMG_20240315_142233.jpg`, `PXL_20240315_142233123.jpg`,
//! `VID_20240315_142233.mp4`, `20240315_142233.jpg` (Samsung),
//! `2024-03-15 14.22.33.jpg` (Dropbox), `Screenshot 2024-03-15 at
//! 14.22.33.png`, `Screenshot_2024-03-15-14-22-33.png`,
//! `IMG-20240315-WA0001.jpg` (WhatsApp: the day alone, at midnight).
//!
//! The name is cut into runs of digits; a date is a run of 8 (or 14) or
//! runs of 4, 2 and 2 joined by one separator, and a time the runs that
//! follow it. Whether the values are plausible is the caller's check.

use jiff::civil::{Date, DateTime, Time};

/// The date in `stem` (a file name without its extension), if any.
pub fn date_in_name(stem: &str) -> Option<DateTime> {
    let runs = digit_runs(stem);
    for (i, &(start, end)) in runs.iter().enumerate() {
        let digits = &stem[start..end];
        let found = match digits.len() {
            14 => Some((ymd(&digits[..8])?, hms(&digits[8..]))),
            8 => {
                let time = runs
                    .get(i + 1)
                    .filter(|&&(next, next_end)| next - end == 1 && next_end - next >= 6)
                    .and_then(|&(next, _)| hms(&stem[next..next + 6]));
                Some((ymd(digits)?, time))
            }
            4 => dashed_date(stem, &runs[i..]),
            _ => None,
        };
        if let Some((date, time)) = found {
            return Some(date.to_datetime(time.unwrap_or(Time::midnight())));
        }
    }
    None
}

/// Byte ranges of the runs of ASCII digits in `text`.
fn digit_runs(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((start, i));
        } else {
            i += 1;
        }
    }
    runs
}

/// `YYYY-MM-DD` (any one separator), then optionally `HH.MM.SS` (one
/// separator each) after at most four characters (` at `, `_`, ` `).
fn dashed_date(text: &str, runs: &[(usize, usize)]) -> Option<(Date, Option<Time>)> {
    let lens: Vec<usize> = runs.iter().take(6).map(|(s, e)| e - s).collect();
    let joined = |a: usize| runs[a + 1].0 - runs[a].1 == 1;
    if lens.len() < 3 || lens[..3] != [4, 2, 2] || !joined(0) || !joined(1) {
        return None;
    }
    let number = |k: usize| text[runs[k].0..runs[k].1].parse::<i16>().ok();
    let date = Date::new(number(0)?, number(1)? as i8, number(2)? as i8).ok()?;
    let time = (lens.len() >= 6
        && lens[3..6] == [2, 2, 2]
        && runs[3].0 - runs[2].1 <= 4
        && joined(3)
        && joined(4))
    .then(|| Time::new(number(3)? as i8, number(4)? as i8, number(5)? as i8, 0).ok())
    .flatten();
    Some((date, time))
}

fn ymd(digits: &str) -> Option<Date> {
    let year = digits[0..4].parse().ok()?;
    let month = digits[4..6].parse().ok()?;
    let day = digits[6..8].parse().ok()?;
    Date::new(year, month, day).ok()
}

fn hms(digits: &str) -> Option<Time> {
    let hour = digits[0..2].parse().ok()?;
    let minute = digits[2..4].parse().ok()?;
    let second = digits[4..6].parse().ok()?;
    Time::new(hour, minute, second, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::date_in_name;

    fn seen(stem: &str) -> Option<String> {
        date_in_name(stem).map(|d| d.to_string())
    }

    #[test]
    fn phone_and_app_names() {
        let cases = [
            ("IMG_20240315_142233", "2024-03-15T14:22:33"),
            ("PXL_20240315_142233123", "2024-03-15T14:22:33"),
            ("PXL_20240315_142233123.MP", "2024-03-15T14:22:33"),
            ("VID_20240315_142233", "2024-03-15T14:22:33"),
            ("20240315_142233", "2024-03-15T14:22:33"),
            ("2024-03-15 14.22.33", "2024-03-15T14:22:33"),
            ("Screenshot 2024-03-15 at 14.22.33", "2024-03-15T14:22:33"),
            ("Screenshot_2024-03-15-14-22-33", "2024-03-15T14:22:33"),
            ("Screenshot from 2024-03-15 14-22-33", "2024-03-15T14:22:33"),
            ("IMG-20240315-WA0001", "2024-03-15T00:00:00"),
            ("signal-2024-03-15-142233", "2024-03-15T00:00:00"),
            ("20240315142233", "2024-03-15T14:22:33"),
        ];
        for (stem, wanted) in cases {
            assert_eq!(seen(stem).as_deref(), Some(wanted), "{stem}");
        }
    }

    #[test]
    fn names_without_a_date() {
        for stem in [
            "IMG_1234",
            "DSC01234",
            "P1000123",
            "20241399_000000",
            "clip",
            "2024-3-15",
        ] {
            assert_eq!(seen(stem), None, "{stem}");
        }
    }
}
