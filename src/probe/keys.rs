//! The canonical keys a pass plans its listings from, held compactly: a million-artifact pass
//! renders a few hundred thousand of them at once (issue 17), so they share one text buffer
//! (4 bytes of offset each) and their buckets are held once per run of neighbours, instead of a
//! `String` and a bucket reference per key.

/// Keys to plan, by position (the position of the artifact among those to probe); a position
/// may have no key (an artifact that lists its own prefix, a template that could not render).
#[derive(Debug, Default)]
pub struct ProbeKeys<'a> {
    /// Every key's text, one after the other.
    text: String,
    /// Where each position's key ends in `text` (it starts where the previous one ends).
    ends: Vec<KeyEnd>,
    /// The bucket from each position on, until the next run (`None`: no key there).
    runs: Vec<BucketRun<'a>>,
}

/// Where one key ends in [`ProbeKeys`]'s text: a `u32`, since a pass's keys are far under
/// 4 GiB (a position past that gets no key, so it is HEADed as without listings).
type KeyEnd = u32;

/// The bucket of the positions from `from` on.
#[derive(Debug, Clone, Copy)]
struct BucketRun<'a> {
    from: usize,
    bucket: Option<&'a str>,
}

impl<'a> ProbeKeys<'a> {
    /// Room for `positions` keys of about `bytes` bytes in all.
    pub fn with_capacity(positions: usize, bytes: usize) -> Self {
        ProbeKeys {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(positions),
            runs: Vec::new(),
        }
    }

    /// The next position's key: `bucket` and the key text `render` writes, or nothing when
    /// `render` says so (`false`).
    pub fn push(&mut self, bucket: &'a str, render: impl FnOnce(&mut String) -> bool) {
        let start = self.text.len();
        let rendered = render(&mut self.text);
        match KeyEnd::try_from(self.text.len()) {
            Ok(end) if rendered => self.push_end(Some(bucket), end),
            _ => {
                self.text.truncate(start);
                self.push_none();
            }
        }
    }

    /// The next position has no key.
    pub fn push_none(&mut self) {
        let end = self.ends.last().copied().unwrap_or(0);
        self.push_end(None, end);
    }

    fn push_end(&mut self, bucket: Option<&'a str>, end: KeyEnd) {
        if self.runs.last().is_none_or(|run| run.bucket != bucket) {
            self.runs.push(BucketRun {
                from: self.ends.len(),
                bucket,
            });
        }
        self.ends.push(end);
    }

    /// How many positions there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `(bucket, key)` at `position`, if it has one.
    pub fn get(&self, position: usize) -> Option<(&'a str, &str)> {
        let run = self.runs.partition_point(|run| run.from <= position);
        let bucket = self.runs[run.checked_sub(1)?].bucket?;
        let start = position.checked_sub(1).map_or(0, |p| self.ends[p]) as usize;
        let end = *self.ends.get(position)? as usize;
        Some((bucket, &self.text[start..end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_position_gives_back_its_own_bucket_and_key_or_none() {
        let mut keys = ProbeKeys::with_capacity(6, 0);
        keys.push("b1", |t| {
            t.push_str("daily/a.json");
            true
        });
        keys.push_none();
        keys.push("b1", |t| {
            t.push_str("daily/b.json");
            true
        });
        keys.push("b2", |t| {
            t.push_str("daily/b.json");
            true
        });
        keys.push("b2", |t| {
            t.push_str("half written");
            false
        });
        keys.push("b1", |t| {
            t.push_str("é/c");
            true
        });
        let got: Vec<_> = (0..keys.len()).map(|i| keys.get(i)).collect();
        assert_eq!(
            got,
            [
                Some(("b1", "daily/a.json")),
                None,
                Some(("b1", "daily/b.json")),
                Some(("b2", "daily/b.json")),
                None,
                Some(("b1", "é/c")),
            ]
        );
        assert_eq!(keys.get(6), None);
    }

    #[test]
    fn an_empty_key_is_a_key_and_not_its_neighbours() {
        let mut keys = ProbeKeys::default();
        keys.push("b", |t| {
            t.push('x');
            true
        });
        keys.push("b", |_| true);
        assert_eq!(keys.get(0), Some(("b", "x")));
        assert_eq!(keys.get(1), Some(("b", "")));
    }
}
