//! Every committed seed of `fuzz/corpus/<target>/` runs through its target
//! without a panic (the fast, deterministic part of a fuzz run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use switchyard_fuzz_targets::{corpus, TARGETS};

#[test]
fn every_seed_runs_clean_through_its_target() {
    let root = corpus::fuzz_dir().join("corpus");
    let mut failures = Vec::new();
    for t in TARGETS {
        let seeds = corpus::seeds(&root.join(t.name)).unwrap_or_else(|e| panic!("corpus for {}: {e}", t.name));
        assert!(!seeds.is_empty(), "no seeds for {}", t.name);
        // crash-* inputs are replayed one by one, with their story, in regressions.rs.
        for (name, bytes) in seeds.into_iter().filter(|(n, _)| !n.starts_with("crash-")) {
            if std::panic::catch_unwind(|| (t.run)(&bytes)).is_err() {
                failures.push(format!("{}/{name}", t.name));
            }
        }
    }
    assert!(failures.is_empty(), "seeds that panic: {failures:?}");
}

#[test]
fn every_corpus_directory_has_a_target() {
    let root = corpus::fuzz_dir().join("corpus");
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(switchyard_fuzz_targets::target(&name).is_some(), "corpus/{name} has no target");
    }
}

#[test]
fn every_target_has_a_libfuzzer_entry_point() {
    let dir = corpus::fuzz_dir().join("fuzz_targets");
    for t in TARGETS {
        let src = std::fs::read_to_string(dir.join(format!("{}.rs", t.name))).unwrap();
        assert!(src.contains(&format!("switchyard_fuzz_targets::{}(data)", t.name)), "fuzz_targets/{}.rs", t.name);
    }
}
