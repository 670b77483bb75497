//! The commands that work on the journal: `scan`, `jobs`, `status`, `retry`,
//! `ack` and `cancel`.
//!
//! Each one opens the store and turns library results into output for people
//! (tables, a summary line) or scripts (JSON Lines). The job commands select
//! jobs by ID prefix or by action and apply one checked transition to all. Reading
//! commands take no lock, so they work while an upload runs; changing commands
//! take it, and change every named job or none.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use std::sync::Arc;

use crate::cli::{
    AckArgs, CancelArgs, JobsArgs, ProbeArgs, ProtocolChoice, RetryArgs, ScanArgs, SyncArgs,
    TransferArgs,
};
use crate::config::Config;
use crate::error;
use crate::format::{Align, human_bytes, table};
use crate::journal::job::{Action, Job, JobId, Protocol, State};
use crate::journal::store::LimitReached;
use crate::journal::store::Store;
use crate::report::{self, Event, Reporter, ScanCounts};
use crate::scan::{self, ScanEvent, ScanOptions, ScanSummary};
use crate::upload;

fn open_read_only(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open_read_only(&config.journal)?;
    show_warnings(&store);
    Ok(store)
}

fn open_for_change(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open(&config.journal, &config.open_options())?;
    show_warnings(&store);
    Ok(store)
}

fn show_warnings(store: &Store) {
    for warning in store.warnings() {
        eprintln!("warning: {warning}");
    }
}

