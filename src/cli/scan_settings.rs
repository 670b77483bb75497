//! What the scan takes from the flags and the named destination: which
//! files (include and exclude rules) and where they land (layouts).

use crate::cli::ScanArgs;
use crate::error::UsageError;
use crate::landing::Layouts;
use crate::scan::filter::FilterOptions;

use super::settings::Config;

impl Config {
    /// Where new jobs land: `--layout` (and `--layout-undated`) when given,
    /// else the named destination's.
    pub fn layouts(&self, args: &ScanArgs) -> anyhow::Result<Option<Layouts>> {
        let named = self.named(&args.to).map(|(_, named)| named);
        let dated = (args.layout.clone()).or_else(|| named?.layout.clone());
        let undated = (args.layout_undated.clone()).or_else(|| named?.layout_undated.clone());
        match (dated, undated) {
            (Some(dated), undated) => Ok(Some(Layouts { dated, undated })),
            (None, Some(_)) => Err(UsageError(
                "--layout-undated places the files --layout does not date: give --layout too"
                    .to_owned(),
            )
            .into()),
            (None, None) => Ok(None),
        }
    }

    /// The scan's include and exclude rules: `--include` replaces the named
    /// destination's list; `--exclude` adds to it (leaving out more is safe).
    pub fn filter(&self, args: &ScanArgs) -> FilterOptions {
        let named = self.named(&args.to).map(|(_, named)| named);
        let include = match named {
            Some(named) if !self.given("include") => named.include.clone(),
            _ => args.include.clone(),
        };
        let mut exclude = named.map(|named| named.exclude.clone()).unwrap_or_default();
        exclude.extend(args.exclude.iter().cloned());
        FilterOptions {
            include,
            exclude,
            default_excludes: !args.no_default_excludes,
            hidden: args.hidden,
            all_files: args.all_files,
            sidecars: args.sidecars,
        }
    }
}
