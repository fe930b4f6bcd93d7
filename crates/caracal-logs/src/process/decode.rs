//! Decoding: gzip (including concatenated members) and zstd are undone when the first bytes
//! say so; UTF-16 text (a byte order mark, or ASCII with every other byte zero) becomes
//! UTF-8. Everything else is read as it is: UTF-8, with a byte order mark skipped later.

use std::io::{self, BufRead, BufReader, Read};

const CAPACITY: usize = 256 << 10;

/// Opens a byte stream, undoing gzip (including concatenated members) or zstd when the
/// first bytes say so, and turning UTF-16 text (little or big endian, found by its byte
/// order mark or by zero high bytes in its first characters) into UTF-8.
pub fn decode<'r>(reader: impl Read + 'r) -> io::Result<Box<dyn BufRead + 'r>> {
    let mut raw = BufReader::with_capacity(CAPACITY, reader);
    let head = raw.fill_buf()?;
    let mut decompressed: Box<dyn BufRead + 'r> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(CAPACITY, flate2::bufread::MultiGzDecoder::new(raw)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(BufReader::with_capacity(CAPACITY, zstd::Decoder::with_buffer(raw)?))
    } else {
        Box::new(raw)
    };
    let head = decompressed.fill_buf()?;
    match utf16(head) {
        Some((order, bom)) => {
            decompressed.consume(bom);
            let utf8 = Utf16ToUtf8::new(decompressed, order);
            Ok(Box::new(BufReader::with_capacity(CAPACITY, utf8)))
        }
        None => Ok(decompressed),
    }
}

/// The byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Little,
    Big,
}

/// Says whether `head` starts UTF-16 text, and the length of its byte order mark.
fn utf16(head: &[u8]) -> Option<(Order, usize)> {
    if head.starts_with(&[0xff, 0xfe]) {
        return Some((Order::Little, 2));
    }
    if head.starts_with(&[0xfe, 0xff]) {
        return Some((Order::Big, 2));
    }
    // Without a mark: four ASCII characters with zero high bytes (`{\0"\0...`), which no
    // UTF-8 log starts with.
    let units = head.get(..8)?;
    let ascii = |b: u8| b != 0 && b.is_ascii();
    let pairs = || units.chunks_exact(2);
    if pairs().all(|p| ascii(p[0]) && p[1] == 0) {
        Some((Order::Little, 0))
    } else if pairs().all(|p| p[0] == 0 && ascii(p[1])) {
        Some((Order::Big, 0))
    } else {
        None
    }
}

/// Reads UTF-16 from `inner` and gives UTF-8. An unpaired surrogate or a dangling byte at
/// the end is an `InvalidData` error naming its offset.
struct Utf16ToUtf8<R> {
    inner: R,
    order: Order,
    /// Offset in the UTF-16 input, for errors.
    offset: u64,
    /// Encoded UTF-8 not yet handed out.
    pending: [u8; 4],
    pending_len: usize,
    pending_pos: usize,
    /// The error met, returned by every `read` once the output before it was handed out.
    error: Option<(io::ErrorKind, String)>,
}

impl<R: BufRead> Utf16ToUtf8<R> {
    fn new(inner: R, order: Order) -> Self {
        Utf16ToUtf8 {
            inner,
            order,
            offset: 0,
            pending: [0; 4],
            pending_len: 0,
            pending_pos: 0,
            error: None,
        }
    }

    /// The next UTF-16 code unit; `None` at the end of input.
    fn unit(&mut self) -> io::Result<Option<u16>> {
        let mut pair = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                if got == 0 {
                    return Ok(None);
                }
                return Err(self.invalid("the input ends in the middle of a UTF-16 character"));
            }
            let n = buf.len().min(2 - got);
            pair[got..got + n].copy_from_slice(&buf[..n]);
            self.inner.consume(n);
            got += n;
        }
        self.offset += 2;
        Ok(Some(match self.order {
            Order::Little => u16::from_le_bytes(pair),
            Order::Big => u16::from_be_bytes(pair),
        }))
    }

    fn invalid(&self, what: &str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, format!("{what} (byte {})", self.offset))
    }

    /// The next character; `None` at the end of input.
    fn char(&mut self) -> io::Result<Option<char>> {
        let Some(first) = self.unit()? else { return Ok(None) };
        let code = match first {
            0xd800..=0xdbff => match self.unit()? {
                Some(low @ 0xdc00..=0xdfff) => {
                    0x10000 + ((u32::from(first) - 0xd800) << 10) + (u32::from(low) - 0xdc00)
                }
                _ => return Err(self.invalid("unpaired UTF-16 surrogate")),
            },
            0xdc00..=0xdfff => return Err(self.invalid("unpaired UTF-16 surrogate")),
            unit => u32::from(unit),
        };
        char::from_u32(code).map(Some).ok_or_else(|| self.invalid("invalid UTF-16 character"))
    }
}

impl<R: BufRead> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, message)) = &self.error
            && self.pending_pos == self.pending_len
        {
            return Err(io::Error::new(*kind, message.clone()));
        }
        let mut n = 0;
        while n < buf.len() {
            if self.pending_pos == self.pending_len {
                if self.error.is_some() {
                    break;
                }
                let c = match self.char() {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(err) => {
                        self.error = Some((err.kind(), err.to_string()));
                        if n == 0 {
                            return Err(err);
                        }
                        break;
                    }
                };
                self.pending_len = c.encode_utf8(&mut self.pending).len();
                self.pending_pos = 0;
            }
            let take = (self.pending_len - self.pending_pos).min(buf.len() - n);
            buf[n..n + take]
                .copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + take]);
            self.pending_pos += take;
            n += take;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(bytes: &[u8]) -> io::Result<String> {
        let mut out = String::new();
        decode(bytes)?.read_to_string(&mut out)?;
        Ok(out)
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xff, 0xfe] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    // #11.14: UTF-16 input is read as text, not as thousands of unclassified lines.
    #[test]
    fn utf16_with_or_without_a_byte_order_mark_becomes_utf8() {
        let text = "{\"a\":\"é 😀\"}\nline two\n";
        assert_eq!(decoded(&utf16le(text, true)).ok().as_deref(), Some(text));
        assert_eq!(decoded(&utf16le(text, false)).ok().as_deref(), Some(text));
        let mut be = vec![0xfe, 0xff];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decoded(&be).ok().as_deref(), Some(text));
        assert_eq!(decoded(b"plain\n").ok().as_deref(), Some("plain\n"));
    }

    #[test]
    fn an_unpaired_surrogate_is_an_invalid_data_error() {
        let mut bytes = utf16le("ab", true);
        bytes.extend_from_slice(&[0x00, 0xd8, b'c', 0]);
        let err = decoded(&bytes).err().map(|e| (e.kind(), e.to_string()));
        assert_eq!(
            err,
            Some((io::ErrorKind::InvalidData, "unpaired UTF-16 surrogate (byte 8)".into()))
        );
    }
}
