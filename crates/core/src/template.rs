//! S3 key templates: `{date}`, `{date:FMT}`, `{cycle_label}`, `{trading_day}`,
//! `{trading_day:FMT}`, `{partition}` (an artifact with `partitions:`), and `{{` / `}}` for
//! literal braces.
//!
//! A template is parsed once, when the registry loads, so an unknown placeholder or a date
//! format that cannot be rendered is a validation error naming the artifact, never a key that
//! silently never matches. Rendering cannot fail.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use chrono::NaiveDate;
use chrono::format::{Item, StrftimeItems};

/// A parsed key template, kept compact: a registry holds one or two per artifact, a million
/// of them at once (issue 17). It keeps the text as written (which parsed, so reading its
/// placeholders again cannot fail) and, only when it has `{date:FMT}` or
/// `{trading_day:FMT}` placeholders, their parsed formats, shared by every template with the
/// same formats ([`DateFormatCache`]).
#[derive(Debug, Clone)]
pub struct KeyTemplate {
    source: Box<str>,
    /// The formats of the `:FMT` placeholders, in the order they appear; `None` when none has
    /// one.
    formats: Option<Arc<DateFormats>>,
}

/// Two templates are equal when they are written the same: the formats follow from the text.
impl PartialEq for KeyTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for KeyTemplate {}

/// The parsed formats of one template's `:FMT` placeholders, in order.
#[derive(Debug, PartialEq, Eq)]
struct DateFormats(Box<[DateFormat]>);

/// One piece of a template, read from its text: a literal run (an escaped brace is a piece of
/// its own, `{` or `}`) or a placeholder.
#[derive(Debug, Clone, Copy)]
enum Part<'t> {
    Literal(&'t str),
    /// `None` is the ISO date (`%Y-%m-%d`), written without chrono's formatter.
    Date(Option<&'t DateFormat>),
    CycleLabel,
    TradingDay(Option<&'t DateFormat>),
    /// `{partition}`: one value of the artifact's `partitions:` (a set's keys).
    Partition,
}

/// The parts of a template that parsed, in order.
struct Parts<'t> {
    rest: &'t str,
    formats: std::slice::Iter<'t, DateFormat>,
}

impl<'t> Iterator for Parts<'t> {
    type Item = Part<'t>;

    fn next(&mut self) -> Option<Part<'t>> {
        let rest = self.rest;
        let bytes = rest.as_bytes();
        let first = *bytes.first()?;
        let (part, used) = match first {
            // A doubled brace: the first of the two, as text.
            b'{' | b'}' if bytes.get(1) == Some(&first) => (Part::Literal(&rest[..1]), 2),
            b'{' => {
                let close = rest
                    .find('}')
                    .expect("a parsed template closes its placeholders");
                (self.placeholder(&rest[1..close]), close + 1)
            }
            _ => {
                let end = rest.find(['{', '}']).unwrap_or(rest.len());
                (Part::Literal(&rest[..end]), end)
            }
        };
        self.rest = &rest[used..];
        Some(part)
    }
}

impl<'t> Parts<'t> {
    /// A placeholder's part by its name (`date`, `date:FMT`, ...), as [`check_placeholder`]
    /// accepted it.
    fn placeholder(&mut self, name: &str) -> Part<'t> {
        let (head, has_format) = match name.split_once(':') {
            Some((head, _)) => (head, true),
            None => (name, false),
        };
        let format = if has_format {
            Some(self.formats.next().expect("one parsed format per `:FMT`"))
        } else {
            None
        };
        match head {
            "date" => Part::Date(format),
            "trading_day" => Part::TradingDay(format),
            "partition" => Part::Partition,
            _ => Part::CycleLabel,
        }
    }
}

/// The parsed formats of the templates read so far, by their text: a registry's million
/// templates use a handful of formats, parsed (and held) once each.
#[derive(Debug, Default)]
pub struct DateFormatCache {
    /// Each `FMT` seen, parsed.
    formats: HashMap<Box<str>, DateFormat>,
    /// Each template's list of formats, by the formats joined with `}`.
    lists: HashMap<String, Arc<DateFormats>>,
}

