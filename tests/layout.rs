//! The source tree keeps the shape the README's Architecture section
//! describes: the client and the receiver speak only through `wire`, the
//! protocol facts are written once, and no file grows into a god module.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn offenders(folder: &str, forbidden: &[&str]) -> Vec<String> {
    sources(&src().join(folder))
        .into_iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            forbidden
                .iter()
                .filter(|word| text.contains(*word))
                .map(|word| format!("{} uses {word}", path.display()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn upload_and_serve_meet_only_in_wire() {
    assert_eq!(offenders("upload", &["crate::serve"]), Vec::<String>::new());
    assert_eq!(offenders("serve", &["crate::upload"]), Vec::<String>::new());
    let wire = offenders(
        "wire",
        &["crate::upload", "crate::serve", "reqwest::", "hyper::"],
    );
    assert_eq!(wire, Vec::<String>::new());
}

#[test]
fn the_ietf_interop_versions_are_written_once() {
    let mut places = Vec::new();
    for path in sources(&src()) {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("[3, 5, 6, 7, 8]") {
            places.push(path.strip_prefix(src()).unwrap().display().to_string());
        }
    }
    assert_eq!(places, ["wire/ietf.rs"]);
}

#[test]
fn no_source_file_is_a_god_module() {
    for path in sources(&src()) {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines <= 600, "{} has {lines} lines", path.display());
    }
    let engine = std::fs::read_to_string(src().join("upload/engine.rs")).unwrap();
    assert!(engine.lines().count() < 400);
}

/// A source file's module path: `src/upload/route.rs` is `upload::route`,
/// `src/upload/mod.rs` is `upload`.
fn module_of(path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// Who imports whom among sibling modules: `upload::route` naming
/// `crate::upload::settings::X` (or `super::settings`) is an edge from
/// `upload::route` to `upload::settings`; `cli::settings` naming
/// `crate::upload::X` is an edge from `cli` to `upload`. Unit tests
/// (`#[cfg(test)]` onwards) do not count.
fn module_edges() -> std::collections::BTreeSet<(Vec<String>, Vec<String>)> {
    let files = sources(&src());
    let modules: std::collections::BTreeSet<Vec<String>> =
        files.iter().map(|path| module_of(path)).collect();
    let mut edges = std::collections::BTreeSet::new();
    for path in &files {
        let from = module_of(path);
        if from == ["main"] || from == ["lib"] {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let mut named: Vec<Vec<String>> = Vec::new();
        for (prefix, base) in [
            ("crate::", Vec::new()),
            ("super::", {
                let mut parent = from.clone();
                // In a `mod.rs`, `super` is the folder's parent.
                parent.pop();
                parent
            }),
        ] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                let words = rest
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or("");
                let mut target = base.clone();
                target.extend(
                    words
                        .split("::")
                        .filter(|w| !w.is_empty())
                        .map(str::to_owned),
                );
                named.push(target);
            }
            // `use crate::{a, b}` and `use super::{a, b}`.
            for (at, _) in code.match_indices(&format!("{prefix}{{")) {
                let rest = &code[at + prefix.len() + 1..];
                let list = &rest[..rest.find('}').unwrap_or(0)];
                for item in list.split(',') {
                    let mut target = base.clone();
                    target.extend(item.trim().split("::").take(1).map(str::to_owned));
                    named.push(target);
                }
            }
        }
        for mut target in named {
            while !target.is_empty() && !modules.contains(&target) {
                target.pop();
            }
            let shared = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if shared == from.len() || shared == target.len() {
                continue; // itself, an ancestor or a descendant
            }
            edges.insert((from[..=shared].to_vec(), target[..=shared].to_vec()));
        }
    }
    edges
}

/// As fd and xh are built: no module imports one that imports it back,
/// directly or round a longer circle, at any depth of the tree.
#[test]
fn no_module_imports_one_that_imports_it_back() {
    let edges = module_edges();
    assert!(
        edges.contains(&(vec!["cli".into()], vec!["upload".into()])),
        "the edge reader finds nothing: {edges:?}"
    );
    let next = |from: &Vec<String>| -> Vec<Vec<String>> {
        edges
            .iter()
            .filter(|(a, _)| a == from)
            .map(|(_, b)| b.clone())
            .collect()
    };
    let mut circles = std::collections::BTreeSet::new();
    for (start, _) in &edges {
        // Depth-first from each module, looking for the way back to it.
        let mut stack = vec![vec![start.clone()]];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(trail) = stack.pop() {
            for step in next(trail.last().unwrap()) {
                if &step == start {
                    let names: Vec<String> = trail.iter().map(|m| m.join("::")).collect();
                    circles.insert(format!("{} -> {}", names.join(" -> "), start.join("::")));
                } else if seen.insert(step.clone()) {
                    let mut longer = trail.clone();
                    longer.push(step);
                    stack.push(longer);
                }
            }
        }
    }
    assert_eq!(circles, std::collections::BTreeSet::<String>::new());
}

/// clap describes the command line; the core's types know nothing of it.
#[test]
fn clap_stays_in_cli() {
    let outside: Vec<String> = sources(&src())
        .into_iter()
        .filter(|path| {
            let module = module_of(path);
            module
                .first()
                .is_some_and(|top| top != "cli" && top != "main")
        })
        .filter(|path| std::fs::read_to_string(path).unwrap().contains("clap"))
        .map(|path| path.display().to_string())
        .collect();
    assert_eq!(outside, Vec::<String>::new());
}
