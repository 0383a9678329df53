//! `history_digest.ndjson.gz` (docs/outputs.md#the-pages-digest-history_digestndjsongz): what
//! the status page draws of a history scan, written by the scan beside `history.json`.
//!
//! `history.json` has every cycle of every artifact (~3.7 KB an artifact: 366 MB at 100,000),
//! far more than a pass can read for its page; the page needs only each artifact's newest
//! [`STRIP_CELLS`] marks and its SLA counts. The digest is those, one line per artifact after
//! a header line, ~20 times smaller before gzip. The shell gzips and gunzips; this module
//! writes and reads the lines.

use std::io::BufRead;

use serde::{Deserialize, Serialize};

use super::digest::{ArtifactStrip, CellMark, HistoryDigest, STRIP_CELLS, StripCell};
use crate::history::{ArtifactHistory, History, SlaCounts};
use crate::text::Rfc3339;

/// The digest's format, in its header line; a reader refuses a later one.
pub const DIGEST_FORMAT: u32 = 1;

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct DigestHeader {
    pub history_digest: u32,
    pub generated_at: String,
    pub n_artifacts: usize,
    pub strip_cells: usize,
}

/// One artifact's line: `{"id", "sla": [expected, on_time, late, missing, unknown], "strip":
/// [[cycle_label, mark], …]}`, the strip oldest first; a mark is `o` on time, `L` and the
/// minutes late (`L72`), `x` missing, `-` not expected, `?` unknown.
#[derive(Debug, Serialize, Deserialize)]
struct DigestLine {
    id: String,
    sla: [usize; 5],
    strip: Vec<(String, String)>,
}

/// The header line of `history`'s digest, with its newline.
pub fn write_header(out: &mut Vec<u8>, history: &History<'_>) {
    let header = DigestHeader {
        history_digest: DIGEST_FORMAT,
        generated_at: Rfc3339(history.generated_at).to_string(),
        n_artifacts: history.n_artifacts(),
        strip_cells: STRIP_CELLS,
    };
    line_into(out, &header);
}

/// `artifact`'s line, with its newline.
pub fn write_artifact(out: &mut Vec<u8>, artifact: &ArtifactHistory<'_>) {
    let cycles = (artifact.cycles()).map(|(cycle, cell)| (cycle.label.clone(), CellMark::of(cell)));
    let strip = ArtifactStrip::from_newest_first(cycles);
    let s = strip.sla;
    let line = DigestLine {
        id: artifact.spec.id.to_string(),
        sla: [s.expected, s.on_time, s.late, s.missing, s.unknown],
        strip: (strip.cells.into_iter())
            .map(|c| (c.cycle_label, code(c.mark)))
            .collect(),
    };
    line_into(out, &line);
}

fn line_into<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(&mut *out, value).expect("digest lines always serialize");
    out.push(b'\n');
}

fn code(mark: CellMark) -> String {
    match mark {
        CellMark::OnTime => "o".into(),
        CellMark::Late { minutes } => format!("L{minutes}"),
        CellMark::Missing => "x".into(),
        CellMark::NotExpected => "-".into(),
        CellMark::Unknown => "?".into(),
    }
}

fn mark_of(code: &str) -> Option<CellMark> {
    Some(match code {
        "o" => CellMark::OnTime,
        "x" => CellMark::Missing,
        "-" => CellMark::NotExpected,
        "?" => CellMark::Unknown,
        late => CellMark::Late {
            minutes: late.strip_prefix('L')?.parse().ok()?,
        },
    })
}

