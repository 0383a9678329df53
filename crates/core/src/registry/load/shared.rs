//! One copy of each value that many artifacts repeat, shared while the registry loads: a
//! bucket or owner named by a million artifacts is one allocation, not a million, and a
//! template's date formats are parsed once per distinct format (issue 17).
//!
//! Equal text gives the same [`Arc`]; different text never does.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use crate::template::{DateFormatCache, KeyTemplate, TemplateError};

/// The values shared so far in one load.
#[derive(Debug, Default)]
pub(super) struct SharedValues {
    texts: RefCell<HashSet<Arc<str>>>,
    formats: RefCell<DateFormatCache>,
}

impl SharedValues {
    /// `text`, shared with every earlier value equal to it.
    pub fn text(&self, text: &str) -> Arc<str> {
        let mut texts = self.texts.borrow_mut();
        if let Some(shared) = texts.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        texts.insert(Arc::clone(&shared));
        shared
    }

    /// [`KeyTemplate::parse`], sharing the parsed date formats.
    pub fn template(&self, source: &str) -> Result<KeyTemplate, TemplateError> {
        KeyTemplate::parse_with(source, &mut self.formats.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_allocation_and_different_ones_never_do() {
        let shared = SharedValues::default();
        let a = shared.text("bucket-a");
        let again = shared.text(&String::from("bucket-a"));
        let b = shared.text("bucket-b");
        let prefix = shared.text("bucket");
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!((&*a, &*b, &*prefix), ("bucket-a", "bucket-b", "bucket"));
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(&*shared.text("Bucket-A"), "Bucket-A");
    }

    #[test]
    fn templates_with_the_same_formats_render_as_parsed_alone() {
        let shared = SharedValues::default();
        let values = crate::template::TemplateValues {
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            cycle_label: "2026-W48",
            trading_day: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        };
        for source in [
            "a/{date:%Y/%m/%d}/x",
            "b/{date:%Y/%m/%d}/{trading_day:%d}",
            "c/{trading_day:%Y/%m/%d}/{date:%d}",
            "d/{date:%d}/{trading_day:%Y/%m/%d}",
            "e/{date:%Y{}/{cycle_label}",
            "f/{date:%Y/%m/%d}/x",
        ] {
            let alone = KeyTemplate::parse(source).unwrap();
            let with_shared = shared.template(source).unwrap();
            assert_eq!(
                with_shared.render(&values),
                alone.render(&values),
                "{source}"
            );
        }
    }
}
