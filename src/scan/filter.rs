//! Which files a scan keeps.
//!
//! Globs follow gitignore rules, matched against the path relative to its
//! root: a pattern without a slash matches a name at any depth, one with a
//! slash is anchored at the root, a trailing slash matches folders only, and a
//! pattern that matches a folder covers everything in it. Excludes always win
//! over includes, so the order of the flags never matters. Folders are pruned
//! during the walk so that excluded trees are never read.

use std::path::Path;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::error::UsageError;
use crate::journal::job::MediaKind;
use crate::scan::media;

#[derive(Clone, Debug, Default)]
pub struct FilterOptions {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub default_excludes: bool,
    pub hidden: bool,
    pub all_files: bool,
    pub sidecars: bool,
}

/// Why a file was left out, for the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    Hidden,
    /// By the built-in list of NAS and OS junk, not by the user.
    Junk,
    Excluded,
    NotIncluded,
    NotMedia,
    /// An XMP, AAE or THM file, without `--sidecars`: taken only beside a
    /// media file of its name (`assets`).
    Sidecar,
}

impl Skip {
    /// The rule, as `-v` and a dry run name it.
    pub fn rule(self) -> &'static str {
        match self {
            Skip::Hidden => "hidden (--hidden takes it)",
            Skip::Junk => "NAS or OS junk (--no-default-excludes takes it)",
            Skip::Excluded => "matched by --exclude",
            Skip::NotIncluded => "not matched by --include",
            Skip::NotMedia => "not a photo or video (--all-files takes it)",
            Skip::Sidecar => "a sidecar without a photo or video of its name (--sidecars takes it)",
        }
    }
}

#[derive(Debug)]
pub struct Filter {
    options: FilterOptions,
    include: Option<GlobSet>,
    /// The built-in NAS and OS junk list; matches a path or any of its
    /// parent folders. Apart from `exclude` so that a skip can name it.
    junk: GlobSet,
    /// The user's `--exclude`; matches a path or any of its parent folders.
    exclude: GlobSet,
    /// Matches folders only (patterns written with a trailing slash).
    exclude_dirs: GlobSet,
}

/// One gitignore-style pattern as globs: the path itself, and everything under it.
fn globs_for(pattern: &str, case_insensitive: bool) -> anyhow::Result<(bool, Vec<Glob>)> {
    let mut text = pattern.trim();
    let dir_only = text.ends_with('/');
    text = text.trim_end_matches('/');
    let anchored = text.contains('/');
    let text = text.trim_start_matches("./").trim_start_matches('/');
    if text.is_empty() {
        return Err(UsageError(format!("glob {pattern:?} is empty")).into());
    }
    let base = if anchored {
        text.to_owned()
    } else {
        format!("**/{text}")
    };
    let build = |glob: &str| {
        GlobBuilder::new(glob)
            .literal_separator(true)
            .case_insensitive(case_insensitive)
            .backslash_escape(true)
            .build()
            .map_err(|error| anyhow::Error::from(UsageError(format!("glob {pattern:?}: {error}"))))
    };
    Ok((dir_only, vec![build(&base)?, build(&format!("{base}/**"))?]))
}

impl Filter {
    pub fn new(options: FilterOptions) -> anyhow::Result<Filter> {
        let mut junk = GlobSetBuilder::new();
        let mut exclude = GlobSetBuilder::new();
        let mut exclude_dirs = GlobSetBuilder::new();
        let defaults = media::DEFAULT_EXCLUDES
            .iter()
            .filter(|_| options.default_excludes)
            .map(|name| (name.to_string(), true));
        let given = options.exclude.iter().map(|glob| (glob.clone(), false));
        for (pattern, built_in) in defaults.chain(given) {
            // The built-in list ignores case (`Thumbs.db`, `thumbs.db`).
            let (dir_only, globs) = globs_for(&pattern, built_in)?;
            let (path_glob, under_glob) = (globs[0].clone(), globs[1].clone());
            let set = if built_in { &mut junk } else { &mut exclude };
            if dir_only {
                exclude_dirs.add(path_glob);
            } else {
                set.add(path_glob);
            }
            set.add(under_glob);
        }
        let include = if options.include.is_empty() {
            None
        } else {
            let mut set = GlobSetBuilder::new();
            for pattern in &options.include {
                for glob in globs_for(pattern, false)?.1 {
                    set.add(glob);
                }
            }
            Some(set.build()?)
        };
        Ok(Filter {
            include,
            junk: junk.build()?,
            exclude: exclude.build()?,
            exclude_dirs: exclude_dirs.build()?,
            options,
        })
    }

    fn hidden(&self, name: &[u8]) -> bool {
        !self.options.hidden && name.first() == Some(&b'.')
    }

    /// Whether to descend into a folder (`relative` is not the root itself).
    pub fn enter_dir(&self, relative: &Path, name: &[u8]) -> bool {
        !self.hidden(name)
            && !self.junk.is_match(relative)
            && !self.exclude.is_match(relative)
            && !self.exclude_dirs.is_match(relative)
    }

    /// Whether a walk down to the file at `relative` would enter each of
    /// its folders (a watcher's file, met without a walk).
    pub fn enters_folders_of(&self, relative: &Path) -> bool {
        relative
            .parent()
            .is_none_or(|folder| self.enters_folder(folder))
    }

    /// Whether a walk would enter the folder at `relative` and each folder
    /// above it (the root, `""`, always).
    pub fn enters_folder(&self, relative: &Path) -> bool {
        relative.ancestors().all(|folder| {
            let name = folder.file_name().map(|name| name.as_encoded_bytes());
            folder.as_os_str().is_empty() || self.enter_dir(folder, name.unwrap_or_default())
        })
    }

