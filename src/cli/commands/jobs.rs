//! Running `jobs`, `status`, `retry`, `ack` and `cancel`.
//!
//! Each one opens the store and turns library results into output for people
//! (tables, a summary line) or scripts (JSON Lines). They select jobs by ID
//! prefix or by action and apply one checked transition to all. Reading
//! commands take no lock, so they work while an upload runs; changing commands
//! take it, and change every named job or none.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::settings::Config;
use crate::format::{Align, human_bytes, table};
use crate::journal::asset_status::{IncompleteAsset, incomplete_assets};
use crate::journal::job::{Action, ClearedBy, Job, JobId, State};
use crate::journal::store::Store;
use crate::upload;

use super::{open_for_change, open_to_report, print_json_line};
use crate::cli::{AckArgs, CancelArgs, JobsArgs, RetryArgs, StatusArgs};
use crate::upload::ProtocolChoice;

/// The URL `--to` names, if it was given.
fn toward(config: &Config, to: Option<&str>) -> anyhow::Result<Option<String>> {
    let destination = to.map(|to| config.destination(to, ProtocolChoice::Auto));
    Ok(destination.transpose()?.map(|destination| destination.url))
}

/// A destination as a table column shows it: no scheme, and the middle of
/// a long one left out.
fn short_destination(url: &str) -> String {
    let bare = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let chars: Vec<char> = bare.chars().collect();
    match chars.len() {
        0..=32 => bare.to_owned(),
        n => {
            let head: String = chars[..14].iter().collect();
            let tail: String = chars[n - 17..].iter().collect();
            format!("{head}…{tail}")
        }
    }
}

pub fn jobs(config: &Config, args: &JobsArgs) -> anyhow::Result<()> {
    let to = toward(config, args.to.as_deref())?;
    let store = open_to_report(config)?;
    let listed: Vec<&Job> = store
        .jobs()
        .iter()
        .filter(|job| args.state.is_empty() || args.state.contains(&job.state))
        .filter(|job| args.action.is_none_or(|action| action.selects(job)))
        .filter(|job| to.as_ref().is_none_or(|url| job.destination.url == *url))
        .collect();
    if config.json() {
        for job in listed {
            print_json_line(job)?;
        }
        return Ok(());
    }
    if listed.is_empty() {
        if !config.quiet() {
            crate::report::stream::err_line("no jobs match");
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|job| {
            let mut state = job.state.to_string();
            if job.is_acknowledged() {
                state.push_str(" (acked)");
            }
            match job.cleared.as_ref().map(|cleared| cleared.action) {
                Some(ClearedBy::Deleted) => state.push_str(", source deleted"),
                Some(ClearedBy::Moved) => state.push_str(", source moved"),
                None => {}
            }
            let note = match (&job.error, job.state) {
                (Some(error), State::Failed) => crate::report::error_text(error),
                _ => String::new(),
            };
            vec![
                job.id.short().to_owned(),
                state,
                human_bytes(job.resource.size),
                job.resource
                    .taken
                    .map_or_else(|| "-".to_owned(), shown_taken),
                job.resource.asset.as_ref().map_or_else(
                    || "-".to_owned(),
                    |asset| format!("{} {}", short_id(&asset.id), asset.role.name()),
                ),
                short_destination(&job.destination.url),
                job.shown_path(),
                note,
            ]
        })
        .collect();
    crate::report::stream::out(&table(
        &[
            ("ID", Align::Left),
            ("STATE", Align::Left),
            ("SIZE", Align::Right),
            ("TAKEN", Align::Left),
            ("ASSET", Align::Left),
            ("DEST", Align::Left),
            ("PATH", Align::Left),
            ("ERROR", Align::Left),
        ],
        &rows,
    ))?;
    Ok(())
}

/// An asset's ID as tables show it: its first 8 characters (all of one
/// that a damaged journal made shorter, or that is not ASCII).
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// `2016-09-28 18:18:05 exif`: the capture date to the second, and its source.
fn shown_taken(taken: crate::capture::Taken) -> String {
    let at = taken.at.strftime("%Y-%m-%d %H:%M:%S");
    format!("{at} {}", taken.from.name())
}

#[derive(Default, Serialize)]
struct Tally {
    jobs: u64,
    bytes: u64,
    acknowledged: u64,
}

#[derive(Serialize)]
struct StatusReport {
    journal: String,
    states: BTreeMap<&'static str, Tally>,
    total: Tally,
    holding_limit: usize,
    job_limit: usize,
    incomplete_assets: Vec<IncompleteAsset>,
}

pub fn status(config: &Config, args: &StatusArgs) -> anyhow::Result<()> {
    let to = toward(config, args.to.as_deref())?;
    let store = open_to_report(config)?;
    let mut states: BTreeMap<&'static str, Tally> = State::ALL
        .iter()
        .map(|state| (state.name(), Tally::default()))
        .collect();
    let mut total = Tally::default();
    let counted = store.jobs().iter();
    for job in counted.filter(|job| to.as_ref().is_none_or(|url| job.destination.url == *url)) {
        let acknowledged = u64::from(job.is_acknowledged());
        for tally in [states.entry(job.state.name()).or_default(), &mut total] {
            tally.jobs += 1;
            tally.bytes += job.resource.size;
            tally.acknowledged += acknowledged;
        }
    }
    let report = StatusReport {
        journal: config.journal.display().to_string(),
        states,
        total,
        holding_limit: store.holding_limit(),
        job_limit: config.job_limit,
        incomplete_assets: incomplete_assets(
            (store.jobs().iter())
                .filter(|job| to.as_ref().is_none_or(|url| job.destination.url == *url)),
        ),
    };
    if config.json() {
        return print_json_line(&report);
    }
    let row = |name: &str, tally: &Tally| {
        vec![
            name.to_owned(),
            tally.jobs.to_string(),
            human_bytes(tally.bytes),
            tally.acknowledged.to_string(),
        ]
    };
    let mut rows: Vec<Vec<String>> = State::ALL
        .iter()
        .map(|state| row(state.name(), &report.states[state.name()]))
        .collect();
    rows.push(row("total", &report.total));
    crate::report::stream::out(&table(
        &[
            ("STATE", Align::Left),
            ("JOBS", Align::Right),
            ("BYTES", Align::Right),
            ("ACKED", Align::Right),
        ],
        &rows,
    ))?;
    crate::report::stream::out_line(&format!(
        "journal {}; job limit: {} of {} in use",
        report.journal, report.holding_limit, report.job_limit
    ))?;
    for asset in &report.incomplete_assets {
        let mut parts = vec![format!("{} uploaded", asset.succeeded.join(", "))];
        if !asset.failed.is_empty() {
            let failed = asset.failed.join(", ");
            parts.push(format!("{failed} failed (ferry retry sends it again)"));
        }
        if !asset.elsewhere.is_empty() {
            let elsewhere = asset.elsewhere.join(", ");
            parts.push(format!("{elsewhere}, not here"));
        }
        crate::report::stream::out_line(&format!(
            "incomplete asset {} at {}: {}",
            short_id(&asset.asset),
            short_destination(&asset.destination),
            parts.join("; "),
        ))?;
    }
    Ok(())
}

/// Named IDs resolved by prefix, or else the jobs the selector picks.
fn pick(
    store: &Store,
    ids: &[String],
    select: impl Fn(&Job) -> bool,
) -> anyhow::Result<Vec<JobId>> {
    if ids.is_empty() {
        return Ok(store
            .jobs()
            .iter()
            .filter(|job| select(job))
            .map(|job| job.id.clone())
            .collect());
    }
    let mut picked = Vec::with_capacity(ids.len());
    for prefix in ids {
        let id = store.resolve(prefix)?;
        if !picked.contains(&id) {
            picked.push(id);
        }
    }
    Ok(picked)
}

#[derive(Serialize)]
struct Changed<'a> {
    action: &'a str,
    changed: usize,
    ids: &'a [JobId],
}

