//! `validate REGISTRY`: every error in one run, or a summary of what the registry declares;
//! warnings (what the registry allows but is likely a mistake) either way, without changing
//! the exit code.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::Utc;
use clap::Args;

use freshness_monitor::registry::{self, Registry, ValidationError};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The registry file (ARTIFACT_REGISTRY.yaml).
    registry: PathBuf,
    /// Print the result as JSON (valid, artifacts, buckets, cadences, errors, warnings).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let (registry, mut owned): (Option<Registry>, Vec<ValidationError>) =
        match registry::load_file(&args.registry) {
            Ok(registry) => (Some(registry), Vec::new()),
            Err(e) => (None, e.errors),
        };
    // `created_at` and silences are judged against the clock: loading itself has no clock.
    let now = Utc::now();
    let mut warnings = registry
        .as_ref()
        .map(|r| r.warnings_on(now.date_naive()))
        .unwrap_or_default();
    if let Some(registry) = &registry {
        let (silence_errors, silence_warnings) = registry.silence_problems(now);
        owned.extend(silence_errors);
        warnings.extend(silence_warnings);
        warnings.sort_by_key(|w| w.line);
    }
    let errors = ErrorList::of(registry.as_ref(), owned);
    let count = errors.iter().count();
    let summary = registry.as_ref().map(Summary::of);
    if args.json {
        print_json(&errors, count, &warnings, summary.as_ref())?;
        return Ok(exit_code(count));
    }
    print_problems(errors.iter(), &warnings);
    let name = args.registry.display();
    let warned = match warnings.len() {
        0 => String::new(),
        n => format!(", {}", plural(n, "warning")),
    };
    if count == 0 {
        let s = summary.expect("a registry without errors parsed");
        println!("{name}: valid: {}{warned}", plural(s.artifacts, "artifact"));
        println!("buckets: {}", joined_counts(&s.buckets));
        println!("cadences: {}", joined_counts(&s.cadences));
    } else {
        eprintln!("{name}: {}{warned}", plural(count, "error"));
    }
    Ok(exit_code(count))
}

/// Every error in line order, handed out anew each time it is asked for: the registry's are
/// located as they go (the members of a dependency ring of millions share one error between
/// them), never all held at once.
struct ErrorList<'a> {
    /// The registry whose artifact errors are in line order, merged with `owned` as they go.
    registry: Option<&'a Registry>,
    /// The errors the entries do not hold (the silences', or every error of a registry that
    /// did not load), in line order; or every error, sorted, when the entries' were not in
    /// line order (rare, and never a ring's).
    owned: Vec<ValidationError>,
}

impl<'a> ErrorList<'a> {
    fn of(registry: Option<&'a Registry>, mut owned: Vec<ValidationError>) -> ErrorList<'a> {
        let by_line = |e: &ValidationError| e.line;
        let in_order = |r: &&Registry| r.artifact_errors().is_sorted_by_key(|e| e.line);
        let registry = match registry {
            Some(r) if in_order(&r) && owned.is_sorted_by_key(by_line) => Some(r),
            Some(r) => {
                // A stable sort of the entries' errors followed by the others, as before.
                let mut all: Vec<ValidationError> = r.artifact_errors().collect();
                all.append(&mut owned);
                all.sort_by_key(by_line);
                owned = all;
                None
            }
            None => {
                owned.sort_by_key(by_line);
                None
            }
        };
        ErrorList { registry, owned }
    }

    /// The errors in line order; on one line the entries' first, as a stable sort of the
    /// entries' errors followed by the others orders them.
    fn iter(&self) -> impl Iterator<Item = ValidationError> + '_ {
        let mut entries = (self.registry.into_iter())
            .flat_map(Registry::artifact_errors)
            .peekable();
        let mut owned = self.owned.iter().peekable();
        std::iter::from_fn(move || match (entries.peek(), owned.peek()) {
            (Some(e), Some(o)) if o.line < e.line => owned.next().cloned(),
            (Some(_), _) => entries.next(),
            (None, _) => owned.next().cloned(),
        })
    }
}

