//! Escaping untrusted text for one-line messages. Anything read from the cluster, from a file
//! or from a network peer can hold newlines, terminal escape sequences or megabytes; a message
//! that quotes it (an error on stderr, a step note) shows it escaped, on one line, cut to a
//! bound. Renderers escape for their own formats (`report::*`); this is for plain lines.

/// `s` on one line: control characters (C0, DEL, C1), line and paragraph separators and the
/// bidirectional-override characters written as `\n`, `\t`, `\r` or `\u{XX}`; cut after
/// `max_chars` characters of the original with `…`. Never longer than about
/// `8 * max_chars` bytes (every character escaped).
pub fn one_line(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 2));
    for (i, c) in s.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// An error and its sources on one line (outermost first, a source already contained in the
/// text before it dropped), escaped and cut to `max_chars` as [`one_line`].
pub fn error_chain(e: &dyn std::error::Error, max_chars: usize) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        cur = s.source();
    }
    one_line(&out, max_chars)
}

/// Whether a character must not reach a terminal or a log line as it is.
/// Whether `c` must not reach a reader as itself: control characters, line and paragraph
/// separators, bidirectional controls and zero-width characters (the report renderers replace
/// them too).
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // line and paragraph separators
            '\u{2028}' | '\u{2029}'
            // bidirectional embeddings, overrides and isolates (CVE-2021-42574, "Trojan Source")
            | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
            // the Arabic letter mark, a bidirectional control too
            | '\u{061c}'
            // zero-width, invisible-operator and byte-order marks that hide text
            | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}'
            | '\u{180e}' | '\u{feff}'
            // the soft hyphen, the combining grapheme joiner, the Hangul fillers and the
            // interlinear annotation marks: invisible in most renderers
            | '\u{00ad}' | '\u{034f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}')
}

/// What is wrong with JSON that `serde_json` could not read, from the error's class and
/// position only (its message can quote the input, escape sequences and all):
/// `Some("not JSON (line L column C)")` for a syntax error, `Some("cut short: JSON ends at
/// line L column C")` for an early end, `None` for JSON of another shape or a read error (the
/// caller knows which shape it wanted).
pub fn json_fault(e: &serde_json::Error) -> Option<String> {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax => Some(format!(
            "not JSON (line {} column {})",
            e.line(),
            e.column()
        )),
        Category::Eof => Some(format!(
            "cut short: JSON ends at line {} column {}",
            e.line(),
            e.column()
        )),
        Category::Data | Category::Io => None,
    }
}

/// JSON output that a terminal or a line splitter cannot be fooled by: `serde_json` escapes
/// control characters but writes bidirectional controls, zero-width characters and the line
/// separators U+2028/U+2029 as they are; this writes every character [`needs_escape`] names as
/// `\uXXXX` (all of them are in the Basic Multilingual Plane). The JSON decodes to the same
/// strings. Wraps `serde_json`'s compact or pretty formatter.
pub struct SafeJson<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as JSON through [`SafeJson`]: pretty (two-space indent) or compact.
///
/// # Errors
/// The writer's, or serialization's.
pub fn write_safe_json<W: std::io::Write, T: serde::Serialize + ?Sized>(
    writer: W,
    value: &T,
    pretty: bool,
) -> serde_json::Result<()> {
    if pretty {
        let mut ser = serde_json::Serializer::with_formatter(
            writer,
            SafeJson(serde_json::ser::PrettyFormatter::new()),
        );
        value.serialize(&mut ser)
    } else {
        let mut ser = serde_json::Serializer::with_formatter(
            writer,
            SafeJson(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut ser)
    }
}

#[cfg(test)]
mod tests {
    /// JSON output escapes what would reorder or hide text on a terminal, and what a Unicode
    /// line splitter would cut a JSON line at (U+2028), and still decodes to the same string.
    #[test]
    fn safe_json_escapes_bidi_and_invisible_characters() {
        let s = "po\u{200b}ds \u{202e}evil\u{2028}next \u{61c}\u{feff} \"q\" \u{1b}[31m";
        for pretty in [false, true] {
            let mut out = Vec::new();
            super::write_safe_json(&mut out, &serde_json::json!({ "k": s }), pretty).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.chars().any(|c| c != '\n' && super::needs_escape(c)),
                "{text:?}"
            );
            assert!(
                text.contains("\\u200b") && text.contains("\\u2028"),
                "{text}"
            );
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back["k"], s);
        }
    }

    use super::*;

    #[test]
    fn control_characters_and_newlines_are_written_out() {
        assert_eq!(one_line("a\nb\x1b[2Jc\r\t", 100), "a\\nb\\u{1b}[2Jc\\r\\t");
        assert_eq!(one_line("x\u{202e}y\u{85}", 100), "x\\u{202e}y\\u{85}");
        assert_eq!(one_line("plain ünïcode", 100), "plain ünïcode");
        // Invisible in most renderers: a name that reads `kube-system` could hide one.
        assert_eq!(
            one_line("kube\u{ad}system\u{3164}\u{34f}", 100),
            "kube\\u{ad}system\\u{3164}\\u{34f}"
        );
    }

    #[test]
    fn long_text_is_cut() {
        let long = "é".repeat(1000);
        let out = one_line(&long, 10);
        assert_eq!(out.chars().count(), 11);
        assert!(out.ends_with('…'));
        assert_eq!(one_line("exactly", 7), "exactly");
    }
}
