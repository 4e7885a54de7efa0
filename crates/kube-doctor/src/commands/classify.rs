//! `kube-doctor classify [FILE ...]`: classify log lines (playbook step 5 on its own). Reads
//! files or stdin with bounded memory and prints exactly one object per input line, whatever
//! the bytes (NULs and invalid UTF-8 are data, printed lossily and escaped). Multi-line events
//! (a Python `ApiException` with its `Reason:`/`HTTP response body:` lines, a Java `Caused by:`
//! chain, a Node `HttpError` dump) are read as one: the event's first line carries the verdict,
//! the others say which line they continue, and `-o summary` counts the event once. An
//! unreadable input is reported on stderr in one escaped line and the other inputs go on; the
//! exit code is 2 when any input could not be read.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use kube_doctor_core::classify::accuracy::Accuracy;
use kube_doctor_core::classify::render::{
    LineExtras, Summary, one_line, write_jsonl_with, write_text_with,
};
use kube_doctor_core::classify::stream::{Block, BlockReader, lines};
use kube_doctor_core::classify::{Classification, Classifier, EventAssembler, EventVerdict};
use serde::Serialize;

use crate::cli::{ClassifyArgs, ClassifyFormat};

const BLOCK: usize = 8 * 1024 * 1024;
/// Longest stderr message, in characters.
const MESSAGE_MAX: usize = 400;

pub fn run(args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let classifier = Classifier::new();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut summary = Summary::default();
    let mut failed = false;
    let inputs: Vec<Option<&Path>> = if args.files.is_empty() {
        vec![None]
    } else {
        // `-` is standard input, as for cat and grep.
        args.files
            .iter()
            .map(|p| (p.as_os_str() != "-").then_some(p.as_path()))
            .collect()
    };
    let mut warn = |msg: String| eprintln!("kube-doctor: {}", one_line(&msg, MESSAGE_MAX));
    for input in inputs {
        let name = input.map_or("<stdin>".to_string(), |p| p.display().to_string());
        let reader: Box<dyn Read> = match input {
            None => Box::new(io::stdin().lock()),
            Some(p) => match File::open(p) {
                Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => {
                    warn(format!(
                        "{name} is a directory: give log files (`-` or none for standard input); skipping it"
                    ));
                    failed = true;
                    continue;
                }
                Ok(f) => Box::new(f),
                Err(e) => {
                    warn(format!("cannot read {name}: {e}; skipping it"));
                    failed = true;
                    continue;
                }
            },
        };
        let opts = Options {
            format: args.output,
            max_line: args.max_line_bytes,
            block: BLOCK,
        };
        let result = classify_one(
            &classifier,
            reader,
            &name,
            opts,
            &mut out,
            &mut summary,
            &mut warn,
        );
        if let Err(e) = result {
            match e {
                InputError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    return Ok(ExitCode::SUCCESS);
                }
                InputError::Write(e) => return Err(anyhow::anyhow!("cannot write output: {e}")),
                InputError::Read(msg) => {
                    warn(msg);
                    failed = true;
                }
            }
        }
    }
    if args.output == ClassifyFormat::Summary {
        let report = SummaryReport {
            summary: &summary,
            accuracy: Accuracy::measured(),
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// `-o summary`: the counts, and how well the classifier does on the labelled set of real
/// lines (per part, category and client family; see kube_doctor_core::classify::accuracy).
#[derive(Serialize)]
struct SummaryReport<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    accuracy: Accuracy,
}

#[derive(Debug, Clone, Copy)]
struct Options {
    format: ClassifyFormat,
    max_line: usize,
    /// Bytes read and scanned at once.
    block: usize,
}

enum InputError {
    /// The input could not be read to the end; the message names it.
    Read(String),
    /// Output failed.
    Write(io::Error),
}

/// The lines of the open event, kept until its verdict is known (bounded: one line of at most
/// `max_line` bytes plus the event's continuation bytes, see `classify::events`).
#[derive(Default)]
struct Pending {
    text: Vec<u8>,
    /// (end offset in `text`, line number, extras) per line.
    lines: Vec<(usize, u64, LineExtras)>,
}

impl Pending {
    fn push(&mut self, line: &[u8], line_no: u64, extras: LineExtras) {
        self.text.extend_from_slice(line);
        self.lines.push((self.text.len(), line_no, extras));
    }

    /// Writes the event's lines: the first with the verdict, the others `none`, marked as its
    /// continuation when the event is an error.
    fn flush(
        &mut self,
        out: &mut dyn Write,
        format: ClassifyFormat,
        verdict: &EventVerdict,
    ) -> io::Result<()> {
        let head_no = self.lines.first().map(|l| l.1);
        let is_error = verdict.is_error();
        let mut start = 0;
        for (i, (end, _, extras)) in self.lines.iter().enumerate() {
            let line = &self.text[start..*end];
            start = *end;
            let (c, extras) = if i == 0 {
                (verdict.classification(), *extras)
            } else {
                let continues = head_no.filter(|_| is_error);
                (
                    &Classification::NONE,
                    LineExtras {
                        continues,
                        ..*extras
                    },
                )
            };
            match format {
                ClassifyFormat::Jsonl => write_jsonl_with(out, line, c, &extras)?,
                ClassifyFormat::Text => write_text_with(out, line, c, &extras)?,
                ClassifyFormat::Summary => {}
            }
        }
        self.text.clear();
        self.lines.clear();
        Ok(())
    }
}

/// Where one input's lines go: the open event's lines (for per-line output) or the summary.
struct Sink<'a> {
    format: ClassifyFormat,
    out: &'a mut dyn Write,
    summary: &'a mut Summary,
    pending: Pending,
}

