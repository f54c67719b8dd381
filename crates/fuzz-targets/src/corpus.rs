//! The committed seed corpus, `fuzz/corpus/<target>/*`, shared by libFuzzer
//! and `fuzz-run`.

use std::io;
use std::path::{Path, PathBuf};

/// `fuzz/` at the repository root.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The seeds of one target, sorted by file name (so runs are reproducible).
pub fn seeds(dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            std::fs::read(&p).map(|bytes| (name, bytes))
        })
        .collect()
}

/// FNV-1a, for naming crash files after their content.
pub fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
