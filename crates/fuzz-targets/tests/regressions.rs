//! Inputs the fuzzers once crashed on, fed to their targets again. Each case
//! names the target and the file under `fuzz/corpus/<target>/` (crash inputs
//! are kept in the corpus, so both fuzzers start from them too).

use switchyard_fuzz_targets::{corpus, target};

fn replay(target_name: &str, file: &str) {
    let t = target(target_name).unwrap_or_else(|| panic!("no target {target_name}"));
    let path = corpus::fuzz_dir().join("corpus").join(target_name).join(file);
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (t.run)(&input);
}

/// Inputs small enough to read, kept inline as well.
#[test]
fn small_awkward_inputs_do_not_panic() {
    let inputs: &[&[u8]] = &[b"", b"{", b"{}", b"[]", b"null", b"\xff", b"data:\r", b"\r\n\r\n", b"{\"model\":\"\\ud800\"}"];
    for t in switchyard_fuzz_targets::TARGETS {
        for input in inputs {
            (t.run)(input);
        }
    }
}

#[test]
fn crash_inputs_in_the_corpus_do_not_panic() {
    let root = corpus::fuzz_dir().join("corpus");
    for t in switchyard_fuzz_targets::TARGETS {
        for (name, _) in corpus::seeds(&root.join(t.name)).unwrap_or_default() {
            if name.starts_with("crash-") {
                replay(t.name, &name);
            }
        }
    }
}