/// A strftime format parsed once, at load: rendering a key per artifact per pass must not
/// re-parse the format string each time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DateFormat(Vec<Item<'static>>);

impl DateFormat {
    fn write(&self, key: &mut String, date: NaiveDate) {
        // Writing to a String cannot fail, and the format rendered a date at parse time.
        let _ = write!(key, "{}", date.format_with_items(self.0.iter()));
    }

    /// The most bytes this format renders for a date in the years 0 to 9999: each item at its
    /// longest (a sum that no single date need reach, so never short).
    fn longest(&self) -> usize {
        self.0.iter().map(longest_item).sum()
    }

    /// At least [`DateFormat::longest`], without rendering anything.
    fn longest_bound(&self) -> usize {
        self.0
            .iter()
            .map(|item| literal_len(item).unwrap_or(MAX_ITEM_BYTES))
            .sum()
    }
}

/// The most bytes S3 accepts in an object key.
pub const MAX_S3_KEY_BYTES: usize = 1024;

/// More than any one date item renders (the longest are `Wednesday`, `September` and the ISO
/// year `-0001`): a bound that needs no rendering.
const MAX_ITEM_BYTES: usize = 32;

fn literal_len(item: &Item<'_>) -> Option<usize> {
    match item {
        Item::Literal(text) | Item::Space(text) => Some(text.len()),
        Item::OwnedLiteral(text) | Item::OwnedSpace(text) => Some(text.len()),
        _ => None,
    }
}

/// A date item's longest rendering, over [`LONGEST_RENDERING_DATES`].
fn longest_item(item: &Item<'_>) -> usize {
    if let Some(len) = literal_len(item) {
        return len;
    }
    LONGEST_RENDERING_DATES
        .iter()
        .filter_map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .map(|date| {
            let mut rendered = String::new();
            let _ = write!(
                rendered,
                "{}",
                date.format_with_items(std::iter::once(item.clone()))
            );
            rendered.len()
        })
        .max()
        .unwrap_or(MAX_ITEM_BYTES)
}

/// Dates on which each date item renders at its longest for the years 0 to 9999: the first
/// days (the ISO week-year of 0000-01-01 is -1, `-0001`), the last days (four-digit years), a
/// Wednesday in September (the longest day and month names) with a two-digit day, a
/// Wednesday in December (a two-digit month), the 366th day of a year, and a day in an ISO
/// week 53. A test checks them against every day of several whole years.
const LONGEST_RENDERING_DATES: [(i32, u32, u32); 8] = [
    (0, 1, 1),
    (0, 1, 3),
    (9999, 12, 27),
    (9999, 12, 31),
    (2024, 9, 18),
    (2024, 12, 25),
    (2024, 12, 31),
    (2020, 12, 31),
];

/// `YYYY-MM-DD`, as chrono's `%Y-%m-%d` writes it.
fn write_iso_date(key: &mut String, date: NaiveDate) {
    use chrono::Datelike;
    let year = date.year();
    if (0..=9999).contains(&year) {
        let mut digits = [0u8; 10];
        let mut put = |at: usize, value: u32, width: usize| {
            let mut v = value;
            for i in (0..width).rev() {
                digits[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year as u32, 4);
        put(5, date.month(), 2);
        put(8, date.day(), 2);
        digits[4] = b'-';
        digits[7] = b'-';
        key.push_str(std::str::from_utf8(&digits).expect("ASCII digits"));
    } else {
        let _ = write!(key, "{}", date.format("%Y-%m-%d"));
    }
}

/// What a template is rendered with: the values of one cycle.
#[derive(Debug, Clone, Copy)]
pub struct TemplateValues<'a> {
    pub date: NaiveDate,
    pub cycle_label: &'a str,
    pub trading_day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the template is empty")]
    Empty,
    /// `hint` is empty or a did-you-mean sentence ending in a space.
    #[error(
        "unknown placeholder {{{name}}}; {hint}known: {{date}}, {{date:FORMAT}}, \
         {{cycle_label}}, {{trading_day}}, {{trading_day:FORMAT}} (write {{{{ and }}}} for \
         literal braces)"
    )]
    UnknownPlaceholder { name: String, hint: String },
    #[error("unclosed `{{` at character {0} (write {{{{ for a literal brace)")]
    Unclosed(usize),
    #[error("unmatched `}}` at character {0} (write }}}} for a literal brace)")]
    UnmatchedClose(usize),
    #[error("date format {0:?} is not a valid strftime format for a date")]
    BadFormat(String),
}