fn report_changes(config: &Config, verb: &str, ids: &[JobId]) -> anyhow::Result<()> {
    if config.json() {
        return print_json_line(&Changed {
            action: verb,
            changed: ids.len(),
            ids,
        });
    }
    if !config.quiet() {
        match ids.len() {
            0 => crate::report::stream::out_line(&format!("no jobs to {verb}"))?,
            n => crate::report::stream::out_line(&format!(
                "{verb}: {}",
                crate::format::count(n as u64, "job")
            ))?,
        }
    }
    Ok(())
}

pub fn retry(config: &Config, args: &RetryArgs) -> anyhow::Result<()> {
    let destination = args
        .to
        .as_deref()
        .map(|to| config.destination(to, ProtocolChoice::Auto))
        .transpose()?;
    let mut store = open_for_change(config)?;
    let ids = pick(&store, &args.ids, |job| Action::Retry.selects(job))?;
    // A job whose file changed since its scan fails again the same way:
    // queued as asked, with one line saying why and what would send it
    // (read before the retry clears the job's error, said once it is done).
    let warnings: Vec<String> = (ids.iter().filter_map(|id| store.job(id)))
        .filter_map(|job| {
            let why = crate::report::retry_cannot_send(job)?;
            let source = job.resource.source();
            let shown = crate::journal::paths::Readable(&source);
            Some(format!("warning: {shown} changed since its scan; {why}"))
        })
        .collect();
    store.apply_all(&ids, |job| job.retry(destination.clone()))?;
    for warning in &warnings {
        crate::report::stream::err_line(warning);
    }
    report_changes(config, "retry", &ids)
}

pub fn ack(config: &Config, args: &AckArgs) -> anyhow::Result<()> {
    let mut store = open_for_change(config)?;
    let wanted = |job: &Job| {
        Action::Acknowledge.selects(job)
            && (args.all
                || (args.failed && job.state == State::Failed)
                || (args.succeeded && job.state == State::Succeeded))
    };
    let ids = pick(&store, &args.ids, wanted)?;
    store.apply_all(&ids, Job::acknowledge)?;
    report_changes(config, "acknowledge", &ids)
}

pub fn cancel(config: &Config, args: &CancelArgs) -> anyhow::Result<()> {
    let to = toward(config, args.to.as_deref())?;
    let mut store = open_for_change(config)?;
    let ids = pick(&store, &args.ids, |job| {
        Action::Process.selects(job) && to.as_ref().is_none_or(|url| job.destination.url == *url)
    })?;
    let cancelled: Vec<Job> = ids.iter().filter_map(|id| store.job(id).cloned()).collect();
    let settings = config.credential_settings(&args.credentials, |url| {
        cancelled.iter().any(|job| job.destination.url == url)
    })?;
    store.apply_all(&ids, Job::cancel)?;
    drop(store);
    for warning in upload::terminate(&cancelled, &settings)? {
        crate::report::stream::err_line(&format!("warning: {warning}"));
    }
    report_changes(config, "cancel", &ids)
}
