//! The log level a line was written at, read from its structure: a klog header (`I0101 ...`),
//! a JSON or logfmt level field (`"level":"info"`, `level=debug`), or a level word near the
//! start (`INFO`, `[debug]`, .NET's `info:`). `classify` uses it against false positives: on an
//! info or debug line, words like `error` in a field or object name do not make the line an
//! error; only a phrase that names a failure does.

use std::ops::Range;

/// A line's log level, as far as its structure says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Nothing says.
    Unknown,
    /// Trace or debug.
    Debug,
    /// Info or notice.
    Info,
    /// Warning.
    Warn,
    /// Error, critical, fatal.
    Error,
}

impl Level {
    /// Info and below: the line reports progress, not a failure, unless a phrase says otherwise.
    pub fn is_quiet(self) -> bool {
        matches!(self, Level::Debug | Level::Info)
    }

    fn from_word(word: &[u8]) -> Level {
        let mut buf = [0u8; 12];
        if word.len() > buf.len() {
            return Level::Unknown;
        }
        let lower = &mut buf[..word.len()];
        lower.copy_from_slice(word);
        lower.make_ascii_lowercase();
        match &*lower {
            b"trace" | b"trce" | b"debug" | b"dbug" | b"dbg" | b"verbose" | b"fine" | b"finer"
            | b"finest" => Level::Debug,
            b"info" | b"information" | b"notice" => Level::Info,
            b"warn" | b"warning" => Level::Warn,
            b"error" | b"err" | b"fail" | b"crit" | b"critical" | b"fatal" | b"panic"
            | b"dpanic" | b"severe" | b"alert" | b"emerg" => Level::Error,
            _ => Level::Unknown,
        }
    }
}

/// How far into a line a level word is looked for: past a timestamp, a host and a process
/// name, not into the message.
const HEADER: usize = 96;

/// The line's level, and the byte range of a level word that is only a header (.NET's
/// `fail: Category[0]`, whose message is on the next line): error words there say nothing.
pub fn level(line: &[u8]) -> (Level, Option<Range<usize>>) {
    let line = trim_nul(line);
    if let Some(l) = klog(line) {
        return (l, None);
    }
    if let Some(l) = field(line) {
        return (l, None);
    }
    word(line)
}

fn trim_nul(line: &[u8]) -> &[u8] {
    let start = line.iter().position(|b| *b != 0).unwrap_or(line.len());
    &line[start..]
}

/// A klog header `Lmmdd hh:mm:ss` within the first bytes (after a kubelet, journald or
/// container-runtime prefix).
fn klog(line: &[u8]) -> Option<Level> {
    let head = &line[..line.len().min(HEADER + 16)];
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    for i in 0..head.len().saturating_sub(14) {
        let level = match head[i] {
            b'I' => Level::Info,
            b'W' => Level::Warn,
            b'E' | b'F' => Level::Error,
            _ => continue,
        };
        if (i == 0 || !head[i - 1].is_ascii_alphanumeric())
            && digits(&head[i + 1..i + 5])
            && head[i + 5] == b' '
            && digits(&head[i + 6..i + 8])
            && head[i + 8] == b':'
            && digits(&head[i + 9..i + 11])
            && head[i + 11] == b':'
        {
            return Some(level);
        }
    }
    None
}