/// A date every format is tried on at parse time, so a format that cannot render a date
/// (`%H`, `%Z`, a dangling `%`) is refused at validation instead of failing at run time.
const PROBE_DATE: (i32, u32, u32) = (2026, 5, 27);

impl KeyTemplate {
    pub fn parse(source: &str) -> Result<KeyTemplate, TemplateError> {
        KeyTemplate::parse_with(source, &mut DateFormatCache::default())
    }

    /// [`KeyTemplate::parse`], taking the parsed formats from `cache` (and adding new ones).
    pub fn parse_with(
        source: &str,
        cache: &mut DateFormatCache,
    ) -> Result<KeyTemplate, TemplateError> {
        if source.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut formats: Vec<&str> = Vec::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' | '}' if chars.next_if(|&(_, next)| next == c).is_some() => {}
                '}' => return Err(TemplateError::UnmatchedClose(at + 1)),
                '{' => {
                    let Some(length) = source[at + 1..].find('}') else {
                        return Err(TemplateError::Unclosed(at + 1));
                    };
                    let close = at + 1 + length;
                    formats.extend(check_placeholder(&source[at + 1..close], cache)?);
                    while chars.next_if(|&(i, _)| i <= close).is_some() {}
                }
                _ => {}
            }
        }
        Ok(KeyTemplate {
            source: source.into(),
            formats: cache.shared(&formats),
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The template's text, kept without a copy (an invalid entry keeps its spec's).
    pub fn into_source(self) -> Box<str> {
        self.source
    }

    /// The template's parts, read from its text.
    fn parts(&self) -> Parts<'_> {
        let formats: &[DateFormat] = self.formats.as_ref().map_or(&[], |f| &f.0);
        Parts {
            rest: &self.source,
            formats: formats.iter(),
        }
    }

    /// A template without placeholders names the same key every cycle (a pointer): its
    /// freshness comes from LastModified alone.
    pub fn is_pointer(&self) -> bool {
        self.parts().all(|p| matches!(p, Part::Literal(_)))
    }

    /// Whether keys depend on the cycle label, whose length depends on the cadence.
    pub fn uses_cycle_label(&self) -> bool {
        self.parts().any(|p| matches!(p, Part::CycleLabel))
    }

    /// The most bytes a key rendered from this template can take, for dates in the years 0 to
    /// 9999 and a cycle label of at most `longest_label` bytes.
    pub fn longest_key(&self, longest_label: usize) -> usize {
        self.parts()
            .map(|part| match part {
                Part::Date(Some(f)) | Part::TradingDay(Some(f)) => f.longest(),
                other => other.longest_without_format(longest_label),
            })
            .sum()
    }

    /// `Err` with [`KeyTemplate::longest_key`] when a rendered key can exceed S3's
    /// [`MAX_S3_KEY_BYTES`]. Renders nothing for the templates that clearly fit.
    pub fn check_key_length(&self, longest_label: usize) -> Result<(), usize> {
        let bound: usize = self
            .parts()
            .map(|part| match part {
                Part::Date(Some(f)) | Part::TradingDay(Some(f)) => f.longest_bound(),
                other => other.longest_without_format(longest_label),
            })
            .sum();
        if bound <= MAX_S3_KEY_BYTES {
            return Ok(());
        }
        match self.longest_key(longest_label) {
            longest if longest > MAX_S3_KEY_BYTES => Err(longest),
            _ => Ok(()),
        }
    }

    /// Whether keys name one partition of a set (`{partition}`).
    pub fn uses_partition(&self) -> bool {
        self.parts().any(|p| matches!(p, Part::Partition))
    }

    /// The key; `{partition}` is written as it stands (the set's keys as one text, for rows
    /// and messages; [`KeyTemplate::render_partition`] renders one partition's key).
    pub fn render(&self, values: &TemplateValues<'_>) -> String {
        self.render_with(values, "{partition}")
    }

    /// The key of one partition of a set.
    pub fn render_partition(&self, values: &TemplateValues<'_>, partition: &str) -> String {
        self.render_with(values, partition)
    }

    fn render_with(&self, values: &TemplateValues<'_>, partition: &str) -> String {
        let mut key = String::with_capacity(self.source.len() + 16);
        for part in self.parts() {
            match part {
                Part::Literal(text) => key.push_str(text),
                Part::Date(None) => write_iso_date(&mut key, values.date),
                Part::Date(Some(f)) => f.write(&mut key, values.date),
                Part::CycleLabel => key.push_str(values.cycle_label),
                Part::TradingDay(None) => write_iso_date(&mut key, values.trading_day),
                Part::TradingDay(Some(f)) => f.write(&mut key, values.trading_day),
                Part::Partition => key.push_str(partition),
            }
        }
        key
    }

    /// The literal text before the first placeholder: every key the template renders starts
    /// with it, so one listing of it finds every cycle's key. Borrowed from the template
    /// unless it has an escaped brace.
    pub fn fixed_prefix(&self) -> Cow<'_, str> {
        let mut literals = (self.parts())
            .map_while(|part| match part {
                Part::Literal(text) => Some(text),
                _ => None,
            })
            .fuse();
        let first = literals.next().unwrap_or_default();
        match literals.next() {
            None => Cow::Borrowed(first),
            Some(second) => {
                let mut prefix = format!("{first}{second}");
                prefix.extend(literals);
                Cow::Owned(prefix)
            }
        }
    }

    /// The literal text after the last placeholder: every key the template renders ends with
    /// it (the whole key for a pointer, as [`KeyTemplate::fixed_prefix`] is too). The event
    /// matcher indexes a template by it when it is longer than the prefix.
    pub fn fixed_suffix(&self) -> String {
        let mut literals: Vec<&str> = Vec::new();
        for part in self.parts() {
            match part {
                Part::Literal(text) => literals.push(text),
                _ => literals.clear(),
            }
        }
        literals.concat()
    }

    /// The keys of the template's shape for any cycle: the literals as written, each
    /// placeholder as what it can render (digits, names, a label without `/`).
    pub fn shape(&self) -> KeyShape {
        let mut pattern = String::from("^");
        for part in self.parts() {
            match part {
                Part::Literal(text) => pattern.push_str(&regex::escape(text)),
                Part::Date(None) | Part::TradingDay(None) => pattern.push_str(ISO_DATE_SHAPE),
                Part::Date(Some(f)) | Part::TradingDay(Some(f)) => f.shape(&mut pattern),
                Part::CycleLabel | Part::Partition => pattern.push_str("[^/]+"),
            }
        }
        pattern.push('$');
        KeyShape(regex::Regex::new(&pattern).expect("an escaped template is a valid pattern"))
    }
}

