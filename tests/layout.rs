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