impl Sink<'_> {
    /// Takes a line: `closed` is the verdict of the event the line closed, if any.
    fn line(
        &mut self,
        closed: Option<EventVerdict>,
        line: &[u8],
        line_no: u64,
        extras: LineExtras,
    ) -> io::Result<()> {
        self.summary.lines += 1;
        if extras.truncated {
            self.summary.truncated_lines += 1;
        }
        if let Some(v) = closed {
            self.close(&v)?;
        }
        if self.format != ClassifyFormat::Summary {
            self.pending.push(line, line_no, extras);
        }
        Ok(())
    }

    fn close(&mut self, v: &EventVerdict) -> io::Result<()> {
        if self.format == ClassifyFormat::Summary {
            self.summary.add_event(v);
            Ok(())
        } else {
            self.pending.flush(self.out, self.format, v)
        }
    }
}

fn classify_one(
    classifier: &Classifier,
    reader: Box<dyn Read>,
    name: &str,
    opts: Options,
    out: &mut dyn Write,
    summary: &mut Summary,
    warn: &mut dyn FnMut(String),
) -> Result<(), InputError> {
    let mut blocks = BlockReader::new(reader, opts.block, opts.max_line);
    let mut events = EventAssembler::new(classifier);
    let mut sink = Sink {
        format: opts.format,
        out,
        summary,
        pending: Pending::default(),
    };
    let mut line_no: u64 = 0;
    let mut scratch = Vec::with_capacity(opts.block);
    let mut candidates: Vec<(std::ops::Range<usize>, Classification)> = Vec::new();
    // NUL bytes skipped at the start of the next line.
    let mut nuls: u64 = 0;
    // Whether the input's start was looked at for binary data.
    let mut sniffed = false;
    let result = loop {
        let block = match blocks.next_block() {
            Ok(Some(b)) => b,
            Ok(None) => break Ok(()),
            Err(e) => {
                break Err(format!(
                    "cannot read {name} after line {line_no}: {e}; the lines before it were classified"
                ));
            }
        };
        match block {
            Block::Nuls(n) => {
                if nuls == 0 {
                    warn(format!(
                        "{name}: line {} starts with {n} NUL bytes (a log truncated in place while written?); skipped them and classified the rest of the line",
                        line_no + 1
                    ));
                }
                nuls += n;
            }
            Block::Lines(text) => {
                if !sniffed {
                    sniffed = true;
                    if let Some(share) = binary_share(text) {
                        warn(format!(
                            "{name} looks like binary data, not a log ({:.0} % of its first {} bytes are control bytes or invalid UTF-8); classified anyway, but give kube-doctor text logs",
                            share * 100.0,
                            text.len().min(SNIFF_BYTES)
                        ));
                    } else if cr_only(text) {
                        warn(format!(
                            "{name} ends its lines with a carriage return only (CR, no LF), so kube-doctor reads it as one long line; convert a copy first (`mac2unix`, from dos2unix, does)"
                        ));
                    }
                }
                // Candidates first (one pass over the block), then every line in order.
                candidates.clear();
                classifier.for_each_candidate(text, &mut scratch, |r, c| candidates.push((r, c)));
                if opts.format == ClassifyFormat::Summary {
                    // Counting only: the ordinary stretches between candidates are skipped.
                    let summary = &mut *sink.summary;
                    let n = events.push_block(text, &candidates, |v| summary.add_event(&v));
                    summary.lines += n;
                    line_no += n;
                    nuls = 0;
                    continue;
                }
                let mut next = candidates.iter().peekable();
                let mut offset = 0usize;
                for line in lines(text) {
                    line_no += 1;
                    let start = offset;
                    offset += line.len() + 1;
                    if text.get(start + line.len()) == Some(&b'\r') {
                        offset += 1;
                    }
                    let c = match next.peek() {
                        Some((r, _)) if r.start == start => Some(&next.next().expect("peeked").1),
                        _ => None,
                    };
                    let closed = events.push_known(line, c);
                    let extras = LineExtras {
                        nul_prefix: std::mem::take(&mut nuls),
                        ..LineExtras::default()
                    };
                    sink.line(closed, line, line_no, extras)
                        .map_err(InputError::Write)?;
                }
            }
            Block::Oversized(prefix) => {
                line_no += 1;
                warn(format!(
                    "{name}: line {line_no} is longer than {} bytes; classified its first {} bytes",
                    opts.max_line, opts.max_line
                ));
                let closed = events.push(prefix);
                let extras = LineExtras {
                    truncated: true,
                    nul_prefix: std::mem::take(&mut nuls),
                    ..LineExtras::default()
                };
                sink.line(closed, prefix, line_no, extras)
                    .map_err(InputError::Write)?;
            }
        }
    };
    if nuls > 0 {
        // The input ended inside a line of NULs only: it is a line too.
        line_no += 1;
        let closed = events.push(b"");
        let extras = LineExtras {
            nul_prefix: nuls,
            ..LineExtras::default()
        };
        sink.line(closed, b"", line_no, extras)
            .map_err(InputError::Write)?;
    }
    if let Some(v) = events.finish() {
        sink.close(&v).map_err(InputError::Write)?;
    }
    result.map_err(InputError::Read)
}