/// `--json`: every error and warning, one string each, written as it is serialised (a ring
/// of millions is millions of short strings, never one JSON value in memory). The keys in
/// alphabetical order, as before.
fn print_json(
    errors: &ErrorList<'_>,
    count: usize,
    warnings: &[ValidationError],
    summary: Option<&Summary>,
) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Output<'a> {
        artifacts: Option<usize>,
        buckets: Option<Vec<&'a String>>,
        cadences: Option<&'a BTreeMap<String, usize>>,
        errors: AsStrings<'a>,
        valid: bool,
        #[serde(serialize_with = "as_strings")]
        warnings: &'a [ValidationError],
    }
    /// The errors as strings, each written as it is located.
    struct AsStrings<'a>(&'a ErrorList<'a>);
    impl serde::Serialize for AsStrings<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.iter().map(|e| e.to_string()))
        }
    }
    fn as_strings<S: serde::Serializer, E: std::fmt::Display>(
        items: &&[E],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(items.iter().map(|e| e.to_string()))
    }
    let output = Output {
        artifacts: summary.map(|s| s.artifacts),
        buckets: summary.map(|s| s.buckets.keys().collect()),
        cadences: summary.map(|s| &s.cadences),
        errors: AsStrings(errors),
        valid: count == 0,
        warnings,
    };
    let mut out = std::io::BufWriter::new(super::out::stdout());
    serde_json::to_writer_pretty(&mut out, &output)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Errors and warnings on stderr: the errors in their order, each warning before the first
/// error of a later line. An error repeated word for word on many artifacts (the members of
/// one dependency cycle, the artifacts of one bad default) is printed
/// [`REPEATS_PRINTED`] times, then counted once at the end ([`Repeats`]).
fn print_problems(errors: impl Iterator<Item = ValidationError>, warnings: &[ValidationError]) {
    let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
    let mut warnings = warnings.iter().peekable();
    let mut repeats = Repeats::default();
    for error in errors {
        while let Some(warning) = warnings.next_if(|w| w.line < error.line) {
            let _ = writeln!(stderr, "{}", warning.as_warning());
        }
        if repeats.print(&error) {
            let _ = writeln!(stderr, "{error}");
        }
    }
    for warning in warnings {
        let _ = writeln!(stderr, "{}", warning.as_warning());
    }
    for line in repeats.summary() {
        let _ = writeln!(stderr, "{line}");
    }
}

/// How many times the same error (field and message) is printed before the rest are counted.
pub const REPEATS_PRINTED: usize = 20;

/// An error's field and message: what makes errors the same (their texts shared, not copied).
type ErrorKind = (Option<Arc<str>>, Arc<str>);

/// The errors seen per field and message, to print each at most [`REPEATS_PRINTED`] times.
#[derive(Default)]
struct Repeats {
    /// Per error: how many, and the lines of those not printed (first, last).
    seen: HashMap<ErrorKind, (usize, usize, usize)>,
    /// The errors cut, in the order their first cut one came.
    cut: Vec<ValidationError>,
}

impl Repeats {
    fn kind(error: &ValidationError) -> ErrorKind {
        (error.field.clone(), Arc::clone(&error.message))
    }

    /// Counts `error`; true while it is among the first of its kind.
    fn print(&mut self, error: &ValidationError) -> bool {
        let (n, first, last) = self.seen.entry(Repeats::kind(error)).or_insert((0, 0, 0));
        *n += 1;
        if *n <= REPEATS_PRINTED {
            return true;
        }
        if *n == REPEATS_PRINTED + 1 {
            *first = error.line;
            self.cut.push(error.clone());
        }
        *last = error.line;
        false
    }

    /// One line per error cut: how many more, their lines, and the error.
    fn summary(&self) -> Vec<String> {
        self.cut
            .iter()
            .map(|e| {
                let (n, first, last) = self.seen[&Repeats::kind(e)];
                let field = e
                    .field
                    .as_ref()
                    .map(|f| format!("field {f}: "))
                    .unwrap_or_default();
                format!(
                    "{}: and {} more with the same error (lines {first} to {last}; every one \
                     in --json): {field}{}",
                    e.file,
                    n - REPEATS_PRINTED,
                    e.message
                )
            })
            .collect()
    }
}

fn exit_code(errors: usize) -> ExitCode {
    ExitCode::from(if errors == 0 { 0 } else { 1 })
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", freshness_monitor::text::plural(n))
}

struct Summary {
    artifacts: usize,
    buckets: BTreeMap<String, usize>,
    cadences: BTreeMap<String, usize>,
}

impl Summary {
    fn of(registry: &Registry) -> Summary {
        let mut buckets = BTreeMap::new();
        let mut cadences = BTreeMap::new();
        for spec in registry.valid_artifacts() {
            *buckets.entry(spec.s3_bucket.to_string()).or_insert(0) += 1;
            *cadences.entry(spec.cadence.name().to_string()).or_insert(0) += 1;
        }
        Summary {
            artifacts: registry.entries.len(),
            buckets,
            cadences,
        }
    }
}

fn joined_counts(counts: &BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "none".to_string();
    }
    counts
        .iter()
        .map(|(name, n)| format!("{name} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}
