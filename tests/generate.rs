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

/// A temp folder with what `ferry generate --dir` writes into it.
fn generated() -> TestEnv {
    let env = TestEnv::new();
    let output = env
        .ferry_bare()
        .args(["generate", "--dir"])
        .arg(env.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    env
}

#[test]
fn committed_completions_and_man_pages_are_current() {
    let env = generated();
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

/// The man pages name every variable, give the exit codes one entry each
/// (not a wrapped paragraph), and point to no `ferry-help(1)`, which does
/// not exist. Read through `man` itself when it is installed.
#[test]
fn man_pages_list_the_variables_and_exit_codes_and_only_pages_that_exist() {
    let env = generated();
    let man = files(&env.path().join("man"));
    let names: Vec<&str> = man.iter().map(|(name, _)| name.as_str()).collect();
    for (name, page) in &man {
        let page = String::from_utf8_lossy(page);
        // Every ferry-X(1) a page points to is a page here.
        for (at, _) in page.match_indices("ferry\\-") {
            let rest = &page[at + "ferry\\-".len()..];
            if let Some(end) = rest.find("(1)") {
                let target = format!("ferry-{}.1", &rest[..end]);
                if !rest[..end].contains([' ', '\\']) {
                    assert!(
                        names.contains(&target.as_str()),
                        "{name} points to {target}"
                    );
                }
            }
        }
        assert!(
            page.contains(".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\n"),
            "{name}"
        );
        assert!(page.contains(".TP\n\\fB130\\fR\ninterrupted"), "{name}");
    }
    let sync = String::from_utf8_lossy(&man.iter().find(|(n, _)| n == "ferry-sync.1").unwrap().1)
        .into_owned();
    for variable in [
        "FERRY_CONCURRENCY",
        "FERRY_JOURNAL",
        "FERRY_DELETE_AFTER",
        "FERRY_TOKEN_FILE",
    ] {
        assert!(
            sync.contains(".SH \"ENVIRONMENT\"") && sync.contains(&format!("\\fB{variable}\\fR")),
            "ferry-sync.1 lacks {variable}"
        );
    }
    assert!(
        sync.contains(".SH \"EXAMPLES\"\n.nf\n"),
        "ferry-sync.1 has no examples"
    );
    let root =
        String::from_utf8_lossy(&man.iter().find(|(n, _)| n == "ferry.1").unwrap().1).into_owned();
    assert!(root.contains("FERRY_TOKEN"), "ferry.1 lacks FERRY_TOKEN");
    assert!(
        !root.contains("ferry\\-help"),
        "ferry.1 points to ferry-help(1)"
    );
}