/// A structured level field: JSON `"level":"info"` (and `lvl`, `severity`, `LogLevel`,
/// `levelname`, `log.level`) or logfmt `level=info`.
fn field(line: &[u8]) -> Option<Level> {
    use aho_corasick::automaton::Automaton;
    use aho_corasick::dfa::DFA;
    use aho_corasick::{Input, MatchKind};
    static KEYS: std::sync::LazyLock<Option<DFA>> = std::sync::LazyLock::new(|| {
        DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build([
                "\"level\"",
                "\"lvl\"",
                "\"severity\"",
                "\"loglevel\"",
                "\"levelname\"",
                "\"log.level\"",
                "level=",
                "lvl=",
            ])
            .ok()
    });
    let keys = KEYS.as_ref()?;
    let mut at = 0;
    while at < line.len() {
        let m = keys.try_find(&Input::new(line).range(at..)).ok()??;
        at = m.end();
        let logfmt = line[m.end() - 1] == b'=';
        if logfmt && m.start() > 0 && line[m.start() - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut rest = &line[m.end()..];
        if !logfmt {
            rest = rest.trim_ascii_start();
            let Some(r) = rest.strip_prefix(b":") else {
                continue;
            };
            rest = r.trim_ascii_start();
        }
        let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
        let end = rest
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let l = Level::from_word(&rest[..end]);
        if l != Level::Unknown {
            return Some(l);
        }
    }
    None
}

/// A level word in the header: an upper-case word (`INFO`, `WARNING`, `ERROR`), or a lower-case
/// one in brackets (`[info]`, `[ warn]`) or opening the line with a colon (`info:`, `fail:`).
fn word(line: &[u8]) -> (Level, Option<Range<usize>>) {
    let head = &line[..line.len().min(HEADER)];
    let mut i = 0;
    while i < head.len() {
        if !head[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < head.len() && head[i].is_ascii_alphabetic() {
            i += 1;
        }
        let w = &head[start..i];
        // A word glued to digits or underscores is a name, not a level.
        let glued = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || *b == b'_');
        if glued(start.checked_sub(1).and_then(|j| head.get(j))) || glued(head.get(i)) {
            continue;
        }
        let l = Level::from_word(w);
        if l == Level::Unknown {
            continue;
        }
        let upper = w.iter().all(u8::is_ascii_uppercase) && w.len() >= 4;
        let before = head[..start].trim_ascii_end();
        let bracketed = before.ends_with(b"[") && head[i..].trim_ascii_start().starts_with(b"]");
        let dotnet = matches!(w, b"info" | b"warn" | b"fail" | b"crit" | b"dbug" | b"trce")
            && head.get(i) == Some(&b':');
        let opens = dotnet && head[..start].iter().all(|b| *b == b' ');
        let after_bracket = dotnet && before.ends_with(b"]");
        if upper || bracketed {
            return (l, None);
        }
        if opens || after_bracket {
            // .NET console logger: `fail: Category[0]`, the message on the next line.
            return (l, Some(start..i + 1));
        }
    }
    (Level::Unknown, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(s: &str) -> Level {
        level(s.as_bytes()).0
    }

    #[test]
    fn klog_headers() {
        assert_eq!(
            l("I0123 06:39:01.422296       1 controller.go:119] x"),
            Level::Info
        );
        assert_eq!(
            l("E1012 08:23:25.396126       1 memcache.go:134] x"),
            Level::Error
        );
        assert_eq!(
            l(
                "May 21 11:49:34 master kube-apiserver[1236]: I0521 11:49:34.876306    1236 log.go:172] x"
            ),
            Level::Info
        );
        assert_eq!(
            l("2024-01-01T00:00:00Z W0101 00:00:00.0 1 x.go:1] y"),
            Level::Warn
        );
    }

    #[test]
    fn structured_fields() {
        assert_eq!(l(r#"{"level":"info","msg":"x error"}"#), Level::Info);
        assert_eq!(l(r#"{"LogLevel":"Debug","Message":"error"}"#), Level::Debug);
        assert_eq!(l(r#"{"severity": "ERROR"}"#), Level::Error);
        assert_eq!(l(r#"time="x" level=debug msg="error y""#), Level::Debug);
        assert_eq!(l(r#"sublevel=info"#), Level::Unknown);
    }

    #[test]
    fn level_words() {
        assert_eq!(
            l("2023-07-27T05:48:27.240045Z  INFO services: kubert::errors"),
            Level::Info
        );
        assert_eq!(
            l("08:15:51 [DEBUG] (6) kube_client::client::builder: x"),
            Level::Debug
        );
        assert_eq!(
            l("[2021/06/25 11:57:22] [debug] [filter:kubernetes] x"),
            Level::Debug
        );
        assert_eq!(
            l("[2018/02/07 18:32:43] [ warn] [filter_kube] x"),
            Level::Warn
        );
        assert_eq!(l("INFO: Exception in thread \"main\""), Level::Info);
        assert_eq!(l("WARNING:urllib3.connectionpool:Retrying"), Level::Warn);
        assert_eq!(l("Error: forbidden"), Level::Unknown);
        assert_eq!(l("ERROR_COUNT=3 in Info"), Level::Unknown);
        let (lv, header) = level(b"[14.05.2020 - 11:20:41] fail: KubeOps.Operator.Watcher[0]");
        assert_eq!(lv, Level::Error);
        assert_eq!(header, Some(24..29));
        assert_eq!(level(b"info: Microsoft.Hosting.Lifetime[0]").1, Some(0..5));
    }
}