/// Reads a digest's lines; an error names the line and what is wrong with it.
pub fn read_digest(lines: impl BufRead) -> Result<HistoryDigest, String> {
    let mut lines = lines.lines().enumerate();
    let header: DigestHeader = match lines.next() {
        Some((_, line)) => parse_line(1, &line.map_err(|e| e.to_string())?)?,
        None => return Err("the digest is empty".into()),
    };
    if header.history_digest > DIGEST_FORMAT {
        return Err(format!(
            "line 1: format {} is later than this version reads ({DIGEST_FORMAT})",
            header.history_digest
        ));
    }
    let generated_at = chrono::DateTime::parse_from_rfc3339(&header.generated_at)
        .map_err(|e| format!("line 1: generated_at {:?}: {e}", header.generated_at))?
        .with_timezone(&chrono::Utc);
    let mut digest = HistoryDigest {
        generated_at,
        artifacts: std::collections::HashMap::with_capacity(header.n_artifacts),
    };
    for (i, line) in lines {
        let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
        let parsed: DigestLine = parse_line(i + 1, &line)?;
        let strip = strip_of(parsed.strip, parsed.sla).ok_or_else(|| {
            format!(
                "line {}: {:?}: a mark is not one of o, L<minutes>, x, -, ?",
                i + 1,
                parsed.id
            )
        })?;
        digest.artifacts.insert(parsed.id, strip);
    }
    Ok(digest)
}

fn parse_line<T: serde::de::DeserializeOwned>(number: usize, line: &str) -> Result<T, String> {
    serde_json::from_str(line).map_err(|e| format!("line {number}: {e}"))
}

fn strip_of(cells: Vec<(String, String)>, sla: [usize; 5]) -> Option<ArtifactStrip> {
    let [expected, on_time, late, missing, unknown] = sla;
    let cells = (cells.into_iter())
        .map(|(cycle_label, code)| {
            Some(StripCell {
                cycle_label,
                mark: mark_of(&code)?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ArtifactStrip {
        cells,
        sla: SlaCounts {
            expected,
            on_time,
            late,
            missing,
            unknown,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"history_digest":1,"generated_at":"2026-06-04T12:00:00Z","n_artifacts":1,"strip_cells":12}"#;

    #[test]
    fn a_digest_reads_back_its_marks_oldest_first_and_its_counts() {
        let text = format!(
            "{HEADER}\n{}\n",
            r#"{"id":"a","sla":[4,1,1,1,1],"strip":[["d1","-"],["d2","o"],["d3","L72"],["d4","x"],["d5","?"]]}"#
        );
        let digest = read_digest(text.as_bytes()).unwrap();
        let a = &digest.artifacts["a"];
        let marks: Vec<CellMark> = a.cells.iter().map(|c| c.mark).collect();
        assert_eq!(
            marks,
            [
                CellMark::NotExpected,
                CellMark::OnTime,
                CellMark::Late { minutes: 72 },
                CellMark::Missing,
                CellMark::Unknown
            ]
        );
        assert_eq!((a.sla.expected, a.sla.late, a.sla.unknown), (4, 1, 1));
        assert_eq!(
            digest.generated_at.to_rfc3339(),
            "2026-06-04T12:00:00+00:00"
        );
    }

    #[test]
    fn a_bad_digest_names_its_line() {
        let bad_mark = format!(
            "{HEADER}\n{}\n",
            r#"{"id":"a","sla":[1,1,0,0,0],"strip":[["d1","late"]]}"#
        );
        assert_eq!(
            read_digest(bad_mark.as_bytes()).unwrap_err(),
            r#"line 2: "a": a mark is not one of o, L<minutes>, x, -, ?"#
        );
        let truncated = format!("{HEADER}\n{{\"id\":\"a\",\"sla\":[1,");
        assert!(
            read_digest(truncated.as_bytes())
                .unwrap_err()
                .starts_with("line 2: ")
        );
        let later = HEADER.replace(r#""history_digest":1"#, r#""history_digest":2"#);
        assert_eq!(
            read_digest(later.as_bytes()).unwrap_err(),
            "line 1: format 2 is later than this version reads (1)"
        );
        assert_eq!(read_digest(&b""[..]).unwrap_err(), "the digest is empty");
    }
}
