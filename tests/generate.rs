//! The committed completions and man pages match the command line.

use std::path::Path;

use crate::util::{TestEnv, stderr_of};

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn committed_completions_and_man_pages_are_current() {
    let env = TestEnv::new();
    let output = env
        .ferry_bare()
        .args(["generate", "--dir"])
        .arg(env.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["completions", "man"] {
        let fresh = files(&env.path().join(dir));
        let committed = files(&repo.join(dir));
        let names =
            |list: &[(String, Vec<u8>)]| list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&committed),
            names(&fresh),
            "{dir}/ is stale: run `cargo run -- generate`"
        );
        for ((name, old), (_, new)) in committed.iter().zip(&fresh) {
            assert!(
                old == new,
                "{dir}/{name} is stale: run `cargo run -- generate`"
            );
        }
    }
    let man = files(&env.path().join("man"));
    assert!(man.iter().any(|(name, _)| name == "ferry-ack.1"));
    assert!(!man.iter().any(|(name, _)| name == "ferry-generate.1"));
}
