//! Reading a log as blocks of whole lines with bounded memory, whatever the input: a multi-GB
//! file, a pipe, or one line longer than memory. Pure over [`std::io::Read`]: the caller opens
//! the file or the API stream.
//!
//! Memory is `block_size + max_line` at most, independent of input size. A line longer than
//! `max_line` is handed out as its first `max_line` bytes ([`Block::Oversized`]) and the rest of
//! it skipped; the caller says so, so the result is never silently partial.
//!
//! Bytes are data: NUL bytes and invalid UTF-8 pass through like any other byte. One case is
//! special: a log file truncated in place by copytruncate while its writer kept its offset
//! starts with as many NUL bytes as it had (often more than `max_line`, which would cut the
//! first line to NULs only). A NUL run at the start of the input, or opening any line longer
//! than `max_line`, is skipped and counted instead ([`Block::Nuls`]), and the rest of its line
//! handed out as usual.

use std::io::{self, Read};

/// One piece of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Block<'a> {
    /// Whole lines, each ending in `\n` except possibly the last line of the input.
    Lines(&'a [u8]),
    /// A line longer than the limit: its first `max_line` bytes. The rest is skipped.
    Oversized(&'a [u8]),
    /// This many NUL bytes opened the next line and were skipped; the next block's first line
    /// is the rest of that line (or, at the end of input, the line was NULs only).
    Nuls(u64),
}

/// Splits a reader into [`Block`]s.
pub struct BlockReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Valid, unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    block_size: usize,
    max_line: usize,
    /// The rest of an oversized line is being discarded.
    skipping: bool,
    /// NUL bytes skipped at the start of the current line, not yet reported.
    nuls: u64,
    /// Nothing has been handed out yet.
    at_input_start: bool,
}

impl<R: Read> BlockReader<R> {
    /// A reader handing out blocks of at most `block_size` bytes (or one line up to `max_line`);
    /// lines longer than `max_line` are cut.
    pub fn new(inner: R, block_size: usize, max_line: usize) -> Self {
        let block_size = block_size.max(1);
        let max_line = max_line.max(1);
        BlockReader {
            inner,
            buf: vec![0; block_size + max_line],
            start: 0,
            end: 0,
            eof: false,
            block_size,
            max_line,
            skipping: false,
            nuls: 0,
            at_input_start: true,
        }
    }

    /// Moves unread bytes to the front and reads until the buffer is full, a newline arrives,
    /// or the input ends.
    fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while !self.eof && self.end < self.buf.len() {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.end += n;
                    if self.end - self.start >= self.block_size {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next block, `None` at the end of input.
    pub fn next_block(&mut self) -> io::Result<Option<Block<'_>>> {
        loop {
            if self.skipping {
                match memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                    Some(i) => {
                        self.start += i + 1;
                        self.skipping = false;
                    }
                    None => {
                        self.start = self.end;
                        if self.eof {
                            self.skipping = false;
                            return Ok(None);
                        }
                        self.fill()?;
                        continue;
                    }
                }
            }
            if !self.eof && self.end - self.start < self.block_size {
                self.fill()?;
            }
            let avail = self.end - self.start;
            if avail == 0 {
                if self.nuls > 0 {
                    return Ok(Some(Block::Nuls(std::mem::take(&mut self.nuls))));
                }
                return Ok(None);
            }
            if std::mem::take(&mut self.at_input_start) && self.buf[self.start] == 0 {
                let data = &self.buf[self.start..self.end];
                let run = data.iter().position(|b| *b != 0).unwrap_or(avail);
                self.start += run;
                self.nuls += run as u64;
                continue;
            }
            if self.nuls > 0 {
                // Inside a skipped NUL run: its tail goes too, however the reads fell.
                let data = &self.buf[self.start..self.end];
                let run = data.iter().position(|b| *b != 0).unwrap_or(avail);
                if run == 0 {
                    return Ok(Some(Block::Nuls(std::mem::take(&mut self.nuls))));
                }
                self.start += run;
                self.nuls += run as u64;
                continue;
            }
            let data = &self.buf[self.start..self.end];
            let window = avail.min(self.block_size);
            let cut = if let Some(i) = memchr::memrchr(b'\n', &data[..window]) {
                Some(i + 1)
            } else if let Some(i) = memchr::memchr(b'\n', data) {
                (i < self.max_line).then_some(i + 1)
            } else if self.eof {
                (avail <= self.max_line).then_some(avail)
            } else if avail < self.max_line {
                // A long line still arriving: read more before deciding.
                let before = self.end;
                self.fill()?;
                if self.end == before && !self.eof {
                    return Err(io::Error::other("reader made no progress"));
                }
                continue;
            } else {
                None
            };
            // A block of whole lines may still hold a line longer than `max_line` (the limit
            // can be below the block size): the lines before it go out first, then it is cut.
            let cut = match cut {
                Some(c) => match first_long_line(&data[..c], self.max_line) {
                    Some(0) => None,
                    Some(at) => Some(at),
                    None => Some(c),
                },
                None => None,
            };
            if cut.is_none() && data[0] == 0 {
                // A run of NULs too long for one line: skip it, then go on with the line.
                let run = data.iter().position(|b| *b != 0).unwrap_or(avail);
                self.start += run;
                self.nuls += run as u64;
                continue;
            }
            let from = self.start;
            return Ok(Some(match cut {
                Some(cut) => {
                    self.start += cut;
                    Block::Lines(&self.buf[from..from + cut])
                }
                None => {
                    self.start += self.max_line;
                    self.skipping = true;
                    Block::Oversized(&self.buf[from..from + self.max_line])
                }
            }));
        }
    }
}

