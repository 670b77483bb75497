//! Where new jobs land under `--layout`, decided when they are queued so
//! that the journal, `jobs` and a dry run all show the same place.
//!
//! Two different files may render to one target (two cameras' `IMG_0001.JPG`
//! on the same day). The first keeps the name; the next gets `IMG_0001
//! (1).JPG`, as ferry's local and SFTP destinations number a name already
//! taken, so that no destination is asked to overwrite. The names already
//! given to this destination's jobs are known from the journal; files with
//! the same content are duplicates and never get this far.

use std::collections::HashMap;
use std::path::Path;

use crate::capture::Taken;
use crate::digest::Sha256;
use crate::journal::job::Destination;
use crate::journal::paths::JournalPath;
use crate::journal::store::Store;
use crate::landing::Layouts;
use crate::placement::numbered;

/// `path`'s bytes with ASCII letters in lower case.
fn folded(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_ascii_lowercase()
}

/// Numbered names tried for one target, at most.
const MAX_NUMBER: u32 = 10_000;

pub struct Targets<'a> {
    layouts: Option<&'a Layouts>,
    /// Target (ASCII letters folded, as a case-insensitive file system
    /// such as APFS, NTFS or exFAT compares them) -> the content a job of
    /// this destination puts there.
    claimed: HashMap<Vec<u8>, Sha256>,
}

impl<'a> Targets<'a> {
    pub fn new(store: &Store, destination: &Destination, layouts: Option<&'a Layouts>) -> Self {
        let claimed = match layouts {
            None => HashMap::new(),
            Some(_) => super::destination_jobs(store, destination)
                .map(|(_, job)| {
                    (
                        folded(job.resource.target_path().as_path()),
                        job.resource.sha256,
                    )
                })
                .collect(),
        };
        Targets { layouts, claimed }
    }

    /// `target` no longer holds `sha256` (its job was superseded): free for
    /// another file.
    pub fn release(&mut self, target: &Path, sha256: &Sha256) {
        let key = folded(target);
        if self.claimed.get(&key) == Some(sha256) {
            self.claimed.remove(&key);
        }
    }

    /// Where the file at `relative`, with `sha256`, taken `taken`, lands:
    /// `None` without a layout (at `relative`, as always).
    pub fn place(
        &mut self,
        relative: &Path,
        sha256: Sha256,
        taken: Taken,
    ) -> Result<Option<JournalPath>, String> {
        let Some(layouts) = self.layouts else {
            return Ok(None);
        };
        let wanted = layouts.render(relative, taken)?;
        for n in 0..=MAX_NUMBER {
            let target = match n {
                0 => wanted.clone(),
                n => numbered(&wanted, n),
            };
            match self.claimed.get(&folded(&target)) {
                Some(held) if *held != sha256 => continue,
                _ => {
                    self.claimed.insert(folded(&target), sha256);
                    return Ok(Some(JournalPath::from(target)));
                }
            }
        }
        Err(format!(
            "{} and {MAX_NUMBER} other files land on {}; change --layout",
            relative.display(),
            wanted.display()
        ))
    }
}
