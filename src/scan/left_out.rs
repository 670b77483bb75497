//! Files a rule left out of a scan, kept by the family they would have
//! joined, so that clearing a card never splits an asset: a Live Photo's
//! still is not deleted while its video, left out by `--include`, stays.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::walk::Candidate;
use super::{ScanEvent, assets, file_name, siblings};

/// Files a rule left out (a filter, `--max-size`, `--min-age`...), by the
/// family they would have joined: clearing a family with a member left on
/// the card would split its asset, so that family stays whole on the card.
/// By folder and base name across all roots (a family of another root's
/// folder of the same name is held too: the safe side).
#[derive(Default)]
pub(super) struct LeftOut(HashMap<(PathBuf, String), (PathBuf, &'static str)>);

impl LeftOut {
    pub(super) fn note(&mut self, event: &ScanEvent) {
        let ScanEvent::Skipped { relative, rule } = event else {
            return;
        };
        // As the walk groups them: a Takeout `.json` joins its photo too.
        if let Some(family) = siblings::family_of(relative) {
            (self.0)
                .entry(family)
                .or_insert((relative.to_path_buf(), rule));
        }
    }

    /// Why the family `first` leads stays on the card, when a file of its
    /// name was left out.
    pub(super) fn splits(&self, first: &Candidate) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let path = first.relative.as_path();
        let base = assets::family_base(file_name(first), first.kind)?;
        let folder = path.parent().unwrap_or(Path::new("")).to_owned();
        let (left, rule) = self.0.get(&(folder, base))?;
        Some(format!(
            "{} of its name was left out ({rule}), so its asset would not leave the card whole",
            left.display()
        ))
    }
}