/// Where the first line of `data` longer than `max_line` bytes (not counting its `\n`)
/// starts, if one is. Steps a window of `max_line + 1` bytes to its last newline: a few
/// `memrchr` calls per block when lines are short and the limit large.
fn first_long_line(data: &[u8], max_line: usize) -> Option<usize> {
    let mut at = 0;
    while at < data.len() {
        let window = &data[at..data.len().min(at + max_line + 1)];
        match memchr::memrchr(b'\n', window) {
            Some(i) => at += i + 1,
            None if window.len() > max_line => return Some(at),
            None => return None,
        }
    }
    None
}

/// Iterates the lines of a `Block::Lines` without their `\n` (and `\r`).
pub fn lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = block;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `chunk` bytes per read, like a pipe.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(self.chunk).min(out.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn collect(data: &[u8], block: usize, max: usize, chunk: usize) -> Vec<(bool, Vec<u8>)> {
        let mut r = BlockReader::new(Trickle { data, chunk }, block, max);
        let mut out = vec![];
        while let Some(b) = r.next_block().unwrap() {
            match b {
                Block::Lines(l) => {
                    for line in lines(l) {
                        out.push((false, line.to_vec()));
                    }
                }
                Block::Oversized(p) => out.push((true, p.to_vec())),
                Block::Nuls(_) => {}
            }
        }
        out
    }

    #[test]
    fn lines_survive_any_block_and_chunk_size() {
        let data = b"alpha\nbeta\r\n\ngamma delta\nlast-without-newline";
        let want: Vec<(bool, Vec<u8>)> =
            ["alpha", "beta", "", "gamma delta", "last-without-newline"]
                .iter()
                .map(|s| (false, s.as_bytes().to_vec()))
                .collect();
        for block in [1, 3, 7, 64] {
            for chunk in [1, 2, 5, 100] {
                assert_eq!(
                    collect(data, block, 64, chunk),
                    want,
                    "block {block} chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn oversized_lines_are_cut_and_the_rest_goes_on() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 1000));
        data.extend(b"\nafter\n");
        for chunk in [1, 7, 4096] {
            let got = collect(&data, 16, 32, chunk);
            assert_eq!(got.len(), 3, "chunk {chunk}: {got:?}");
            assert_eq!(got[0], (false, b"short".to_vec()));
            assert!(got[1].0);
            assert_eq!(got[1].1.len(), 32);
            assert_eq!(got[2], (false, b"after".to_vec()));
        }
        // Oversized at the very end, without a newline.
        let got = collect(&[b'y'; 100], 16, 32, 9);
        assert_eq!(got, vec![(true, vec![b'y'; 32])]);
    }

    /// A limit below the block size: a long line among short ones in one block is cut too
    /// (`classify --max-line-bytes 100` used to pass a 6 MB line whole inside an 8 MiB block).
    #[test]
    fn a_limit_below_the_block_size_still_cuts() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 300));
        data.extend(b"\nmiddle\n");
        data.extend(std::iter::repeat_n(b'z', 100));
        data.extend(b"\n");
        data.extend(std::iter::repeat_n(b'w', 101));
        data.extend(b"\nlast");
        for chunk in [1, 7, 4096] {
            let got = collect(&data, 4096, 100, chunk);
            let want: Vec<(bool, Vec<u8>)> = vec![
                (false, b"short".to_vec()),
                (true, vec![b'x'; 100]),
                (false, b"middle".to_vec()),
                (false, vec![b'z'; 100]),
                (true, vec![b'w'; 100]),
                (false, b"last".to_vec()),
            ];
            assert_eq!(got, want, "chunk {chunk}");
        }
        assert_eq!(first_long_line(b"ab\ncd\n", 2), None);
        assert_eq!(first_long_line(b"ab\ncde\n", 2), Some(3));
        assert_eq!(first_long_line(b"abc", 2), Some(0));
        assert_eq!(first_long_line(b"ab", 2), None);
    }

    #[test]
    fn a_long_nul_run_opening_a_line_is_skipped_and_counted() {
        let mut data = vec![0u8; 1000];
        data.extend(b"E0101 first real line\nsecond\n");
        for chunk in [1, 7, 4096] {
            let mut r = BlockReader::new(Trickle { data: &data, chunk }, 16, 32);
            let mut nuls = 0;
            let mut lines_out = vec![];
            while let Some(b) = r.next_block().unwrap() {
                match b {
                    Block::Nuls(n) => nuls += n,
                    Block::Lines(l) => lines_out.extend(lines(l).map(<[u8]>::to_vec)),
                    Block::Oversized(p) => panic!("cut: {p:?}"),
                }
            }
            assert_eq!(nuls, 1000, "chunk {chunk}");
            assert_eq!(
                lines_out,
                [b"E0101 first real line".to_vec(), b"second".to_vec()]
            );
        }
        // Only NULs: one report, no lines.
        let zeros = [0u8; 100];
        let mut r = BlockReader::new(
            Trickle {
                data: &zeros,
                chunk: 9,
            },
            16,
            32,
        );
        assert_eq!(r.next_block().unwrap(), Some(Block::Nuls(100)));
        assert_eq!(r.next_block().unwrap(), None);
        // A short NUL run stays in its line, except at the start of the input.
        let got = collect(b"x\n\0\0abc\n", 16, 32, 3);
        assert_eq!(got[1], (false, b"\0\0abc".to_vec()));
        let mut r = BlockReader::new(
            Trickle {
                data: b"\0\0abc\n",
                chunk: 2,
            },
            16,
            32,
        );
        assert_eq!(r.next_block().unwrap(), Some(Block::Nuls(2)));
        assert_eq!(r.next_block().unwrap(), Some(Block::Lines(&b"abc\n"[..])));
    }

    #[test]
    fn empty_input_gives_nothing() {
        assert!(collect(b"", 8, 8, 1).is_empty());
    }
}
