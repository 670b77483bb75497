//! `ferry verify`: checks succeeded jobs at their destinations, prints one
//! line per job and the counts, and with `--requeue` puts the missing and
//! different ones back in the queue. Exit 0 only when every file was
//! confirmed; 3 when one is missing, different, or could not be checked
//! ("unknown"), so that `ferry verify || alert` in cron never stays silent
//! about a file nobody could vouch for; 1 when the credentials are refused,
//! or when there is nothing to check (no uploaded job, or none to `--to`).
//!
//! The journal is only read while the checks run (other commands go on);
//! `--requeue` then opens it for change, as `ferry retry` does.

use std::collections::HashMap;

use serde::Serialize;

use super::{open_for_change, open_to_report, print_json_line};
use crate::cli::VerifyArgs;
use crate::cli::settings::Config;
use crate::digest::FileStat;
use crate::error;
use crate::journal::job::{Destination, Job, JobId, State};
use crate::report::stream;
use crate::upload::ProtocolChoice;
use crate::upload::verify::{self, Checked, Verdict};

#[derive(Serialize)]
struct Line<'a> {
    id: &'a JobId,
    path: String,
    /// The name the destination reported storing the file under.
    #[serde(skip_serializing_if = "Option::is_none")]
    stored: Option<String>,
    destination: &'a str,
    result: Verdict,
    detail: &'a str,
}

pub fn verify(config: &Config, args: &VerifyArgs) -> anyhow::Result<u8> {
    let destination = (args.to.as_deref())
        .map(|to| config.destination(to, ProtocolChoice::Auto))
        .transpose()?;
    let mut chosen = HashMap::new();
    let jobs: Vec<Job> = {
        let store = open_to_report(config)?;
        let mut jobs = Vec::new();
        if args.ids.is_empty() {
            jobs.extend(
                store
                    .jobs()
                    .iter()
                    .filter(|job| job.state == State::Succeeded)
                    .cloned(),
            );
        } else {
            for prefix in &args.ids {
                let id = store.resolve(prefix)?;
                let job = store.job(&id).expect("resolved");
                if job.state != State::Succeeded {
                    anyhow::bail!(
                        "job {id} is {}; only succeeded jobs can be verified",
                        job.state
                    );
                }
                jobs.push(job.clone());
            }
        }
        jobs.retain(|job| (destination.as_ref()).is_none_or(|to| job.destination.url == to.url));
        if jobs.is_empty() {
            anyhow::bail!("{}", nothing_to_verify(config, destination.as_ref()));
        }
        for job in &jobs {
            if let Some(protocol) = store.chosen_protocol(&job.destination.url) {
                chosen.insert(job.destination.url.clone(), protocol);
            }
        }
        jobs
    };
    let mut settings = config.credential_settings(&args.credentials, |url| {
        jobs.iter().any(|job| job.destination.url == url)
    })?;
    settings.retries = args.retries;
    let bar = progress_bar(config, jobs.len() as u64);
    let show = |checked: &Checked| {
        bar.inc(1);
        let printed = if config.json() {
            print_json_line(&Line {
                id: &checked.job.id,
                path: checked
                    .job
                    .resource
                    .path
                    .as_path()
                    .to_string_lossy()
                    .into_owned(),
                stored: checked.job.stored_as(),
                destination: &checked.job.destination.url,
                result: checked.verdict,
                detail: &checked.detail,
            })
        } else if !config.quiet() || !checked.verdict.is_confirmed() {
            let line = format!(
                "{:<10} {}  ({})",
                checked.verdict.label(),
                checked.job.shown_path(),
                checked.detail
            );
            bar.suspend(|| stream::out_line(&line)).map_err(Into::into)
        } else {
            Ok(())
        };
        // A closed stdout ends the printing, not the checks' results.
        let _ = printed;
    };
    let concurrency = usize::from(args.concurrency);
    let checked = verify::run(jobs, &settings, &chosen, concurrency, &show)?;
    bar.finish_and_clear();

    let count = |verdict| checked.iter().filter(|one| one.verdict == verdict).count();
    // A job whose source was cleared has nothing left to send again.
    let mut unsendable = Vec::new();
    let mut bad: Vec<JobId> = Vec::new();
    for one in checked.iter().filter(|one| one.verdict.is_bad()) {
        match why_not_requeued(&one.job) {
            Some(why) => unsendable.push((one.job.resource.source(), why)),
            None => bad.push(one.job.id.clone()),
        }
    }
    let counts = format!(
        "verified {}, size only {}, missing {}, different {}, unknown {}",
        count(Verdict::Verified),
        count(Verdict::SizeOnly),
        count(Verdict::Missing),
        count(Verdict::Different),
        count(Verdict::Unknown)
    );
    let unconfirmed = checked.len() - count(Verdict::Verified) - count(Verdict::SizeOnly);
    if !config.quiet() || unconfirmed > 0 {
        stream::err_line(&counts);
    }
    if args.requeue {
        for (source, why) in &unsendable {
            stream::err_line(&format!("not requeued: {}: {why}", source.display()));
        }
    }
    if args.requeue && !bad.is_empty() {
        let mut store = open_for_change(config)?;
        store.apply_all(&bad, Job::requeue)?;
        stream::err_line(&format!(
            "requeued {}: the next `ferry upload` sends them again",
            crate::format::count(bad.len() as u64, "job")
        ));
    }
    Ok(match unconfirmed {
        0 => error::SUCCESS,
        _ => error::JOBS_FAILED,
    })
}

