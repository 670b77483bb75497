//! Which assets are not whole at their destination: a member uploaded and
//! another failed, so the destination holds a Live Photo's still without
//! its video, or a photo without its sidecar. Read from the jobs alone,
//! for `ferry status`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::job::{Job, State};

/// An asset not whole at a destination: some members uploaded there and
/// some failed, or some went to another destination (`retry --to`).
#[derive(Debug, Serialize)]
pub struct IncompleteAsset {
    pub asset: String,
    pub destination: String,
    /// Members uploaded: their paths below the scanned folder, and roles.
    pub succeeded: Vec<String>,
    /// Members that failed, with their roles.
    pub failed: Vec<String>,
    /// Members whose latest job went to another destination, and where.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub elsewhere: Vec<String>,
}

/// The incomplete assets among `jobs`, by asset and destination, each
/// file counted by its latest job.
pub fn incomplete_assets<'j>(jobs: impl Iterator<Item = &'j Job>) -> Vec<IncompleteAsset> {
    let mut latest: BTreeMap<(String, Vec<u8>, Vec<u8>), &Job> = BTreeMap::new();
    for job in jobs.filter(|job| job.state != State::Cancelled) {
        let Some(asset) = &job.resource.asset else {
            continue;
        };
        let file = (
            asset.id.clone(),
            job.resource.root.to_bytes(),
            job.resource.path.to_bytes(),
        );
        latest.insert(file, job);
    }
    let member = |job: &Job| {
        let role = job
            .resource
            .asset
            .as_ref()
            .map_or("", |asset| asset.role.name());
        format!("{} ({role})", job.resource.path.as_path().display())
    };
    let mut places: BTreeMap<(String, String), IncompleteAsset> = BTreeMap::new();
    for ((asset, _, _), job) in &latest {
        let url = job.destination.url.clone();
        let place = places
            .entry((asset.clone(), url.clone()))
            .or_insert_with(|| IncompleteAsset {
                asset: asset.clone(),
                destination: url,
                succeeded: Vec::new(),
                failed: Vec::new(),
                elsewhere: Vec::new(),
            });
        match job.state {
            State::Succeeded => place.succeeded.push(member(job)),
            State::Failed => place.failed.push(member(job)),
            _ => {}
        }
    }
    // Each file's job is elsewhere for its asset's other destinations:
    // the places of one asset sit side by side in the map's order.
    for ((asset, _, _), job) in &latest {
        let same_asset = places.range_mut((asset.clone(), String::new())..);
        for ((_, url), place) in same_asset.take_while(|((other, _), _)| other == asset) {
            if *url != job.destination.url {
                place
                    .elsewhere
                    .push(format!("{} at {}", member(job), job.destination.url));
            }
        }
    }
    places
        .into_values()
        .filter(|place| {
            !place.succeeded.is_empty() && (!place.failed.is_empty() || !place.elsewhere.is_empty())
        })
        .collect()
}