impl Part<'_> {
    /// The most bytes the part renders, a formatted date counting nothing.
    fn longest_without_format(self, longest_label: usize) -> usize {
        match self {
            Part::Literal(text) => text.len(),
            Part::Date(None) | Part::TradingDay(None) => "9999-12-31".len(),
            Part::Date(Some(_)) | Part::TradingDay(Some(_)) => 0,
            Part::CycleLabel => longest_label,
            // Checked against the longest value by the loader (`partitions:`).
            Part::Partition => 0,
        }
    }
}

impl DateFormatCache {
    /// Checks one `:FMT`, parsing it the first time it is seen.
    fn check(&mut self, format: &str) -> Result<(), TemplateError> {
        if !self.formats.contains_key(format) {
            let parsed = checked_format(format)?;
            self.formats.insert(format.into(), parsed);
        }
        Ok(())
    }

    /// The shared parsed formats of a template whose `:FMT`s are `formats` (all checked).
    fn shared(&mut self, formats: &[&str]) -> Option<Arc<DateFormats>> {
        if formats.is_empty() {
            return None;
        }
        // No format contains `}`: it ends the placeholder.
        let key = formats.join("}");
        if let Some(shared) = self.lists.get(&key) {
            return Some(Arc::clone(shared));
        }
        let parsed = formats.iter().map(|f| self.formats[*f].clone()).collect();
        let shared = Arc::new(DateFormats(parsed));
        self.lists.insert(key, Arc::clone(&shared));
        Some(shared)
    }
}

