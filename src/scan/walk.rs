//! Finding the files a scan looks at: a walk of the roots, or just the
//! files a watcher names, under the same rules.
//!
//! The walk prunes folders by the filter, follows symlinks only on request
//! and never opens special files. A watcher's list skips the walk (a new
//! photo in a tree of 100,000 must not cost a walk of all of them), so the
//! rules the walk applies on its way down are applied to each file's path
//! instead; `consider` is the per-file part both share.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{ScanEvent, ScanOptions, ScanSummary};
use crate::digest::FileStat;
use crate::error::UsageError;
use crate::journal::job::{MediaKind, Protocol};
use crate::journal::paths::JournalPath;
use crate::scan::filter::{Filter, Skip};

pub(super) struct Root {
    pub(super) real: PathBuf,
    pub(super) journal: JournalPath,
}

pub(super) struct Candidate {
    pub(super) root: usize,
    pub(super) relative: JournalPath,
    pub(super) stat: FileStat,
    pub(super) kind: MediaKind,
    /// A sidecar taken only beside a media file of its name: the rule that
    /// leaves it out when there is none.
    pub(super) alone: Option<&'static str>,
}

impl Candidate {
    pub(super) fn path(&self, roots: &[Root]) -> PathBuf {
        roots[self.root].real.join(self.relative.as_path())
    }
}

/// Checks each root: it must exist and be a folder. Returns canonical paths.
pub(super) fn resolve_roots(roots: &[PathBuf]) -> anyhow::Result<Vec<Root>> {
    roots
        .iter()
        .map(|root| {
            let real = std::fs::canonicalize(root).map_err(|error| {
                UsageError(format!(
                    "{}: cannot use as a folder to scan: {error}",
                    root.display()
                ))
            })?;
            if !real.is_dir() {
                return Err(UsageError(format!(
                    "{}: is a file, not a folder to scan",
                    root.display()
                ))
                .into());
            }
            Ok(Root {
                journal: JournalPath::new(real.clone()),
                real,
            })
        })
        .collect()
}

fn name_bytes(path: &Path) -> Vec<u8> {
    path.file_name()
        .map(|name| name.as_encoded_bytes().to_vec())
        .unwrap_or_default()
}

pub(super) fn walk(
    roots: &[Root],
    options: &ScanOptions,
    filter: &Filter,
    summary: &mut ScanSummary,
    on_event: &mut dyn FnMut(ScanEvent),
) -> Vec<Candidate> {
    let now = SystemTime::now();
    let mut candidates = Vec::new();
    let destination = local_destination(options);
    for (index, root) in roots.iter().enumerate() {
        // A local destination's files are the backup, not sources: a file
        // there is a duplicate of its own source, and clearing it would
        // delete the copy that was made.
        let met_destination = std::cell::Cell::new(None);
        if let Some(folder) = destination.as_ref().filter(|d| root.real.starts_with(d)) {
            // Said at any verbosity, and a warning's exit code: a whole
            // folder asked for and nothing taken from it.
            summary.warnings += 1;
            on_event(ScanEvent::Warning {
                path: &root.real,
                message: format!(
                    "not scanned: it is in the destination folder {}, whose files are the backup, not sources",
                    folder.display()
                ),
            });
            continue;
        }
        let mut walker = walkdir::WalkDir::new(&root.real)
            .follow_links(options.follow_links)
            .sort_by_file_name();
        if let Some(depth) = options.max_depth {
            walker = walker.max_depth(depth);
        }
        let walker = walker.into_iter().filter_entry(|entry| {
            if entry.file_type().is_dir() && destination.as_deref() == Some(entry.path()) {
                met_destination.set(Some(entry.path().to_owned()));
                return false;
            }
            entry.depth() == 0
                || !entry.file_type().is_dir()
                || filter.enter_dir(
                    entry
                        .path()
                        .strip_prefix(&root.real)
                        .unwrap_or(entry.path()),
                    &name_bytes(entry.path()),
                )
        });
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error.path().unwrap_or(&root.real).to_owned();
                    let message = match error.loop_ancestor() {
                        Some(ancestor) => format!(
                            "symlink loop: leads back to {}; not followed",
                            ancestor.display()
                        ),
                        None => match error.io_error() {
                            Some(io) => format!("cannot read: {io}"),
                            None => error.to_string(),
                        },
                    };
                    summary.warnings += 1;
                    on_event(ScanEvent::Warning {
                        path: &path,
                        message,
                    });
                    continue;
                }
            };
            let file_type = entry.file_type();
            if file_type.is_dir() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(&root.real)
                .unwrap_or(entry.path())
                .to_owned();
            if !file_type.is_file() {
                // Symlinks not followed, FIFOs, sockets and devices: never opened.
                summary.skipped += 1;
                on_event(ScanEvent::Skipped {
                    relative: &relative,
                    rule: NOT_REGULAR,
                });
                continue;
            }
            let meta = entry.metadata();
            let file = Met {
                root: index,
                path: entry.path(),
                relative,
                meta,
            };
            candidates.extend(consider(file, options, filter, now, summary, on_event));
        }
        if let Some(folder) = met_destination.take() {
            summary.skipped += 1;
            on_event(ScanEvent::Skipped {
                relative: folder.strip_prefix(&root.real).unwrap_or(&folder),
                rule: DESTINATION_FOLDER,
            });
        }
    }
    candidates
}

