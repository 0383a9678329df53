//! S3 key templates: `{date}`, `{date:FMT}`, `{cycle_label}`, `{trading_day}`,
//! `{trading_day:FMT}`, and `{{` / `}}` for literal braces.
//!
//! A template is parsed once, when the registry loads, so an unknown placeholder or a date
//! format that cannot be rendered is a validation error naming the artifact, never a key that
//! silently never matches. Rendering cannot fail.

use std::fmt::{self, Write as _};

use chrono::NaiveDate;
use chrono::format::{Item, StrftimeItems};

/// A parsed key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `None` is the ISO date (`%Y-%m-%d`), written without chrono's formatter.
    Date(Option<DateFormat>),
    CycleLabel,
    TradingDay(Option<DateFormat>),
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
}

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
        if source.is_empty() {
            return Err(TemplateError::Empty);
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if matches!(chars.peek(), Some((_, '{'))) => {
                    chars.next();
                    literal.push('{');
                }
                '}' if matches!(chars.peek(), Some((_, '}'))) => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::UnmatchedClose(at + 1)),
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(TemplateError::Unclosed(at + 1));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(parse_placeholder(&name)?);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(KeyTemplate {
            source: source.to_string(),
            parts,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// A template without placeholders names the same key every cycle (a pointer): its
    /// freshness comes from LastModified alone.
    pub fn is_pointer(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    pub fn render(&self, values: &TemplateValues<'_>) -> String {
        let mut key = String::with_capacity(self.source.len() + 16);
        for part in &self.parts {
            match part {
                Part::Literal(text) => key.push_str(text),
                Part::Date(None) => write_iso_date(&mut key, values.date),
                Part::Date(Some(f)) => f.write(&mut key, values.date),
                Part::CycleLabel => key.push_str(values.cycle_label),
                Part::TradingDay(None) => write_iso_date(&mut key, values.trading_day),
                Part::TradingDay(Some(f)) => f.write(&mut key, values.trading_day),
            }
        }
        key
    }
}

impl fmt::Display for KeyTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn parse_placeholder(name: &str) -> Result<Part, TemplateError> {
    let (head, format) = match name.split_once(':') {
        Some((head, format)) => (head, Some(format)),
        None => (name, None),
    };
    let format = format.map(checked_format).transpose()?;
    match (head, format) {
        ("date", f) => Ok(Part::Date(f)),
        ("trading_day", f) => Ok(Part::TradingDay(f)),
        ("cycle_label", None) => Ok(Part::CycleLabel),
        _ => {
            let hint = crate::text::did_you_mean(head, &["date", "cycle_label", "trading_day"])
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
}
