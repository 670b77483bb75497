//! Bandwidth limits: a token bucket on body bytes, with a rate that may
//! follow a timetable as rclone's `--bwlimit` does.
//!
//! One bucket per limit (the run's `--bwlimit`, and a destination's own
//! from the config file), shared by every job it covers, so the limit is
//! on the total. Each chunk a body sends first reserves its bytes: the
//! bucket may go into debt, and the taker sleeps until the debt is paid,
//! which keeps the rate smooth whatever the number of jobs. The bucket
//! holds at most a tenth of a second of credit, so an idle moment never
//! turns into a long burst, and a throttled body is sent in slices of a
//! twentieth of a second. The timetable is read against local time at most
//! once a second; a new rate applies from the next reservation on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::Settings;

/// A rate in bytes per second, or none for no limit ("off").
pub type Rate = Option<u64>;

/// `10M`, or a timetable `08:00,512k 19:00,10M 23:00,off`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// (minute of the day, rate), sorted by minute; never empty.
    entries: Vec<(u16, Rate)>,
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        if !text.contains(',') {
            return Ok(Schedule {
                entries: vec![(0, parse_rate(text)?)],
            });
        }
        let mut entries = Vec::new();
        for entry in text.split_whitespace() {
            let (time, rate) = entry.split_once(',').ok_or_else(|| {
                format!("{entry:?}: a timetable entry is HH:MM,RATE (e.g. 08:00,512k)")
            })?;
            entries.push((parse_time(time)?, parse_rate(rate)?));
        }
        entries.sort_by_key(|(minute, _)| *minute);
        if entries.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return Err(format!("{text:?}: two entries for the same time"));
        }
        Ok(Schedule { entries })
    }

    /// The rate in force at `minute` of the day: the last entry at or
    /// before it, and before the first entry, the day's last one.
    pub fn rate_at(&self, minute: u16) -> Rate {
        let before = self.entries.iter().rev().find(|(at, _)| *at <= minute);
        before.or(self.entries.last()).and_then(|(_, rate)| *rate)
    }

    /// Whether the rate never changes.
    fn fixed(&self) -> bool {
        self.entries.len() == 1
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = |rate: &Rate| match rate {
            Some(bytes) => format!("{}/s", crate::format::human_bytes(*bytes)),
            None => "off".to_owned(),
        };
        if self.fixed() {
            return write!(out, "{}", rate(&self.entries[0].1));
        }
        let entries: Vec<String> = (self.entries.iter())
            .map(|(minute, r)| format!("{:02}:{:02},{}", minute / 60, minute % 60, rate(r)))
            .collect();
        write!(out, "{}", entries.join(" "))
    }
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match crate::format::parse_size(text) {
        Ok(0) => Err(format!(
            "{text:?}: a rate of 0 would never send; use off for no limit"
        )),
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) => Err(format!(
            "{error} (a rate is bytes per second: 512k, 10M, off)"
        )),
    }
}