/// Why a run would check nothing: never a pass, since a `ferry verify`
/// in cron with another journal (another HOME) or a mistyped `--to`
/// would otherwise vouch for a backup it never looked at.
fn nothing_to_verify(config: &Config, to: Option<&Destination>) -> String {
    let journal = config.journal.display();
    match to {
        Some(to) => format!(
            "nothing to verify: no job in the journal {journal} was uploaded to {}; `ferry jobs --state succeeded` lists where the uploads went",
            to.url
        ),
        None => format!(
            "nothing to verify: no job in the journal {journal} has been uploaded yet (check --journal or FERRY_JOURNAL)"
        ),
    }
}

/// Why `job` cannot be sent again, when its source was cleared after its
/// upload and the file it names is not at its path now (missing, or
/// another file there); `None` when it can, or when its path cannot be
/// read (the upload then says why).
fn why_not_requeued(job: &Job) -> Option<String> {
    let cleared = job.cleared.as_ref()?;
    let source = job.resource.source();
    let now_there = match std::fs::symlink_metadata(&source) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => "",
        Ok(meta)
            if job
                .resource
                .stat()
                .what_changed(&FileStat::of(&meta))
                .is_some() =>
        {
            ", and the file at its path now is another"
        }
        _ => return None,
    };
    let left = |to: &std::path::Path| std::fs::symlink_metadata(to).is_ok();
    Some(match cleared.to.as_ref().map(|to| to.as_path()) {
        Some(to) if left(to) => format!(
            "its source was moved to {} after its upload (--move-to){now_there}: that is the copy left",
            to.display()
        ),
        Some(to) => format!(
            "its source was moved to {} after its upload (--move-to), and is not there now{now_there}: ferry knows of no copy left",
            to.display()
        ),
        None => format!(
            "its source was deleted after its upload (--delete-after){now_there}: ferry knows of no copy left"
        ),
    })
}

/// A bar on stderr at a terminal, hidden otherwise.
fn progress_bar(config: &Config, jobs: u64) -> indicatif::ProgressBar {
    use crate::report::ProgressStyle;
    if config.json() || config.quiet() || config.output.progress != ProgressStyle::Bars {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(jobs);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("verifying {bar:30} {pos}/{len} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}