/// The destination folder, when it is a local one that exists.
fn local_destination(options: &ScanOptions) -> Option<PathBuf> {
    let destination = &options.destination;
    (destination.protocol == Protocol::Local)
        .then(|| std::fs::canonicalize(&destination.url).ok())
        .flatten()
}

const DESTINATION_FOLDER: &str =
    "the destination folder, left out: its files are the backup, not sources";

const NOT_REGULAR: &str =
    "not a regular file (a symlink not followed, a FIFO, a socket or a device)";

/// A regular file the walk (or a watcher) met under one of the roots.
struct Met<'a, E> {
    root: usize,
    path: &'a Path,
    relative: PathBuf,
    meta: Result<std::fs::Metadata, E>,
}

/// Whether a regular file met becomes a candidate: the filter, the size
/// and age rules, and a stat that can be read.
fn consider<E: std::fmt::Display>(
    file: Met<'_, E>,
    options: &ScanOptions,
    filter: &Filter,
    now: SystemTime,
    summary: &mut ScanSummary,
    on_event: &mut dyn FnMut(ScanEvent),
) -> Option<Candidate> {
    summary.seen += 1;
    let name = name_bytes(file.path);
    let mut alone = None;
    let kind = match filter.keep_file(&file.relative, &name) {
        Ok(kind) => kind,
        Err(skip @ (Skip::Sidecar | Skip::NotMedia))
            if std::str::from_utf8(&name).is_ok_and(super::assets::is_sidecar_name) =>
        {
            alone = Some(skip.rule());
            MediaKind::Other
        }
        Err(skip) => {
            summary.skipped += 1;
            on_event(ScanEvent::Skipped {
                relative: &file.relative,
                rule: skip.rule(),
            });
            return None;
        }
    };
    let meta = match file.meta {
        Ok(meta) => meta,
        Err(error) => {
            summary.warnings += 1;
            on_event(ScanEvent::Warning {
                path: file.path,
                message: format!("cannot read: {error}"),
            });
            return None;
        }
    };
    let stat = FileStat::of(&meta);
    let too_new = meta
        .modified()
        .ok()
        .and_then(|modified| now.duration_since(modified).ok())
        .is_some_and(|age| age < options.min_age)
        && !options.min_age.is_zero();
    let rule = if stat.size < options.min_size {
        Some("smaller than --min-size")
    } else if options.max_size.is_some_and(|max| stat.size > max) {
        Some("larger than --max-size")
    } else if too_new {
        Some("changed more recently than --min-age")
    } else {
        None
    };
    if let Some(rule) = rule {
        summary.skipped += 1;
        on_event(ScanEvent::Skipped {
            relative: &file.relative,
            rule,
        });
        return None;
    }
    Some(Candidate {
        root: file.root,
        relative: JournalPath::new(file.relative),
        stat,
        kind,
        alone,
    })
}

/// Instead of walking, looks at just these files (a watcher's settled
/// ones), with the rules the walk applies on its way down to them: a file
/// outside every root, below `--max-depth`, in a folder the filter prunes,
/// or a symlink not followed is left out; a file gone again is not seen.
pub(super) fn visit_only(
    files: &[PathBuf],
    roots: &[Root],
    options: &ScanOptions,
    filter: &Filter,
    summary: &mut ScanSummary,
    on_event: &mut dyn FnMut(ScanEvent),
) -> Vec<Candidate> {
    let now = SystemTime::now();
    let mut found: Vec<(usize, PathBuf, PathBuf)> = files
        .iter()
        .filter_map(|file| {
            let folder = std::fs::canonicalize(file.parent()?).ok()?;
            let full = folder.join(file.file_name()?);
            let index = roots.iter().position(|root| full.starts_with(&root.real))?;
            let relative = full.strip_prefix(&roots[index].real).ok()?.to_owned();
            Some((index, full, relative))
        })
        .collect();
    found.sort();
    found.dedup();
    let destination = local_destination(options);
    let mut candidates = Vec::new();
    for (index, full, relative) in found {
        if destination.as_ref().is_some_and(|d| full.starts_with(d)) {
            summary.skipped += 1;
            on_event(ScanEvent::Skipped {
                relative: &relative,
                rule: DESTINATION_FOLDER,
            });
            continue;
        }
        let depth = relative.components().count();
        if !filter.enters_folders_of(&relative) || options.max_depth.is_some_and(|max| depth > max)
        {
            summary.skipped += 1;
            on_event(ScanEvent::Skipped {
                relative: &relative,
                rule: "in a folder left out (--exclude, hidden, or below --max-depth)",
            });
            continue;
        }
        let Ok(own) = std::fs::symlink_metadata(&full) else {
            continue;
        };
        let meta = match own.file_type() {
            kind if kind.is_symlink() && options.follow_links => std::fs::metadata(&full),
            _ => Ok(own),
        };
        match &meta {
            Ok(meta) if meta.is_dir() => continue,
            Ok(meta) if !meta.is_file() => {
                // A symlink not followed, a FIFO, a socket or a device.
                summary.skipped += 1;
                on_event(ScanEvent::Skipped {
                    relative: &relative,
                    rule: NOT_REGULAR,
                });
                continue;
            }
            _ => {}
        }
        let file = Met {
            root: index,
            path: &full,
            relative,
            meta,
        };
        candidates.extend(consider(file, options, filter, now, summary, on_event));
    }
    candidates
}