    /// Whether to keep a regular file, and as what kind of media.
    pub fn keep_file(&self, relative: &Path, name: &[u8]) -> Result<MediaKind, Skip> {
        // Junk first: `--hidden` would not take a `.DS_Store`.
        if self.junk.is_match(relative) {
            return Err(Skip::Junk);
        }
        if self.hidden(name) {
            return Err(Skip::Hidden);
        }
        if self.exclude.is_match(relative) {
            return Err(Skip::Excluded);
        }
        if let Some(include) = &self.include
            && !include.is_match(relative)
        {
            return Err(Skip::NotIncluded);
        }
        match media::kind_of(name, self.options.sidecars) {
            Some(kind) => Ok(kind),
            None if self.options.all_files => Ok(MediaKind::Other),
            None if media::kind_of(name, true).is_some() => Err(Skip::Sidecar),
            None => Err(Skip::NotMedia),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> Filter {
        Filter::new(FilterOptions {
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            default_excludes: true,
            ..FilterOptions::default()
        })
        .unwrap()
    }

    fn keeps(filter: &Filter, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap();
        filter.keep_file(Path::new(path), name.as_bytes()).is_ok()
    }

    #[test]
    fn unanchored_patterns_match_at_any_depth_and_anchored_ones_at_the_root() {
        let f = filter(&[], &["*.png", "/raw", "2023/tmp"]);
        assert!(!keeps(&f, "a.png") && !keeps(&f, "x/y/a.png"));
        assert!(!keeps(&f, "raw/a.jpg"));
        assert!(keeps(&f, "x/raw/a.jpg"));
        assert!(!keeps(&f, "2023/tmp/a.jpg"));
        assert!(keeps(&f, "x/2023/tmp/a.jpg"));
        assert!(keeps(&f, "a.jpg"));
    }

    #[test]
    fn a_sidecar_left_out_names_the_flag_that_takes_it() {
        let f = filter(&[], &[]);
        let skip = f
            .keep_file(Path::new("IMG_1.xmp"), b"IMG_1.xmp")
            .unwrap_err();
        assert_eq!(
            skip.rule(),
            "a sidecar without a photo or video of its name (--sidecars takes it)"
        );
        let skip = f
            .keep_file(Path::new("notes.txt"), b"notes.txt")
            .unwrap_err();
        assert_eq!(skip.rule(), "not a photo or video (--all-files takes it)");
    }

    #[test]
    fn star_does_not_cross_folders() {
        let f = filter(&[], &["DCIM/*.jpg"]);
        assert!(!keeps(&f, "DCIM/a.jpg"));
        assert!(keeps(&f, "DCIM/sub/a.jpg"));
    }

    #[test]
    fn trailing_slash_matches_folders_only() {
        let f = filter(&[], &["cache/"]);
        assert!(!f.enter_dir(Path::new("x/cache"), b"cache"));
        assert!(keeps(&f, "x/cache.jpg"));
    }

    #[test]
    fn excludes_win_whatever_the_order() {
        let a = filter(&["*.jpg"], &["private/"]);
        assert!(!keeps(&a, "private/a.jpg"));
        assert!(!a.enter_dir(Path::new("private"), b"private"));
        assert!(keeps(&a, "public/a.jpg"));
        assert!(!keeps(&a, "public/a.heic"));
    }

    #[test]
    fn default_excludes_cover_nas_and_os_junk() {
        let f = filter(&[], &[]);
        assert!(!f.enter_dir(Path::new("@eaDir"), b"@eaDir"));
        assert!(!keeps(&f, "x/@eaDir/a.jpg"));
        assert!(!keeps(&f, "x/._IMG_0001.JPG"));
        assert!(!keeps(&f, "x/thumbs.db"));
        let none = Filter::new(FilterOptions {
            all_files: true,
            hidden: true,
            ..FilterOptions::default()
        })
        .unwrap();
        assert!(keeps(&none, "x/Thumbs.db"));
        assert!(none.enter_dir(Path::new("@eaDir"), b"@eaDir"));
    }

    /// A `.DS_Store` is junk, which `--hidden` would not take: the rule
    /// named points to `--no-default-excludes`, and a user's `--exclude`
    /// is named as such.
    #[test]
    fn junk_is_named_apart_from_hidden_and_from_the_users_excludes() {
        let f = filter(&[], &["*.tmp"]);
        let skip = |path: &str| {
            let name = Path::new(path).file_name().unwrap().as_encoded_bytes();
            f.keep_file(Path::new(path), name)
        };
        assert_eq!(skip("x/.DS_Store"), Err(Skip::Junk));
        assert_eq!(skip("x/Thumbs.db"), Err(Skip::Junk));
        assert_eq!(skip("x/a.tmp"), Err(Skip::Excluded));
        assert_eq!(skip("x/.a.jpg"), Err(Skip::Hidden));
        assert!(Skip::Junk.rule().contains("--no-default-excludes"));
    }

    #[test]
    fn hidden_names_are_skipped_unless_asked() {
        let f = filter(&[], &[]);
        assert_eq!(
            f.keep_file(Path::new(".a.jpg"), b".a.jpg"),
            Err(Skip::Hidden)
        );
        assert!(!f.enter_dir(Path::new(".thumbnails"), b".thumbnails"));
    }

    #[test]
    fn bad_globs_are_usage_errors() {
        let error = Filter::new(FilterOptions {
            exclude: vec!["a[".into()],
            ..FilterOptions::default()
        })
        .unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
        assert!(error.to_string().contains("a["), "{error}");
    }
}
