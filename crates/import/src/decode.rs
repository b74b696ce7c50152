//! Streaming byte plumbing under the CSV parser: a byte counter for progress
//! bars and a GB18030-to-UTF-8 transcoder.
//!
//! The transcoder works chunk by chunk so a file of any size is decoded in
//! constant memory, and it fails (instead of substituting U+FFFD) on the first
//! undecodable byte, reporting its line.

use std::fmt;
use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult};

use crate::encoding::TextEncoding;

/// Where a byte sequence failed to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeFault {
    /// 1-based physical line of the bad bytes.
    pub(crate) line: u64,
    /// Byte offset of the bad bytes in the input.
    pub(crate) offset: u64,
    /// The bad bytes (empty when the input ends inside a character).
    pub(crate) bytes: Vec<u8>,
}

impl DecodeFault {
    /// "byte 0xFF", "bytes 0x81 0x20", or the end-of-file case.
    pub(crate) fn describe_bytes(&self) -> String {
        match self.bytes.as_slice() {
            [] => "the end of the file (it stops in the middle of a character)".to_owned(),
            [byte] => format!("byte 0x{byte:02X}"),
            bytes => {
                let hex: Vec<String> = bytes.iter().map(|b| format!("0x{b:02X}")).collect();
                format!("bytes {}", hex.join(" "))
            }
        }
    }
}

impl fmt::Display for DecodeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} cannot be decoded", self.line, self.describe_bytes())
    }
}

impl std::error::Error for DecodeFault {}

#[expect(clippy::naive_bytecount, reason = "the compiler vectorises this; not worth a dependency")]
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    to_u64(bytes.iter().filter(|&&b| b == b'\n').count())
}

/// `usize` to `u64` without a lossy cast (saturates on exotic targets).
pub(crate) fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `read` that retries when interrupted by a signal.
pub(crate) fn read_retrying<R: Read + ?Sized>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// Counts the bytes taken from the wrapped reader.
pub(crate) struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R> CountingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self { inner, count: 0 }
    }

    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += to_u64(n);
        Ok(n)
    }
}

const BUFFER: usize = 64 * 1024;

/// Decodes a byte stream to UTF-8 on the fly; undecodable input is an
/// `io::ErrorKind::InvalidData` error carrying a [`DecodeFault`].
pub(crate) struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    input_pos: usize,
    input_len: usize,
    input_done: bool,
    output: Box<[u8]>,
    output_pos: usize,
    output_len: usize,
    finished: bool,
    offset: u64,
    newlines: u64,
}

impl<R: Read> DecodingReader<R> {
    /// `start_offset` is where `inner` starts in the file (after a BOM), so
    /// that faults report file offsets.
    pub(crate) fn new(inner: R, encoding: TextEncoding, start_offset: u64) -> Self {
        Self {
            inner,
            decoder: encoding.codec().new_decoder_without_bom_handling(),
            input: vec![0; BUFFER].into_boxed_slice(),
            input_pos: 0,
            input_len: 0,
            input_done: false,
            output: vec![0; BUFFER * 3 + 16].into_boxed_slice(),
            output_pos: 0,
            output_len: 0,
            finished: false,
            offset: start_offset,
            newlines: 0,
        }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    fn decode_more(&mut self) -> io::Result<()> {
        if self.input_pos == self.input_len && !self.input_done {
            let n = read_retrying(&mut self.inner, &mut self.input)?;
            self.input_pos = 0;
            self.input_len = n;
            self.input_done = n == 0;
        }
        let src = &self.input[self.input_pos..self.input_len];
        let (result, read, written) =
            self.decoder.decode_to_utf8_without_replacement(src, &mut self.output, self.input_done);
        if let DecoderResult::Malformed(bad_len, extra) = result {
            let end = read.saturating_sub(usize::from(extra));
            let bad_start = end.saturating_sub(usize::from(bad_len));
            let fault = DecodeFault {
                line: 1 + self.newlines + count_newlines(&src[..bad_start]),
                offset: self.offset + to_u64(bad_start),
                bytes: src[bad_start..end].to_vec(),
            };
            // Nothing after a fault is trustworthy; end the stream.
            self.finished = true;
            return Err(io::Error::new(io::ErrorKind::InvalidData, fault));
        }
        self.newlines += count_newlines(&src[..read]);
        self.offset += to_u64(read);
        self.input_pos += read;
        self.output_pos = 0;
        self.output_len = written;
        if result == DecoderResult::InputEmpty && self.input_done {
            self.finished = true;
        }
        Ok(())
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.output_pos == self.output_len {
            if self.finished {
                return Ok(0);
            }
            self.decode_more()?;
        }
        let available = &self.output[self.output_pos..self.output_len];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.output_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out one byte per `read`, to split every multi-byte character.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.is_empty()) {
                (Some((first, rest)), false) => {
                    buf[0] = *first;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn decodes_gb18030_split_into_single_bytes() {
        let text = "客户名称,电话\n深圳某某科技有限公司,0755-1234\n";
        let (bytes, _, _) = encoding_rs::GB18030.encode(text);
        let mut reader = DecodingReader::new(Trickle(&bytes), TextEncoding::Gb18030, 0);
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn reports_line_of_bad_byte() {
        let mut bytes = encoding_rs::GB18030.encode("名称\n张三\n").0.into_owned();
        bytes.extend_from_slice(b"ok\n\x81\x20\n");
        let mut reader = DecodingReader::new(bytes.as_slice(), TextEncoding::Gb18030, 0);
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        let fault = err.get_ref().and_then(|e| e.downcast_ref::<DecodeFault>()).unwrap();
        assert_eq!(fault.line, 4);
    }

    #[test]
    fn counts_bytes() {
        let mut reader = CountingReader::new(&b"abcdef"[..]);
        let mut buf = [0; 4];
        assert_eq!(reader.read(&mut buf).unwrap(), 4);
        assert_eq!(reader.count(), 4);
    }
}
