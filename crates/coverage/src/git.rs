//! The files git tracks in a work tree, as `git ls-files` lists them.
//!
//! The guard looks only at tracked files: what CI builds is what is committed, and an
//! operator's untracked scratch files must not fail (or satisfy) the check. Asking git (rather
//! than walking the directory) also honours `.gitignore` and skips `.git/` for free.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tracked regular file: its repo-relative path as text (for matching and messages) and as
/// a filesystem path (exact bytes, for reading).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TrackedFile {
    pub path: String,
    pub fs_path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{dir}: no such directory")]
    NoSuchDirectory { dir: String },
    #[error("cannot run `git` ({source}); is git installed and on PATH?")]
    NotInstalled { source: std::io::Error },
    #[error("{dir} is not a git work tree (git: {message})")]
    NotARepository { dir: String, message: String },
    #[error("`git ls-files` failed in {dir}: {message}")]
    Failed { dir: String, message: String },
}

/// Everything `git ls-files` lists as a regular file (or executable) under `repo`, with paths
/// relative to `repo`. Symlinks and submodules are left out: a symlink's target is counted
/// where it is tracked itself, and a submodule is another repository with its own pins.
/// A path listed once per merge stage during a conflict appears once.
pub fn tracked_files(repo: &Path) -> Result<Vec<TrackedFile>, GitError> {
    let dir = repo.display().to_string();
    if !repo.is_dir() {
        return Err(GitError::NoSuchDirectory { dir });
    }
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        // `--stage` adds the mode, which tells regular files from symlinks and submodules.
        .args(["ls-files", "-z", "--stage"])
        .output()
        .map_err(|source| GitError::NotInstalled { source })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(if message.contains("not a git repository") {
            GitError::NotARepository { dir, message }
        } else {
            GitError::Failed { dir, message }
        });
    }
    let mut files = BTreeSet::new();
    for record in output.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        // `<mode> <object> <stage>\t<path>`
        let Some(tab) = record.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let (meta, path) = (&record[..tab], &record[tab + 1..]);
        if !(meta.starts_with(b"100644 ") || meta.starts_with(b"100755 ")) {
            continue;
        }
        // Run in a subdirectory (a project inside a monorepo), git lists only the files under
        // it, relative to it: the pins of that project are relative to it too.
        files.insert(TrackedFile {
            path: String::from_utf8_lossy(path).into_owned(),
            fs_path: repo.join(bytes_to_path(path)),
        });
    }
    Ok(files.into_iter().collect())
}

#[cfg(unix)]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn bytes_to_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}