fn parse_time(text: &str) -> Result<u16, String> {
    let invalid = || format!("{text:?}: a time is HH:MM, from 00:00 to 23:59");
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    let hours: u16 = hours.parse().map_err(|_| invalid())?;
    let minutes: u16 = minutes.parse().map_err(|_| invalid())?;
    if hours > 23 || minutes > 59 || text.len() != 5 {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

/// The minute of the day, local time.
fn local_minute() -> u16 {
    let now = jiff::Zoned::now();
    (now.hour() as u16) * 60 + now.minute() as u16
}

/// One limit's bucket.
#[derive(Debug)]
pub struct Throttle {
    schedule: Schedule,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    rate: Rate,
    /// Bytes that may go now; negative when reservations ran ahead.
    credit: f64,
    refilled: Instant,
    /// When the timetable was last read.
    looked: Instant,
    /// The rate `rate()` last gave.
    told: Option<Rate>,
}

/// Credit the bucket may hold, in seconds of its rate.
const MAX_CREDIT: f64 = 0.1;
/// A throttled body goes out in slices of this many seconds of the rate.
const SLICE: f64 = 0.05;

impl Throttle {
    pub fn new(schedule: Schedule) -> Throttle {
        let now = Instant::now();
        Throttle {
            bucket: Mutex::new(Bucket {
                rate: schedule.rate_at(local_minute()),
                credit: 0.0,
                refilled: now,
                looked: now,
                told: None,
            }),
            schedule,
        }
    }

    /// The rate now, after reading the timetable if a second has passed;
    /// the second value says whether it differs from what this said last.
    pub fn rate(&self) -> (Rate, bool) {
        let mut bucket = self.lock();
        self.look(&mut bucket, Instant::now());
        let changed = bucket.told != Some(bucket.rate);
        bucket.told = Some(bucket.rate);
        (bucket.rate, changed)
    }

    /// The largest slice a body should send at once under this limit.
    pub fn slice(&self) -> Option<usize> {
        let rate = self.lock().rate?;
        Some(((rate as f64 * SLICE) as usize).max(16 * 1024))
    }

    /// Reserves `bytes` and waits until they may go.
    pub async fn take(&self, bytes: u64) {
        let wait = {
            let mut bucket = self.lock();
            let now = Instant::now();
            self.look(&mut bucket, now);
            let Some(rate) = bucket.rate else {
                return;
            };
            let rate = rate as f64;
            let earned = now.duration_since(bucket.refilled).as_secs_f64() * rate;
            bucket.credit = (bucket.credit + earned).min(rate * MAX_CREDIT);
            bucket.refilled = now;
            bucket.credit -= bytes as f64;
            (bucket.credit < 0.0).then(|| Duration::from_secs_f64(-bucket.credit / rate))
        };
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
    }

    fn look(&self, bucket: &mut Bucket, now: Instant) {
        if self.schedule.fixed() || now.duration_since(bucket.looked) < Duration::from_secs(1) {
            return;
        }
        bucket.looked = now;
        let rate = self.schedule.rate_at(local_minute());
        if rate != bucket.rate {
            // Debt or credit at the old rate means nothing at the new one.
            bucket.rate = rate;
            bucket.credit = 0.0;
            bucket.refilled = now;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A run's limits: its own, and each destination's that has one.
#[derive(Default)]
pub struct Limits {
    all: Option<Arc<Throttle>>,
    by_destination: HashMap<String, Arc<Throttle>>,
}

impl Limits {
    pub fn new(settings: &Settings) -> Limits {
        let throttle = |schedule: &Schedule| Arc::new(Throttle::new(schedule.clone()));
        Limits {
            all: settings.bwlimit.as_ref().map(throttle),
            by_destination: (settings.destinations.iter())
                .filter_map(|(url, transfer)| {
                    Some((url.clone(), throttle(transfer.bwlimit.as_ref()?)))
                })
                .collect(),
        }
    }

    /// The limits a job to `url` counts against.
    pub fn for_destination(&self, url: &str) -> Vec<Arc<Throttle>> {
        self.all
            .iter()
            .chain(self.by_destination.get(url))
            .cloned()
            .collect()
    }

    /// Every limit (destination none for the run's own) with its rate, or
    /// with `changed_only` those whose timetable just moved them.
    pub fn rates(&self, changed_only: bool) -> Vec<(Option<&str>, Rate)> {
        let all = self.all.iter().map(|throttle| (None, throttle));
        let each =
            (self.by_destination.iter()).map(|(url, throttle)| (Some(url.as_str()), throttle));
        all.chain(each)
            .filter_map(|(destination, throttle)| {
                let (rate, changed) = throttle.rate();
                (changed || !changed_only).then_some((destination, rate))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_timetables_parse_as_rclone_writes_them() {
        assert_eq!(Schedule::parse("10M").unwrap().rate_at(0), Some(10 << 20));
        assert_eq!(Schedule::parse("off").unwrap().rate_at(600), None);
        let timetable = Schedule::parse("08:00,512k 19:00,10M 23:00,off").unwrap();
        assert_eq!(
            timetable.rate_at(7 * 60 + 59),
            None,
            "before 08:00: the day's last"
        );
        assert_eq!(timetable.rate_at(8 * 60), Some(512 << 10));
        assert_eq!(timetable.rate_at(18 * 60 + 59), Some(512 << 10));
        assert_eq!(timetable.rate_at(19 * 60), Some(10 << 20));
        assert_eq!(timetable.rate_at(23 * 60 + 30), None);
        assert_eq!(
            timetable.to_string(),
            "08:00,512.0 KiB/s 19:00,10.0 MiB/s 23:00,off"
        );
        for bad in [
            "",
            "0",
            "fast",
            "8:00,1M",
            "24:00,1M",
            "08:00",
            "08:00,1M 08:00,2M",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn reservations_beyond_the_credit_wait_at_the_rate() {
        let throttle = Throttle::new(Schedule::parse("1M").unwrap());
        let start = tokio::time::Instant::now();
        for _ in 0..8 {
            throttle.take(256 << 10).await;
        }
        // 2 MiB at 1 MiB/s, less at most the tenth of a second of credit.
        let took = start.elapsed().as_secs_f64();
        assert!((1.85..=2.05).contains(&took), "took {took} s");
        assert_eq!(throttle.slice(), Some(52_428));
        let open = Throttle::new(Schedule::parse("off").unwrap());
        open.take(1 << 30).await;
        assert_eq!(open.slice(), None);
    }
}
