//! Running `scan`, `upload` and `sync`.
//!
//! The glue opens the store, wires the reporters to the events, and turns
//! the outcome into an exit code.

use std::io::Write;
use std::sync::Arc;

use crate::cli::settings::Config;
use crate::error;
use crate::format::human_bytes;
use crate::journal::job::{Action, Destination, Job, Protocol};
use crate::journal::paths::Readable;
use crate::journal::store::LimitReached;
use crate::journal::store::Store;
use crate::report::{self, Event, Reporter, ScanCounts, UploadSummary};
use crate::scan::ahead::ReadAhead;
use crate::scan::{self, Pipe, ScanEvent, ScanOptions, ScanSummary, ToUpload};
use crate::upload;
use crate::upload::Clearing;
use std::sync::Mutex;

use super::{open_for_change, open_read_only};
use crate::cli::{ScanArgs, SyncArgs, TransferArgs, UploadArgs};
use crate::upload::ProtocolChoice;
use crate::upload::clear::{AfterUpload, CarriedSource};

/// `ferry scan`: exit 0 when clean, 3 when files could not be read.
pub fn scan(config: &Config, args: &ScanArgs) -> anyhow::Result<u8> {
    let reporter = report::reporter(&config.output)?;
    let store = Mutex::new(open_for_scan(config, args)?);
    let clearing = Clearing::default();
    Ok(scan_with(
        config,
        args,
        &store,
        reporter.as_ref(),
        None,
        &clearing,
        None,
        None,
    )?
    .0)
}

/// The journal as a scan needs it: read-only for a dry run.
fn open_for_scan(config: &Config, args: &ScanArgs) -> anyhow::Result<Store> {
    Ok(if args.dry_run {
        let mut store = open_read_only(config)?;
        store.set_job_limit(config.job_limit);
        store
    } else {
        open_for_change(config)?
    })
}

/// Where a relative path goes at a destination, for a dry run to show:
/// the URL or folder with the path after it.
fn joined(destination: &str, relative: &std::path::Path) -> String {
    let base = destination.trim_end_matches('/');
    format!("{base}/{}", relative.display())
}

/// Scans; a dry run lists what it would queue, and with `after` (a sync's
/// `--delete-after` or `--move-to`) what would then happen to each file,
/// and `clearing` learns the files a job already carries and those held.
/// With `only`, just those files under the roots are looked at. With a
/// `pipe`, each new job is handed to the upload running beside the scan.
#[allow(clippy::too_many_arguments)]
fn scan_with(
    config: &Config,
    args: &ScanArgs,
    store: &Mutex<Store>,
    reporter: &dyn Reporter,
    after: Option<&AfterUpload>,
    clearing: &Clearing,
    only: Option<Vec<std::path::PathBuf>>,
    pipe: Option<&Pipe>,
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
        only,
        video_clock: args.video_clock.into(),
        layouts: config.layouts(args)?,
    };
    let people = !config.json() && !config.quiet();
    // What was left out and why: a dry run's result (stdout), or with -v
    // a note beside the run (stderr).
    let left_out = |line: String| {
        let _ = match args.dry_run {
            true if people => crate::report::stream::out_line(&line),
            false if people && config.verbose() => {
                crate::report::stream::err_line(&line);
                Ok(())
            }
            _ => Ok(()),
        };
    };
    let destination = options.destination.url.clone();
    let summary = scan::scan(store, &options, pipe, &mut |event| match event {
        ScanEvent::Skipped { relative, rule } => {
            left_out(format!("skipped {}: {rule}", Readable(relative)));
        }
        ScanEvent::Duplicate {
            source,
            relative,
            twin,
            planned,
        } => {
            // A sync clears it with its twin: a dry run says so on this
            // one line (the real run's clearing says what it did).
            let then = (after.filter(|_| planned || args.dry_run))
                .map(|after| format!(", {}", after.would(source, relative, &options.destination)))
                .unwrap_or_default();
            left_out(format!(
                "duplicate {}: same content as {}{then}",
                Readable(relative),
                Readable(twin)
            ));
        }
        // With --delete-after or --move-to, files already carried by a job
        // are cleared too, once the destination confirms them.
        ScanEvent::Carried {
            source,
            relative,
            stat,
            twin,
            same_path,
            read_now,
            asset,
        } => {
            if let Some(after) = after {
                // A duplicate's line said it already (`Duplicate`).
                if args.dry_run && same_path && !config.json() && !config.quiet() {
                    let _ = crate::report::stream::out_line(&format!(
                        "would check {} (already uploaded), {}",
                        Readable(source),
                        after.would(source, relative.as_path(), &options.destination)
                    ));
                }
                clearing.carry(CarriedSource {
                    source: source.to_owned(),
                    relative: relative.as_path().to_owned(),
                    stat,
                    twin: twin.clone(),
                    same_path,
                    read_now,
                    asset: asset.map(|asset| asset.id.clone()),
                });
            }
        }
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
        ScanEvent::Held { source, because } => {
            if after.is_some() {
                clearing.hold(source.to_owned(), because);
            }
        }
        ScanEvent::Warning { path, message } => reporter.event(Event::ScanWarning {
            path,
            message: &message,
        }),
        ScanEvent::Queued {
            root,
            path,
            target,
            size,
            sha256,
            taken,
            asset,
        } => {
            let full = root.as_path().join(path.as_path());
            // What a dry run would queue is its result: stdout, for people.
            if args.dry_run && !config.json() && !config.quiet() {
                let then = after
                    .map(|after| {
                        format!(
                            ", {}",
                            after.would(&full, path.as_path(), &options.destination)
                        )
                    })
                    .unwrap_or_default();
                let member = asset
                    .map(|asset| {
                        format!(
                            ", {} of asset {}",
                            asset.role.name(),
                            asset.id.get(..8).unwrap_or(&asset.id)
                        )
                    })
                    .unwrap_or_default();
                let _ = crate::report::stream::out_line(&format!(
                    "would queue {} ({}) to {}{member}{then}",
                    path.display(),
                    human_bytes(size),
                    joined(&destination, target.as_path())
                ));
            }
            reporter.event(Event::Queued {
                path: &full,
                target: target.as_path(),
                size,
                sha256,
                taken,
                asset,
                dry_run: args.dry_run,
            });
        }
    });
    let summary = summary?;
    reporter.event(Event::ScanSummary {
        summary: &summary,
        dry_run: args.dry_run,
    });
    if let Some(limit) = summary.stopped_at_limit {
        let held = summary.held_at_limit;
        return Err(LimitReached { held, limit }.into());
    }
    let code = if summary.warnings > 0 {
        error::JOBS_FAILED
    } else {
        error::SUCCESS
    };
    Ok((code, summary))
}

