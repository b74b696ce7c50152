//! Exact physical line numbers for CSV records.
//!
//! The csv crate stamps a record with the position where it *started
//! looking* for it, before silently skipping empty lines, so a record after
//! blank lines would be reported too early. This reader, placed directly
//! under the parser, remembers where the newlines of the recent input are;
//! the empty lines at the stamped position are then counted and added.
//!
//! It also remembers where the quote characters are, to recognise a quote
//! that is never closed: the parser then reads the rest of the file into
//! one cell without complaint, which would silently swallow every row after
//! it.

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::decode::to_u64;

pub(crate) struct LineTracker<R> {
    inner: R,
    /// Bytes handed to the parser so far.
    offset: u64,
    /// Offsets of the newlines handed out and not yet passed by the parser.
    newlines: VecDeque<u64>,
    /// Offsets of the `"` characters, likewise.
    quotes: VecDeque<u64>,
    /// Whether the input has reported its end.
    at_eof: bool,
}

impl<R> LineTracker<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, offset: 0, newlines: VecDeque::new(), quotes: VecDeque::new(), at_eof: false }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Where a record really starts, `(line, byte offset)`, given the
    /// position csv stamped on it. Requires that the parser consumes each
    /// record's terminating `\n` with the record (terminator `\n`, not
    /// CRLF), so that the stamp stands at the start of a line. Forgets what
    /// lies before the stamp, so call it for every record in order.
    pub(crate) fn record_start(&mut self, stamp: &csv::Position) -> (u64, u64) {
        let stamped = stamp.byte();
        forget_before(&mut self.newlines, stamped);
        forget_before(&mut self.quotes, stamped);
        let empty_lines = to_u64(
            self.newlines.iter().zip(stamped..).take_while(|(newline, expected)| **newline == *expected).count(),
        );
        (stamp.line() + empty_lines, stamped + empty_lines)
    }

    /// Whether the record from byte `start` to `end` ran to the end of the
    /// input with a quote left open (an odd number of `"` in it).
    pub(crate) fn quote_left_open(&self, start: u64, end: u64) -> bool {
        self.at_eof && end == self.offset && self.quotes.iter().filter(|&&q| (start..end).contains(&q)).count() % 2 == 1
    }
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.at_eof = true;
        }
        for (i, byte) in buf[..n].iter().enumerate() {
            match byte {
                b'\n' => self.newlines.push_back(self.offset + to_u64(i)),
                b'"' => self.quotes.push_back(self.offset + to_u64(i)),
                _ => {}
            }
        }
        self.offset += to_u64(n);
        Ok(n)
    }
}

fn forget_before(offsets: &mut VecDeque<u64>, start: u64) {
    while offsets.front().is_some_and(|&offset| offset < start) {
        offsets.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start_lines(text: &str) -> Vec<(String, u64)> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(LineTracker::new(text.as_bytes()));
        let mut record = csv::StringRecord::new();
        let mut lines = Vec::new();
        while reader.read_record(&mut record).unwrap() {
            let stamp = record.position().unwrap().clone();
            let (line, _) = reader.get_mut().record_start(&stamp);
            lines.push((record.get(0).unwrap().trim().to_owned(), line));
        }
        lines
    }

    #[test]
    fn counts_skipped_empty_lines() {
        let lines = start_lines("\nh\n\n\na\r\n\r\n\"b\nb\"\n\nc");
        let expected = [("h", 2), ("a", 5), ("", 6), ("b\nb", 7), ("c", 10)];
        let expected: Vec<(String, u64)> = expected.iter().map(|(s, l)| ((*s).to_owned(), *l)).collect();
        assert_eq!(lines, expected);
    }
}