/// Bytes of an input's start looked at for binary data.
const SNIFF_BYTES: usize = 64 * 1024;

/// The share of control bytes (other than tab, CR, LF, ESC and form feed) and bytes of invalid
/// UTF-8 in the first [`SNIFF_BYTES`] of `text`, when it is over 10 %: an executable, an image
/// or a compressed log (`.gz`) rather than text. Logs with colour codes, a few NULs or the odd
/// Latin-1 byte stay under it.
fn binary_share(text: &[u8]) -> Option<f64> {
    let head = &text[..text.len().min(SNIFF_BYTES)];
    if head.is_empty() {
        return None;
    }
    let control = head
        .iter()
        .filter(|b| **b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n' | 0x1b | 0x0c))
        .count();
    let invalid: usize = head.utf8_chunks().map(|c| c.invalid().len()).sum();
    let share = (control + invalid) as f64 / head.len() as f64;
    (share > 0.10).then_some(share)
}

/// Whether `text` looks like a log whose lines end in CR only (classic Mac OS, some terminal
/// captures): no LF in its first [`SNIFF_BYTES`] but a CR before the last byte.
fn cr_only(text: &[u8]) -> bool {
    let head = &text[..text.len().min(SNIFF_BYTES)];
    !head.contains(&b'\n')
        && head
            .iter()
            .position(|b| *b == b'\r')
            .is_some_and(|i| i + 1 < head.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(
        input: Vec<u8>,
        format: ClassifyFormat,
        max_line: usize,
    ) -> (Vec<u8>, Summary, Vec<String>) {
        let classifier = Classifier::shared();
        let mut out = Vec::new();
        let mut summary = Summary::default();
        let mut messages = Vec::new();
        let mut warn = |m: String| messages.push(m);
        let opts = Options {
            format,
            max_line,
            block: 64 * 1024,
        };
        let r = classify_one(
            classifier,
            Box::new(io::Cursor::new(input)),
            "test.log",
            opts,
            &mut out,
            &mut summary,
            &mut warn,
        );
        assert!(r.is_ok());
        (out, summary, messages)
    }

    fn objects(out: &[u8]) -> Vec<serde_json::Value> {
        out.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("each output line is one JSON object"))
            .collect()
    }

    /// issue 12: a NUL byte used to drop its whole read block and everything after it.
    #[test]
    fn two_million_and_one_lines_in_give_as_many_objects_out() {
        let n = 2_000_001usize;
        let mut input = Vec::with_capacity(n * 3);
        for i in 0..n {
            match i {
                0 => input.extend_from_slice(b"\0\0\0x"),
                1_000_000 => input.extend_from_slice(b"a\0b\xff"),
                1_500_000 => input.extend_from_slice(
                    b"E0101 reflector.go:1] failed to list: dial tcp 10.0.0.1:443: connect: connection refused",
                ),
                _ => input.push(b'x'),
            }
            input.push(b'\n');
        }
        let (out, _, messages) = run_on(input.clone(), ClassifyFormat::Jsonl, 1 << 20);
        assert_eq!(
            messages.len(),
            1,
            "the NULs opening the input: {messages:?}"
        );
        let count = out.iter().filter(|b| **b == b'\n').count();
        assert_eq!(count, n);
        let objs: Vec<&[u8]> = out.split(|b| *b == b'\n').collect();
        let first: serde_json::Value = serde_json::from_slice(objs[0]).unwrap();
        assert_eq!(first["line"], "x");
        assert_eq!(first["nul_prefix"], 3);
        let mid: serde_json::Value = serde_json::from_slice(objs[1_000_000]).unwrap();
        assert_eq!(mid["line"], "a\u{0}b\u{fffd}");
        let err: serde_json::Value = serde_json::from_slice(objs[1_500_000]).unwrap();
        assert_eq!(err["category"], "network_unreachable");
        let (_, summary, _) = run_on(input, ClassifyFormat::Summary, 1 << 20);
        assert_eq!(summary.lines, n as u64);
        assert_eq!(summary.error_lines, 1);
    }

    /// Binary input (an executable, a gzipped log) is classified, with one warning naming it;
    /// a log with colour codes and a stray Latin-1 byte is not called binary.
    #[test]
    fn binary_input_is_named_once() {
        let mut gz = vec![0x1f, 0x8b, 0x08, 0x00];
        gz.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let (_, summary, messages) = run_on(gz, ClassifyFormat::Summary, 1 << 20);
        assert!(summary.lines > 0);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].starts_with("test.log looks like binary data, not a log ("),
            "{}",
            messages[0]
        );
        let log = b"\x1b[31mE0101 reflector.go:1] failed: caf\xe9\x1b[0m\nI0101 ok\n".repeat(50);
        let (_, _, messages) = run_on(log, ClassifyFormat::Summary, 1 << 20);
        assert!(messages.is_empty(), "{messages:?}");
    }

    /// A log whose lines end in CR only is read as one line, and the warning says so and how
    /// to convert it; CRLF and a lone trailing CR do not warn.
    #[test]
    fn cr_only_line_endings_are_named() {
        let log =
            b"I0101 ok\rE0101 reflector.go:1] dial tcp 10.0.0.1:443: connect: connection refused\r"
                .to_vec();
        let (_, summary, messages) = run_on(log, ClassifyFormat::Summary, 1 << 20);
        assert_eq!(summary.lines, 1);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(
            messages[0].contains("carriage return only") && messages[0].contains("mac2unix"),
            "{}",
            messages[0]
        );
        for ok in [&b"a\r\nb\r\n"[..], b"one line\r"] {
            let (_, _, messages) = run_on(ok.to_vec(), ClassifyFormat::Summary, 1 << 20);
            assert!(messages.is_empty(), "{messages:?}");
        }
    }

    /// A copytruncate-rotated log: the file starts with as many NULs as it had bytes.
    #[test]
    fn a_log_starting_with_nuls_is_classified() {
        let mut input = vec![0u8; 3 << 20];
        input.extend_from_slice(b"E0101 reflector.go:1] pods is forbidden: User \"u\" cannot list resource \"pods\" in API group \"\" at the cluster scope\nok\n");
        let (out, _, messages) = run_on(input, ClassifyFormat::Jsonl, 1 << 20);
        let objs = objects(&out);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0]["category"], "authorization");
        assert_eq!(objs[0]["nul_prefix"], 3 << 20);
        assert_eq!(objs[1]["line"], "ok");
        assert_eq!(messages.len(), 1);
        assert!(messages[0].contains("line 1 starts with"), "{messages:?}");
        // NULs only, no newline: still one line.
        let (out, summary, _) = run_on(vec![0u8; 2 << 20], ClassifyFormat::Jsonl, 1 << 20);
        assert_eq!(objects(&out).len(), 1);
        assert_eq!(summary.lines, 1);
    }

    /// A NUL inside a multi-line event neither splits it nor loses a line.
    #[test]
    fn a_nul_in_the_middle_of_an_event() {
        let input = b"kubernetes.client.exceptions.ApiException: (403)\nReason: Forb\0idden\nHTTP response body: {\"message\":\"pods is forbidden: exceeded quota: q\",\"code\":403}\nafter\n".to_vec();
        let (out, _, _) = run_on(input.clone(), ClassifyFormat::Jsonl, 1 << 20);
        let objs = objects(&out);
        assert_eq!(objs.len(), 4);
        assert_eq!(objs[0]["category"], "quota_or_admission");
        assert_eq!(objs[0]["http_code"], 403);
        assert_eq!(objs[0]["client"], "python");
        assert_eq!(objs[1]["line"], "Reason: Forb\u{0}idden");
        assert_eq!(objs[1]["category"], "none");
        assert_eq!(objs[1]["continues"], 1);
        assert_eq!(objs[2]["continues"], 1);
        assert_eq!(objs[3]["category"], "none");
        assert!(objs[3].get("continues").is_none());
        let (_, summary, _) = run_on(input, ClassifyFormat::Summary, 1 << 20);
        assert_eq!(summary.error_lines, 1);
        assert_eq!(summary.multi_line_errors, 1);
        assert_eq!(summary.lines, 4);
    }

    #[test]
    fn every_format_gives_one_line_per_input_line() {
        let input = b"a\n\x1b[2Jb\r\n\n  c\nlast".to_vec();
        let (out, _, _) = run_on(input.clone(), ClassifyFormat::Text, 1 << 20);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.contains("\\u{1b}[2Jb"), "{text}");
        let (out, _, _) = run_on(input, ClassifyFormat::Jsonl, 1 << 20);
        assert_eq!(objects(&out).len(), 5);
    }

    #[test]
    fn oversized_lines_are_cut_said_once_and_kept() {
        let mut input = vec![b'y'; 100_000];
        input.extend_from_slice(b"\nnext\n");
        let (out, summary, messages) = run_on(input, ClassifyFormat::Jsonl, 1024);
        let objs = objects(&out);
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0]["truncated"], true);
        assert_eq!(summary.truncated_lines, 1);
        assert_eq!(messages.len(), 1);
    }
}