/// `ferry upload`: 0 when every job succeeded, 3 when failed jobs are
/// listed, 130 when interrupted, 1 when the credentials were refused. With
/// `--to`, only that destination's jobs are processed and reported.
pub fn upload(config: &Config, upload: &UploadArgs) -> anyhow::Result<u8> {
    let args = &upload.transfer;
    let only = (upload.to.as_deref())
        .map(|to| config.destination(to, ProtocolChoice::Auto))
        .transpose()?;
    let store = open_for_change(config)?;
    let mut settings = config.transfer_settings(args, upload.to.as_deref(), |url| {
        store.jobs().iter().any(|job| {
            job.destination.url == url
                && Action::Process.selects(job)
                && only.as_ref().is_none_or(|only| only.url == url)
        })
    })?;
    settings.only = only;
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
    let prepared = upload::Prepared::default();
    Ok(upload_summed(args, store, settings, prepared, reporter, scanned)?.0)
}

/// `upload_jobs`, also giving back the run's summary.
fn upload_summed(
    args: &TransferArgs,
    store: Store,
    settings: upload::Settings,
    prepared: upload::Prepared,
    reporter: &Arc<dyn Reporter>,
    scanned: Option<ScanCounts>,
) -> anyhow::Result<(u8, UploadSummary)> {
    let shared = upload::Shared::new(store);
    let ran = upload::run(shared, settings, prepared, reporter.clone(), None)?;
    told(args, ran, reporter, scanned)
}