fn print_json_line(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

pub fn jobs(config: &Config, args: &JobsArgs) -> anyhow::Result<()> {
    let store = open_read_only(config)?;
    let listed: Vec<&Job> = store
        .jobs()
        .iter()
        .filter(|job| args.state.is_empty() || args.state.contains(&job.state))
        .filter(|job| args.action.is_none_or(|action| action.selects(job)))
        .collect();
    if config.json() {
        for job in listed {
            print_json_line(job)?;
        }
        return Ok(());
    }
    if listed.is_empty() {
        if !config.quiet() {
            eprintln!("no jobs match");
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|job| {
            let state = if job.is_acknowledged() {
                format!("{} (acked)", job.state)
            } else {
                job.state.to_string()
            };
            let note = match (&job.error, job.state) {
                (Some(error), State::Failed) => match error.status {
                    Some(status) => format!("HTTP {status}: {}", error.message),
                    None => error.message.clone(),
                },
                _ => String::new(),
            };
            vec![
                job.id.short().to_owned(),
                state,
                human_bytes(job.resource.size),
                job.resource.path.display().to_string(),
                note,
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &[
                ("ID", Align::Left),
                ("STATE", Align::Left),
                ("SIZE", Align::Right),
                ("PATH", Align::Left),
                ("ERROR", Align::Left),
            ],
            &rows
        )
    );
    Ok(())
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
}

pub fn status(config: &Config) -> anyhow::Result<()> {
    let store = open_read_only(config)?;
    let mut states: BTreeMap<&'static str, Tally> = State::ALL
        .iter()
        .map(|state| (state.name(), Tally::default()))
        .collect();
    let mut total = Tally::default();
    for job in store.jobs() {
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
    print!(
        "{}",
        table(
            &[
                ("STATE", Align::Left),
                ("JOBS", Align::Right),
                ("BYTES", Align::Right),
                ("ACKED", Align::Right),
            ],
            &rows
        )
    );
    println!(
        "journal {}; job limit: {} of {} in use",
        report.journal, report.holding_limit, report.job_limit
    );
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
            0 => println!("no jobs to {verb}"),
            1 => println!("{verb}: 1 job"),
            n => println!("{verb}: {n} jobs"),
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
    store.apply_all(&ids, |job| job.retry(destination.clone()))?;
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
    let mut store = open_for_change(config)?;
    let ids = pick(&store, &args.ids, |job| Action::Process.selects(job))?;
    let cancelled: Vec<Job> = ids.iter().filter_map(|id| store.job(id).cloned()).collect();
    let settings = config.credential_settings(&args.credentials, |url| {
        cancelled.iter().any(|job| job.destination.url == url)
    })?;
    store.apply_all(&ids, Job::cancel)?;
    drop(store);
    for warning in upload::terminate(&cancelled, &settings)? {
        eprintln!("warning: {warning}");
    }
    report_changes(config, "cancel", &ids)
}

/// `ferry scan`: exit 0 when clean, 3 when files could not be read.
pub fn scan(config: &Config, args: &ScanArgs) -> anyhow::Result<u8> {
    let reporter = report::reporter(&config.output)?;
    Ok(scan_with(config, args, reporter.as_ref())?.0)
}

fn scan_with(
    config: &Config,
    args: &ScanArgs,
    reporter: &dyn Reporter,
) -> anyhow::Result<(u8, ScanSummary)> {
    let options = ScanOptions {
        roots: args.roots.clone(),
        destination: config.destination(&args.to, args.protocol)?,
        filter: config.filter(args),
        follow_links: args.follow_links,
        max_depth: args.max_depth,
        min_size: args.min_size,
        max_size: args.max_size,
        min_age: args.min_age,
        rehash: args.rehash,
        dry_run: args.dry_run,
        hash_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let mut store = if args.dry_run {
        let mut store = open_read_only(config)?;
        store.set_job_limit(config.job_limit);
        store
    } else {
        open_for_change(config)?
    };
    let summary = scan::scan(&mut store, &options, &mut |event| match event {
        ScanEvent::Walked {
            files,
            bytes_to_hash,
        } => reporter.event(Event::Walked {
            files: files as u64,
            bytes_to_hash,
        }),
        ScanEvent::Scanned {
            files,
            hashed_bytes,
        } => reporter.event(Event::Scanned {
            files,
            hashed_bytes,
        }),
        ScanEvent::Warning { path, message } => reporter.event(Event::ScanWarning {
            path,
            message: &message,
        }),
        ScanEvent::Queued {
            root,
            path,
            size,
            sha256,
        } => {
            let full = root.as_path().join(path.as_path());
            // What a dry run would queue is its result: stdout, for people.
            if args.dry_run && !config.json() && !config.quiet() {
                println!("would queue {} ({})", full.display(), human_bytes(size));
            }
            reporter.event(Event::Queued {
                path: &full,
                size,
                sha256,
                dry_run: args.dry_run,
            });
        }
    })?;
    reporter.event(Event::ScanSummary {
        summary: &summary,
        dry_run: args.dry_run,
    });
    if let Some(limit) = summary.stopped_at_limit {
        return Err(LimitReached { held: limit, limit }.into());
    }
    let code = if summary.warnings > 0 {
        error::JOBS_FAILED
    } else {
        error::SUCCESS
    };
    Ok((code, summary))
}

/// `ferry upload`: 0 when every job succeeded, 3 when failed jobs are
/// listed, 130 when interrupted, 1 when the credentials were refused.
pub fn upload(config: &Config, args: &TransferArgs) -> anyhow::Result<u8> {
    let store = open_for_change(config)?;
    let settings = config.transfer_settings(args, None, |url| {
        store
            .jobs()
            .iter()
            .any(|job| job.destination.url == url && Action::Process.selects(job))
    })?;
    let reporter = report::reporter(&output_for(config, args))?;
    upload_jobs(args, store, settings, &reporter, None)
}

fn output_for(config: &Config, args: &TransferArgs) -> report::Output {
    report::Output {
        stats: args.stats,
        ..config.output.clone()
    }
}

/// Runs the upload, then tells the summary and the failures list, and
/// writes `--failed-list`.
fn upload_jobs(
    args: &TransferArgs,
    store: Store,
    settings: upload::Settings,
    reporter: &Arc<dyn Reporter>,
    scanned: Option<ScanCounts>,
) -> anyhow::Result<u8> {
    let (mut summary, failures) = upload::run(store, settings, reporter.clone())?;
    summary.scanned = scanned;
    reporter.event(Event::Summary(&summary));
    for job in &failures {
        reporter.event(Event::FailureListed { job });
    }
    if let Some(path) = &args.failed_list {
        write_failed_list(path, &failures)?;
    }
    if let Some(reason) = summary.stopped_by {
        anyhow::bail!(reason);
    }
    Ok(if summary.interrupted {
        error::INTERRUPTED
    } else if summary.failures_listed > 0 {
        error::JOBS_FAILED
    } else {
        error::SUCCESS
    })
}

/// The failed files' paths, one per line, replacing the file atomically
/// (empty when nothing failed, so a script never reads a stale list).
fn write_failed_list(path: &std::path::Path, failures: &[Job]) -> anyhow::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    crate::journal::atomic_file::write(path, ".ferry-failed-", |out| {
        for job in failures {
            out.write_all(job.resource.source().as_os_str().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|(at, error)| anyhow::anyhow!("--failed-list: {}: {error}", at.display()))
}

/// `ferry sync`: scan, then upload the destination's jobs.
pub fn sync(config: &Config, args: &SyncArgs) -> anyhow::Result<u8> {
    let destination = config.destination(&args.scan.to, args.scan.protocol)?;
    let mut settings = config.transfer_settings(&args.transfer, Some(&args.scan.to), |url| {
        url == destination.url
    })?;
    settings.only = Some(destination);
    let reporter = report::reporter(&output_for(config, &args.transfer))?;
    let (scanned, summary) = scan_with(config, &args.scan, reporter.as_ref())?;
    if args.scan.dry_run {
        return Ok(scanned);
    }
    let counts = ScanCounts {
        skipped: summary.skipped,
        duplicates: summary.duplicates,
        already: summary.known,
    };
    let uploaded = upload_jobs(
        &args.transfer,
        open_for_change(config)?,
        settings,
        &reporter,
        Some(counts),
    )?;
    Ok(if uploaded == error::SUCCESS {
        scanned
    } else {
        uploaded
    })
}

/// `ferry probe`: 0 when the destination answers and takes the credentials, 1 otherwise.
pub fn probe(config: &Config, args: &ProbeArgs) -> anyhow::Result<u8> {
    let text = args
        .destination
        .as_ref()
        .or(args.to.as_ref())
        .expect("clap requires one");
    let destination = config.destination(text, ProtocolChoice::Auto)?;
    if destination.protocol == Protocol::Local {
        let folder = std::path::Path::new(&destination.url);
        let writable = tempfile::tempfile_in(folder).is_ok();
        if config.json() {
            print_json_line(&serde_json::json!({
                "url": destination.url, "auto_picks": "local", "writable": writable
            }))?;
        } else {
            println!(
                "{}: a local folder, {}",
                destination.url,
                if writable {
                    "writable"
                } else {
                    "not writable (or missing)"
                }
            );
        }
        return Ok(if writable {
            error::SUCCESS
        } else {
            error::RUNTIME_ERROR
        });
    }
    let name = config.named(text).map(|(name, _)| name);
    let report = upload::describe(
        &destination.url,
        &config.request_headers(&args.credentials, name)?,
    )?;
    if config.json() {
        print_json_line(&report)?;
    } else {
        let or_none = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let size = |limit: Option<u64>| limit.map_or("none announced".to_owned(), human_bytes);
        println!("{}", report.url);
        println!(
            "  OPTIONS:        HTTP {}, credentials {}",
            report.status, report.credentials
        );
        println!(
            "  auto picks:     {}",
            format!("{:?}", report.auto_picks).to_lowercase()
        );
        println!(
            "  IETF interop:   {}",
            or_none(
                report
                    .ietf_interop_versions
                    .iter()
                    .map(u8::to_string)
                    .collect()
            )
        );
        println!("  tus versions:   {}", or_none(report.tus_versions.clone()));
        println!(
            "  tus extensions: {}",
            or_none(report.tus_extensions.clone())
        );
        println!(
            "  tus checksums:  {}",
            or_none(report.tus_checksum_algorithms.clone())
        );
        println!("  max size:       {}", size(report.max_size));
        println!("  max append:     {}", size(report.max_append_size));
    }
    if report.credentials == "refused" {
        anyhow::bail!(
            "{}: the server refused the credentials (HTTP {}); check -H and FERRY_TOKEN",
            report.url,
            report.status
        );
    }
    Ok(error::SUCCESS)
}
