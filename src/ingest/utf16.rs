//! UTF-16 text with a byte-order mark (Excel's "Unicode Text" re-save,
//! PowerShell 5's `Out-File` default), decoded to UTF-8 as it streams so
//! the readers see the text they know.

use std::io::{self, Read};

/// The encoding a byte-order mark at the start of `head` announces.
pub fn bom(head: &[u8]) -> Option<Endian> {
    match head {
        [0xFF, 0xFE, ..] => Some(Endian::Little),
        [0xFE, 0xFF, ..] => Some(Endian::Big),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

impl Endian {
    pub fn name(self) -> &'static str {
        match self {
            Endian::Little => "UTF-16 LE",
            Endian::Big => "UTF-16 BE",
        }
    }
}

/// Reads UTF-16 from `inner` (its byte-order mark included) and yields
/// UTF-8. Unpaired surrogates and a dangling odd byte become U+FFFD, the
/// way invalid UTF-8 is repaired elsewhere.
pub struct Utf16Reader<R> {
    inner: R,
    endian: Endian,
    raw: Vec<u8>,
    /// Undecoded bytes are `raw[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    out: Vec<u8>,
    out_pos: usize,
    bom_seen: bool,
}

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, endian: Endian) -> Self {
        Utf16Reader {
            inner,
            endian,
            raw: vec![0; 64 << 10],
            start: 0,
            end: 0,
            eof: false,
            high: None,
            out: Vec::with_capacity(96 << 10),
            out_pos: 0,
            bom_seen: false,
        }
    }

    /// Decodes the next chunk into `out`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() {
            if self.end - self.start < 2 && !self.eof {
                self.raw.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                let n = loop {
                    match self.inner.read(&mut self.raw[self.end..]) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                self.end += n;
                self.eof = n == 0;
                continue;
            }
            if self.end - self.start < 2 {
                // The end: a lone high surrogate or an odd last byte.
                if self.high.take().is_some() || self.end > self.start {
                    self.start = self.end;
                    push_char(&mut self.out, char::REPLACEMENT_CHARACTER);
                }
                return Ok(!self.out.is_empty());
            }
            while self.end - self.start >= 2 {
                let pair = [self.raw[self.start], self.raw[self.start + 1]];
                self.start += 2;
                let unit = match self.endian {
                    Endian::Little => u16::from_le_bytes(pair),
                    Endian::Big => u16::from_be_bytes(pair),
                };
                if !self.bom_seen {
                    self.bom_seen = true;
                    if unit == 0xFEFF {
                        continue;
                    }
                }
                self.decode(unit);
            }
        }
        Ok(true)
    }

    fn decode(&mut self, unit: u16) {
        match (self.high.take(), unit) {
            (Some(h), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                push_char(
                    &mut self.out,
                    char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
                );
            }
            (prev, _) => {
                if prev.is_some() {
                    push_char(&mut self.out, char::REPLACEMENT_CHARACTER);
                }
                match unit {
                    0xD800..=0xDBFF => self.high = Some(unit),
                    0xDC00..=0xDFFF => push_char(&mut self.out, char::REPLACEMENT_CHARACTER),
                    _ => push_char(
                        &mut self.out,
                        char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
                    ),
                }
            }
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos == self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], endian: Endian) -> String {
        let mut s = String::new();
        Utf16Reader::new(bytes, endian)
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn both_byte_orders_with_surrogates_and_damage() {
        let text = "Date (UTC)\tUser\n2026-03-02\tJosé 🙂\n";
        let le: Vec<u8> = "\u{feff}"
            .encode_utf16()
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "\u{feff}"
            .encode_utf16()
            .chain(text.encode_utf16())
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(bom(&le), Some(Endian::Little));
        assert_eq!(bom(&be), Some(Endian::Big));
        assert_eq!(decode(&le, Endian::Little), text);
        assert_eq!(decode(&be, Endian::Big), text);
        // A lone surrogate and an odd last byte are replaced, not fatal.
        let mut bad = le.clone();
        bad.extend_from_slice(&[0x00, 0xD8, b'x', 0x00, 0x41]);
        assert_eq!(
            decode(&bad, Endian::Little),
            format!("{text}\u{fffd}x\u{fffd}")
        );
    }
}
