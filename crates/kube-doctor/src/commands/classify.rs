//! `kube-doctor classify [FILE ...]`: classify log lines (playbook step 5 on its own). Reads
//! files or stdin with bounded memory; an unreadable or binary input is reported on stderr in
//! one line and the other inputs go on; the exit code is 2 when any input could not be read.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use kube_doctor_core::classify::render::{Summary, write_jsonl, write_text};
use kube_doctor_core::classify::stream::{Block, BlockReader, lines};
use kube_doctor_core::classify::{Classification, Classifier};

use crate::cli::{ClassifyArgs, ClassifyFormat};

const BLOCK: usize = 8 * 1024 * 1024;

pub fn run(args: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let classifier = Classifier::new();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut summary = Summary::default();
    let mut failed = false;
    let inputs: Vec<Option<&Path>> = if args.files.is_empty() {
        vec![None]
    } else {
        args.files.iter().map(|p| Some(p.as_path())).collect()
    };
    for input in inputs {
        let name = input.map_or("<stdin>".to_string(), |p| p.display().to_string());
        let reader: Box<dyn Read> = match input {
            None => Box::new(io::stdin().lock()),
            Some(p) => match File::open(p) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    eprintln!("kube-doctor: cannot read {name}: {e}; skipping it");
                    failed = true;
                    continue;
                }
            },
        };
        if let Err(e) = classify_one(&classifier, reader, &name, &args, &mut out, &mut summary) {
            match e {
                InputError::Write(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                    return Ok(ExitCode::SUCCESS);
                }
                InputError::Write(e) => return Err(anyhow::anyhow!("cannot write output: {e}")),
                InputError::Read(msg) => {
                    eprintln!("kube-doctor: {msg}");
                    failed = true;
                }
            }
        }
    }
    if args.output == ClassifyFormat::Summary {
        serde_json::to_writer_pretty(&mut out, &summary)?;
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

enum InputError {
    /// The input could not be read to the end; the message names it.
    Read(String),
    /// Output failed.
    Write(io::Error),
}

fn classify_one(
    classifier: &Classifier,
    reader: Box<dyn Read>,
    name: &str,
    args: &ClassifyArgs,
    out: &mut dyn Write,
    summary: &mut Summary,
) -> Result<(), InputError> {
    let mut blocks = BlockReader::new(reader, BLOCK, args.max_line_bytes);
    let mut line_no: u64 = 0;
    let mut scratch = Vec::with_capacity(BLOCK);
    let mut candidates: Vec<(std::ops::Range<usize>, Classification)> = Vec::new();
    loop {
        let block = match blocks.next_block() {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(()),
            Err(e) => {
                return Err(InputError::Read(format!(
                    "cannot read {name} after line {line_no}: {e}; the lines before it were classified"
                )));
            }
        };
        match block {
            Block::Lines(text) => {
                if let Some(at) = memchr::memchr(0, text) {
                    let bad_line =
                        line_no + 1 + memchr::memchr_iter(b'\n', &text[..at]).count() as u64;
                    return Err(InputError::Read(format!(
                        "{name} holds binary data (a NUL byte on line {bad_line}); classified the {line_no} lines before that block and skipped the rest"
                    )));
                }
                if args.output == ClassifyFormat::Summary {
                    // Fast path: only lines holding a trigger are looked at.
                    let n = memchr::memchr_iter(b'\n', text).count() as u64
                        + u64::from(!text.ends_with(b"\n"));
                    line_no += n;
                    summary.lines += n;
                    classifier.for_each_candidate(text, &mut scratch, |_, c| summary.add(&c));
                    continue;
                }
                // Candidates first (one pass over the block), then every line in order.
                candidates.clear();
                classifier.for_each_candidate(text, &mut scratch, |r, c| candidates.push((r, c)));
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
                        Some((r, _)) if r.start == start => &next.next().expect("peeked").1,
                        _ => &Classification::NONE,
                    };
                    emit(out, args.output, line, c, false).map_err(InputError::Write)?;
                }
            }
            Block::Oversized(prefix) => {
                line_no += 1;
                eprintln!(
                    "kube-doctor: {name}: line {line_no} is longer than {} bytes; classified its first {} bytes",
                    args.max_line_bytes, args.max_line_bytes
                );
                let c = classifier.classify(prefix);
                summary.truncated_lines += 1;
                if args.output == ClassifyFormat::Summary {
                    summary.lines += 1;
                    summary.add(&c);
                } else {
                    emit(out, args.output, prefix, &c, true).map_err(InputError::Write)?;
                }
            }
        }
    }
}

fn emit(
    out: &mut dyn Write,
    format: ClassifyFormat,
    line: &[u8],
    c: &Classification,
    truncated: bool,
) -> io::Result<()> {
    match format {
        ClassifyFormat::Jsonl => write_jsonl(out, line, c, truncated),
        ClassifyFormat::Text => write_text(out, line, c, truncated),
        ClassifyFormat::Summary => Ok(()),
    }
}