/// `{date}` at any year a pass computes with.
const ISO_DATE_SHAPE: &str = r"[+-]?\d{4,}-\d{2}-\d{2}";

impl DateFormat {
    /// Appends the pattern of what this format renders.
    fn shape(&self, pattern: &mut String) {
        use chrono::format::Fixed;
        for item in &self.0 {
            if let Some(text) = literal_text(item) {
                pattern.push_str(&regex::escape(text));
                continue;
            }
            pattern.push_str(match item {
                Item::Numeric(..) => r" *[+-]?\d+",
                Item::Fixed(
                    Fixed::ShortMonthName
                    | Fixed::LongMonthName
                    | Fixed::ShortWeekdayName
                    | Fixed::LongWeekdayName,
                ) => "[A-Za-z]+",
                _ => ".+?",
            });
        }
    }
}

fn literal_text<'i>(item: &'i Item<'_>) -> Option<&'i str> {
    match item {
        Item::Literal(text) | Item::Space(text) => Some(text),
        Item::OwnedLiteral(text) | Item::OwnedSpace(text) => Some(text),
        _ => None,
    }
}

/// Whether a key has a template's shape ([`KeyTemplate::shape`]).
#[derive(Debug, Clone)]
pub struct KeyShape(regex::Regex);

impl KeyShape {
    pub fn matches(&self, key: &str) -> bool {
        self.0.is_match(key)
    }
}

impl fmt::Display for KeyTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Checks one placeholder's name (`date`, `date:FMT`, ...), giving its `FMT` if any.
fn check_placeholder<'n>(
    name: &'n str,
    cache: &mut DateFormatCache,
) -> Result<Option<&'n str>, TemplateError> {
    let (head, format) = match name.split_once(':') {
        Some((head, format)) => (head, Some(format)),
        None => (name, None),
    };
    if let Some(format) = format {
        cache.check(format)?;
    }
    match (head, format) {
        ("date" | "trading_day", f) => Ok(f),
        ("cycle_label" | "partition", None) => Ok(None),
        _ => {
            let known = ["date", "cycle_label", "trading_day", "partition"];
            let hint = crate::text::did_you_mean(head, &known)
                .map(|known| format!("did you mean {{{known}}}? "))
                .unwrap_or_default();
            Err(TemplateError::UnknownPlaceholder {
                name: crate::text::shorten(name),
                hint,
            })
        }
    }
}

