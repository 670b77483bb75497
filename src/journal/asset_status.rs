//! Which assets are not whole at their destination: a member uploaded and
//! another failed, so the destination holds a Live Photo's still without
//! its video, or a photo without its sidecar. Read from the jobs alone,
//! for `ferry status`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::job::{Job, State};

/// An asset some of whose members succeeded and some failed.
#[derive(Debug, Serialize)]
pub struct IncompleteAsset {
    pub asset: String,
    pub destination: String,
    /// Members uploaded: their paths below the scanned folder, and roles.
    pub succeeded: Vec<String>,
    /// Members that failed, with their roles.
    pub failed: Vec<String>,
}

/// The incomplete assets among `jobs`, by asset and destination.
pub fn incomplete_assets<'j>(jobs: impl Iterator<Item = &'j Job>) -> Vec<IncompleteAsset> {
    let mut assets: BTreeMap<(String, String), (Vec<String>, Vec<String>)> = BTreeMap::new();
    for job in jobs {
        let Some(asset) = &job.resource.asset else {
            continue;
        };
        let key = (asset.id.clone(), job.destination.url.clone());
        let (succeeded, failed) = assets.entry(key).or_default();
        let member = format!(
            "{} ({})",
            job.resource.path.as_path().display(),
            asset.role.name()
        );
        match job.state {
            State::Succeeded => succeeded.push(member),
            State::Failed => failed.push(member),
            _ => {}
        }
    }
    assets
        .into_iter()
        .filter(|(_, (succeeded, failed))| !succeeded.is_empty() && !failed.is_empty())
        .map(
            |((asset, destination), (succeeded, failed))| IncompleteAsset {
                asset,
                destination,
                succeeded,
                failed,
            },
        )
        .collect()
}
