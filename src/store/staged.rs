//! Big bodies staged on disk instead of held in memory: a pass's large JSON files
//! (`check_results.json`, `ledger.json`) are serialized into a temporary file that the store
//! streams from ([`super::ObjectStore::put_file`], [`super::ObjectStore::put_file_if`]), and
//! the ledger is downloaded into one and parsed from it ([`super::ObjectStore::get_to_file`]).
//! The temp dir is `/tmp` on Lambda (512 MB unless configured: docs/lambda.md).

use std::io::Write;

/// Serializes `value` compactly into a new file in the temp dir, removed when the returned
/// handle drops. Blocking writes into the page cache: ~50 ms at 70 MB, once per pass, so not
/// worth a blocking-pool hop.
pub fn stage_json<T: serde::Serialize + ?Sized>(
    value: &T,
) -> std::io::Result<tempfile::NamedTempFile> {
    let mut staged = tempfile::NamedTempFile::new()?;
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, staged.as_file_mut());
    serde_json::to_writer(&mut writer, value)?;
    writer.flush()?;
    drop(writer);
    Ok(staged)
}

/// Parses the JSON file at `path` through a small buffer (never the whole file in memory).
pub fn read_json<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<T, serde_json::Error> {
    let file = std::fs::File::open(path).map_err(serde_json::Error::io)?;
    serde_json::from_reader(std::io::BufReader::with_capacity(256 * 1024, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staged_value_reads_back_and_its_file_goes_with_its_handle() {
        let value = serde_json::json!({"a": [1, 2, 3], "b": "two"});
        let staged = stage_json(&value).unwrap();
        let path = staged.path().to_path_buf();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"a":[1,2,3],"b":"two"}"#
        );
        let back: serde_json::Value = read_json(&path).unwrap();
        assert_eq!(back, value);
        drop(staged);
        assert!(!path.exists());
        let missing = read_json::<serde_json::Value>(&path).unwrap_err();
        assert!(missing.is_io(), "{missing}");
    }
}