fn checked_format(format: &str) -> Result<DateFormat, TemplateError> {
    let bad = || TemplateError::BadFormat(format.to_string());
    if format.is_empty() || StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return Err(bad());
    }
    let (y, m, d) = PROBE_DATE;
    let date = NaiveDate::from_ymd_opt(y, m, d).expect("valid probe date");
    let mut rendered = String::new();
    write!(rendered, "{}", date.format(format)).map_err(|_| bad())?;
    let items = StrftimeItems::new(format)
        .parse_to_owned()
        .map_err(|_| bad())?;
    Ok(DateFormat(items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn values() -> TemplateValues<'static> {
        TemplateValues {
            date: NaiveDate::from_ymd_opt(2026, 5, 30).unwrap(),
            cycle_label: "2026-W22",
            trading_day: NaiveDate::from_ymd_opt(2026, 5, 29).unwrap(),
        }
    }

    fn render(t: &str) -> String {
        KeyTemplate::parse(t).unwrap().render(&values())
    }

    #[test]
    fn renders_every_placeholder() {
        assert_eq!(
            render("backtest/{date}/p.json"),
            "backtest/2026-05-30/p.json"
        );
        assert_eq!(render("x/{date:%Y/%m/%d}/y"), "x/2026/05/30/y");
        assert_eq!(render("w/{cycle_label}.json"), "w/2026-W22.json");
        assert_eq!(render("t/{trading_day}"), "t/2026-05-29");
        assert_eq!(render("t/{trading_day:%Y%m%d}"), "t/20260529");
        assert_eq!(
            render("{date:%A %B %-d, %y %j %U}"),
            "Saturday May 30, 26 150 21"
        );
    }

    #[test]
    fn iso_dates_match_chrono_outside_four_digit_years() {
        for (y, m, d) in [
            (1, 1, 1),
            (999, 12, 31),
            (2026, 1, 9),
            (9999, 12, 31),
            (10000, 1, 1),
            (-5, 3, 4),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let mut ours = String::new();
            write_iso_date(&mut ours, date);
            assert_eq!(ours, date.format("%Y-%m-%d").to_string());
        }
    }

    #[test]
    fn doubled_braces_are_literal() {
        assert_eq!(render("a/{{date}}/{date}"), "a/{date}/2026-05-30");
        assert_eq!(render("}}{{"), "}{");
    }

    #[test]
    fn a_template_without_placeholders_is_a_pointer() {
        assert!(
            KeyTemplate::parse("latest/pointer.json")
                .unwrap()
                .is_pointer()
        );
        assert!(KeyTemplate::parse("a{{b}}").unwrap().is_pointer());
        assert!(!KeyTemplate::parse("a/{date}").unwrap().is_pointer());
    }

    #[test]
    fn the_longest_key_counts_every_part_at_its_longest() {
        let longest = |t: &str, label: usize| KeyTemplate::parse(t).unwrap().longest_key(label);
        assert_eq!(longest("a/{date}/b.json", 0), 2 + 10 + 7);
        assert_eq!(longest("{trading_day:%Y/%m/%d}", 0), 10);
        assert_eq!(
            longest("{date:%A, %B %-d}", 0),
            "Wednesday, September 18".len()
        );
        assert_eq!(longest("{date:%G}", 0), "-0001".len());
        assert_eq!(longest("{date:%j}{date:%-j}", 0), 6);
        assert_eq!(longest("w/{cycle_label}", 9), 11);
        assert_eq!(longest("{{é}}", 0), "{é}".len());
    }

    /// The chosen dates give every item's longest rendering: checked against every day of
    /// the first, last and some other years, and every 97th day in between.
    #[test]
    fn the_longest_rendering_dates_are_the_longest_of_every_day() {
        let days = |year: i32| {
            let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            first.iter_days().take_while(move |d| d.year() == year)
        };
        let all: Vec<NaiveDate> = [0, 1, 999, 1000, 2020, 2024, 2026, 9998, 9999]
            .into_iter()
            .flat_map(days)
            .chain(
                NaiveDate::from_ymd_opt(0, 1, 1)
                    .unwrap()
                    .iter_days()
                    .step_by(97)
                    .take_while(|d| d.year() <= 9999),
            )
            .collect();
        for spec in [
            "%Y", "%-Y", "%C", "%y", "%G", "%g", "%m", "%-m", "%b", "%B", "%h", "%d", "%-d", "%e",
            "%a", "%A", "%w", "%u", "%U", "%-U", "%W", "%-W", "%V", "%-V", "%j", "%-j", "%D", "%x",
            "%F", "%v", "%n", "%t", "%%",
        ] {
            let format = checked_format(spec).unwrap();
            let brute = all
                .iter()
                .map(|d| d.format(spec).to_string().len())
                .max()
                .unwrap();
            assert_eq!(format.longest(), brute, "{spec}");
            assert!(format.longest() <= format.longest_bound(), "{spec}");
        }
    }

    #[test]
    fn a_key_past_1024_bytes_is_refused_with_its_length() {
        let check = |t: &str, label: usize| KeyTemplate::parse(t).unwrap().check_key_length(label);
        let long = "k".repeat(1000);
        assert_eq!(check(&format!("{long}/{{date}}"), 0), Ok(()));
        assert_eq!(check(&format!("{long}/{{date:%A %B}}"), 0), Ok(()));
        assert_eq!(check(&format!("{long}/{{date:%A %B %A}}"), 0), Err(1030));
        assert_eq!(check(&format!("{long}/{{date:%a %b %d}}"), 0), Ok(()));
        assert_eq!(check(&format!("{long}/{{cycle_label}}"), 23), Ok(()));
        assert_eq!(check(&format!("{long}/{{cycle_label}}"), 24), Err(1025));
    }

    #[test]
    fn rejects_what_would_never_match() {
        let err = |t: &str| KeyTemplate::parse(t).unwrap_err().to_string();
        assert!(
            err("a/{datee}/b")
                .starts_with("unknown placeholder {datee}; did you mean {date}? known: {date}")
        );
        assert!(err("a/{cycle}/b").starts_with("unknown placeholder {cycle}; known: {date}"));
        assert!(
            err("a/{tradingday:%Y}/b")
                .starts_with("unknown placeholder {tradingday:%Y}; did you mean {trading_day}?")
        );
        assert!(err("a/{cycle_label:%Y}").starts_with("unknown placeholder"));
        assert!(err("a/{date").starts_with("unclosed `{` at character 3"));
        assert!(err("a}b").starts_with("unmatched `}` at character 2"));
        assert!(err("{date:%H}").contains("not a valid strftime format"));
        assert!(err("{date:%Q}").contains("not a valid strftime format"));
        assert!(err("{date:}").contains("not a valid strftime format"));
        assert_eq!(err(""), "the template is empty");
    }

    #[test]
    fn the_shape_of_a_template_matches_its_keys_for_any_cycle_and_nothing_else() {
        let weekly = KeyTemplate::parse("weekly/{date}/signals.csv").unwrap();
        assert_eq!(weekly.fixed_prefix(), "weekly/");
        let shape = weekly.shape();
        assert!(shape.matches("weekly/2026-11-27/signals.csv"));
        assert!(shape.matches("weekly/2026-11-28/signals.csv"));
        assert!(!shape.matches("weekly/2026-11-27/signals.csv.tmp"));
        assert!(!shape.matches("weekly/latest/signals.csv"));
        assert!(!shape.matches("weekly/2026-11-27/other.csv"));

        let formatted = KeyTemplate::parse("p/{date:%Y/%m/%d}/{cycle_label}-{date:%b}.json")
            .unwrap()
            .shape();
        assert!(formatted.matches("p/2026/11/27/2026-W48-Nov.json"));
        assert!(!formatted.matches("p/2026/11/27/a/b-Nov.json"));
        assert!(!formatted.matches("p/2026-11-27/2026-W48-Nov.json"));

        let leading = KeyTemplate::parse("{date}.csv").unwrap();
        assert_eq!(leading.fixed_prefix(), "");
        let escaped = KeyTemplate::parse("a{{b}}/c/{date}/{{d").unwrap();
        assert_eq!(escaped.fixed_prefix(), "a{b}/c/");
        assert!(escaped.shape().matches("a{b}/c/2026-11-27/{d"));
        // Regex characters in literals are literal.
        let dotted = KeyTemplate::parse("a.b/{date}+x.json").unwrap().shape();
        assert!(dotted.matches("a.b/2026-01-01+x.json"));
        assert!(!dotted.matches("aXb/2026-01-01+x.json"));
    }
}