/// Tells how a run went: its summary, the failures list, `--failed-list`,
/// and its exit code.
fn told(
    args: &TransferArgs,
    (mut summary, failures): (UploadSummary, Vec<Job>),
    reporter: &Arc<dyn Reporter>,
    scanned: Option<ScanCounts>,
) -> anyhow::Result<(u8, UploadSummary)> {
    summary.scanned = scanned;
    reporter.event(Event::Summary(&summary));
    for job in &failures {
        reporter.event(Event::FailureListed { job });
    }
    if let Some(path) = &args.failed_list {
        write_failed_list(path, &failures)?;
    }
    if let Some(reason) = summary.stopped_by.clone().filter(|_| !summary.on_schedule) {
        anyhow::bail!(reason);
    }
    let code = if summary.interrupted {
        error::INTERRUPTED
    } else if summary.failures_listed > 0 || summary.requeued > 0 {
        error::JOBS_FAILED
    } else {
        error::SUCCESS
    };
    Ok((code, summary))
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

/// After a sync's scan ended well, the destination's jobs that earlier
/// runs left pending are handed to the upload (those the scan handed over
/// already are passed over there). True when all went well.
fn hand_over_waiting(
    shared: &upload::Shared,
    destination: &Destination,
    pipe: &Pipe,
) -> anyhow::Result<bool> {
    let store = shared.lock();
    let waiting: Vec<scan::Handed> = (store.select(Action::Process))
        .filter(|job| job.destination.url == destination.url)
        .map(|job| scan::Handed {
            job: job.id.clone(),
            reserved: None,
        })
        .collect();
    drop(store);
    for handed in waiting {
        let _ = pipe.jobs.send(ToUpload::Job(handed));
    }
    Ok(true)
}

/// `ferry sync`: scan, and upload the destination's jobs as they are queued.
pub fn sync(config: &Config, args: &SyncArgs) -> anyhow::Result<u8> {
    Ok(sync_files(config, args, None, |_, _| Ok(()))?.0)
}

/// A sync whose scan looks at just `only` (when given) instead of walking
/// the roots, and which hands the store and the destination to `prepare`
/// before the scan (so that the jobs a watch requeues are not counted as
/// failed by it): `ferry watch`'s batches. Also gives back the
/// upload's summary (none for a dry run).
pub fn sync_files(
    config: &Config,
    args: &SyncArgs,
    only: Option<Vec<std::path::PathBuf>>,
    prepare: impl FnOnce(&mut Store, &Destination) -> anyhow::Result<()> + Send,
) -> anyhow::Result<(u8, Option<UploadSummary>)> {
    let destination = config.destination(&args.scan.to, args.scan.protocol)?;
    // A layout that cannot be used is a usage error before anything is made.
    config.layouts(&args.scan)?;
    let mut settings = config.transfer_settings(&args.transfer, Some(&args.scan.to), |url| {
        url == destination.url
    })?;
    settings.only = Some(destination.clone());
    settings.only_roots = (args.scan.roots.iter())
        .map(|root| std::fs::canonicalize(root).unwrap_or_else(|_| root.clone()))
        .collect();
    let reporter = report::reporter(&output_for(config, &args.transfer))?;
    let after = settings.after_upload.clone();
    // What would stop the scan before it reads anything stops the sync
    // before the destination is touched (a local folder made) or anything
    // is sent.
    scan::check_roots(&args.scan.roots)?;
    let filter = scan::filter::Filter::new(config.filter(&args.scan))?;
    if let Some(after) = &after {
        let walked = |below: &std::path::Path| filter.enters_folder(below);
        upload::clear::refuse_moving_into_roots(after, &settings.only_roots, walked)?;
    }
    let mut store = open_for_scan(config, &args.scan)?;
    let mut prepared = upload::Prepared::default();
    if !args.scan.dry_run {
        // Before the scan queues anything: a destination that cannot be
        // reached, refuses the credentials, or cannot confirm what
        // --delete-after needs leaves no jobs behind.
        (store, prepared) = upload::check_destination(store, &settings, &destination)?;
        prepare(&mut store, &destination)?;
    } else if destination.protocol == Protocol::Sftp {
        // Connecting writes nothing (no folder is made): a dry run meets
        // the host key, the login and the --delete-after refusal the sync
        // would meet.
        let looking = upload::Settings {
            dry_run: true,
            ..settings.clone()
        };
        (store, _) = upload::check_destination(store, &looking, &destination)?;
    } else if destination.url.starts_with("http") {
        // A dry run writes nothing, but a destination it cannot reach, or
        // that refuses the credentials, fails it as it would fail the sync.
        let remembered = store.chosen_protocol(&destination.url);
        upload::check_reachable(&settings, &destination, remembered)?;
    }
    if args.scan.dry_run {
        let store = Mutex::new(store);
        let clearing = Clearing::default();
        let (scanned, _) = scan_with(
            config,
            &args.scan,
            &store,
            reporter.as_ref(),
            after.as_ref(),
            &clearing,
            only,
            None,
        )?;
        return Ok((scanned, None));
    }
    // The upload runs beside the scan and takes each new job as it is
    // queued, while its file is still in the page cache.
    let shared = upload::Shared::new(store);
    let (jobs, fed) = tokio::sync::mpsc::unbounded_channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    let pipe = Pipe {
        ahead: ReadAhead::new(scan::ahead::SYNC_BUDGET),
        jobs,
        stop: cancel.clone(),
    };
    let clearing = settings.clearing.clone();
    let fed = upload::Fed {
        jobs: fed,
        cancel: cancel.clone(),
    };
    let (scan_ended, ran) = std::thread::scope(|scope| {
        let scanning = scope.spawn(|| {
            let pipe = pipe;
            let scanned = scan_with(
                config,
                &args.scan,
                shared.store(),
                reporter.as_ref(),
                after.as_ref(),
                &clearing,
                only,
                Some(&pipe),
            );
            let prepared = match scanned.is_ok() && !pipe.stop.is_cancelled() {
                true => hand_over_waiting(&shared, &destination, &pipe),
                false => Ok(false),
            };
            let ok = matches!(prepared, Ok(true));
            let _ = pipe.jobs.send(ToUpload::Ended { ok });
            scanned.and_then(|scanned| prepared.map(|_| scanned))
        });
        let ran = upload::run(
            shared.clone(),
            settings,
            prepared,
            reporter.clone(),
            Some(fed),
        );
        // An upload that ended early (an error) stops a scan still going.
        cancel.cancel();
        let scan_ended = scanning
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (scan_ended, ran)
    });
    let ran = ran?;
    let counts = scan_ended.as_ref().ok().map(|(_, summary)| ScanCounts {
        skipped: summary.skipped,
        duplicates: summary.duplicates,
        already: summary.known,
        failed_before: summary.failed_before,
    });
    // What was uploaded is told even when the scan then failed.
    let (uploaded, summary) = told(&args.transfer, ran, &reporter, counts)?;
    let (scanned, _) = scan_ended?;
    let code = if uploaded == error::SUCCESS {
        scanned
    } else {
        uploaded
    };
    Ok((code, Some(summary)))
}
