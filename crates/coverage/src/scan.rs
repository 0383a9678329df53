//! Counting write sites in the producer files of a work tree.
//!
//! This is the only step whose cost grows with the repository, so it reads the candidate
//! files on a few threads; matching is done on bytes, so a file that is not UTF-8 is still
//! counted rather than skipped.

use std::collections::BTreeMap;
use std::io;
use std::thread;

use super::git::TrackedFile;
use super::pins::{Scope, SiteCounter};

/// Write sites per producer file (every tracked file in scope, also those with none).
pub type SiteCounts = BTreeMap<String, usize>;

#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct ScanError {
    pub path: String,
    pub source: io::Error,
}

/// Counts the write sites of every tracked file in `scope`. A tracked file deleted from the
/// work tree but not from the index is left out, as it is about to be gone.
pub fn count_sites(
    tracked: &[TrackedFile],
    scope: &Scope,
    counter: &SiteCounter,
) -> Result<SiteCounts, ScanError> {
    let candidates: Vec<&TrackedFile> =
        tracked.iter().filter(|f| scope.contains(&f.path)).collect();
    let workers = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = candidates.len().div_ceil(workers).max(1);
    let results: Vec<Result<Vec<(String, usize)>, ScanError>> = thread::scope(|s| {
        let handles: Vec<_> = candidates
            .chunks(chunk)
            .map(|part| s.spawn(move || count_part(part, counter)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a scan thread panicked"))
            .collect()
    });
    let mut counts = SiteCounts::new();
    for result in results {
        counts.extend(result?);
    }
    Ok(counts)
}

fn count_part(
    files: &[&TrackedFile],
    counter: &SiteCounter,
) -> Result<Vec<(String, usize)>, ScanError> {
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        match std::fs::read(&file.fs_path) {
            Ok(content) => out.push((file.path.clone(), counter.count(&content))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ScanError {
                    path: file.fs_path.display().to_string(),
                    source,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pins;

    #[test]
    fn counts_files_in_scope_reads_bytes_and_skips_deleted_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = |path: &str, content: &[u8]| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, content).unwrap();
            TrackedFile {
                path: path.to_string(),
                fs_path: full,
            }
        };
        let mut tracked = vec![
            file("a.py", b"s3.put_object(x)\ns3.put_object(y)\n"),
            // Latin-1, not UTF-8: still counted.
            file("latin.py", b"# caf\xe9\ns3.upload_file(p)\n"),
            file("tests/t.py", b"s3.put_object(x)\n"),
            file("notes.md", b"s3.put_object(x)\n"),
            file("quiet.py", b"print(1)\n"),
        ];
        tracked.push(TrackedFile {
            path: "deleted.py".into(),
            fs_path: dir.path().join("deleted.py"),
        });
        let pins = Pins::parse("exempt: [tests/]\n").unwrap();
        let counts = count_sites(&tracked, &pins.scope, &pins.counter).unwrap();
        let expected: SiteCounts = [("a.py", 2), ("latin.py", 1), ("quiet.py", 0)]
            .into_iter()
            .map(|(p, n)| (p.to_string(), n))
            .collect();
        assert_eq!(counts, expected);
    }
}
