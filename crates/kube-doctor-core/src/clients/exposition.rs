//! A reader for the Prometheus text exposition format (0.0.4) and OpenMetrics text, enough to
//! take samples from a /metrics scrape when there is no Prometheus (step 3's and step 7's
//! fallback). Only samples are read (`name{labels} value [timestamp]`); comments and metadata
//! lines are skipped. Written here rather than taken from a crate because the scrape
//! fallback must read both formats (client-go serves 0.0.4, prometheus-client crates serve
//! OpenMetrics) with full label escaping, and must say which line it could not read.

use std::collections::BTreeMap;

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_total`, `_bucket`... suffixes as written).
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

/// A line that is not a sample.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} is not a metrics sample: {reason}")]
pub struct ExpositionError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// Parses every sample whose name is accepted by `want` (a cheap filter keeps large
/// /metrics pages fast).
pub fn parse(text: &str, want: impl Fn(&str) -> bool) -> Result<Vec<Sample>, ExpositionError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |reason| ExpositionError {
            line: i + 1,
            reason,
        };
        let name_end = line
            .find(|c: char| c == '{' || c.is_whitespace())
            .ok_or_else(|| err("no value"))?;
        let name = &line[..name_end];
        if name.is_empty() {
            return Err(err("no metric name"));
        }
        if !want(name) {
            continue;
        }
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(body) = rest.strip_prefix('{') {
            let (parsed, after) = parse_labels(body).ok_or_else(|| err("bad labels"))?;
            labels = parsed;
            rest = after;
        }
        let value_text = rest
            .split_whitespace()
            .next()
            .ok_or_else(|| err("no value"))?;
        let value = parse_value(value_text).ok_or_else(|| err("bad value"))?;
        out.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(out)
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Parses `a="x",b="y\"z"}` and returns the labels and what follows the closing brace.
fn parse_labels(body: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    let bytes = body.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i] == b',' || bytes[i] == b' ') {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'}' {
            return Some((labels, &body[i + 1..]));
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' {
            i += 1;
        }
        let key = body.get(key_start..i)?.trim().to_string();
        i += 1;
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        let mut value = String::new();
        loop {
            match bytes.get(i)? {
                b'\\' => {
                    match bytes.get(i + 1)? {
                        b'n' => value.push('\n'),
                        b'"' => value.push('"'),
                        b'\\' => value.push('\\'),
                        _ => {
                            // Keep an unknown escape as written; the escaped character may
                            // be more than one byte.
                            let ch = body[i + 1..].chars().next()?;
                            value.push('\\');
                            value.push(ch);
                            i += ch.len_utf8() - 1;
                        }
                    }
                    i += 2;
                }
                b'"' => {
                    i += 1;
                    break;
                }
                _ => {
                    // Copy one UTF-8 character.
                    let ch = body[i..].chars().next()?;
                    value.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        labels.insert(key, value);
    }
}

/// The quantile `q` of a cumulative histogram given as (upper bound, count) buckets, by
/// linear interpolation within the bucket, as PromQL's histogram_quantile does.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let mut b: Vec<(f64, f64)> = buckets.to_vec();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total = b.last()?.1;
    if total <= 0.0 || !b.last()?.0.is_infinite() {
        return None;
    }
    let rank = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, count) in &b {
        if count >= rank {
            if le.is_infinite() {
                return Some(prev.0);
            }
            let in_bucket = count - prev.1;
            if in_bucket <= 0.0 {
                return Some(le);
            }
            return Some(prev.0 + (le - prev.0) * (rank - prev.1) / in_bucket);
        }
        prev = (le, count);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_and_escapes() {
        let text = r#"# HELP rest_client_requests_total x
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 24
rest_client_requests_total{code="<error>",host="h",method="GET"} 3 1700000000000
rest_client_requests_total{method="GET",code="429",host="a\"b\\c"} 1.5e1
other_metric 7
# EOF
"#;
        let s = parse(text, |n| n == "rest_client_requests_total").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].labels["code"], "<error>");
        assert_eq!(s[2].labels["host"], "a\"b\\c");
        assert_eq!(s[2].value, 15.0);
    }

    #[test]
    fn garbage_names_the_line() {
        let e = parse("ok 1\nbad{x=1} 2\n", |_| true).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("novalue\n", |_| true).unwrap_err();
        assert_eq!(e.reason, "no value");
    }

    #[test]
    fn quantiles_interpolate() {
        let b = [
            (0.1, 50.0),
            (0.5, 90.0),
            (1.0, 100.0),
            (f64::INFINITY, 100.0),
        ];
        let p50 = histogram_quantile(0.5, &b).unwrap();
        assert!((p50 - 0.1).abs() < 1e-9);
        let p99 = histogram_quantile(0.99, &b).unwrap();
        assert!((p99 - 0.95).abs() < 1e-9, "{p99}");
        assert_eq!(histogram_quantile(0.5, &[]), None);
    }

    /// Found by fuzzing (fuzz/fuzz_targets/exposition.rs): a backslash before a multi-byte
    /// character in a label value made the reader index inside the character and panic.
    #[test]
    fn unknown_escape_before_a_multibyte_character_is_kept() {
        let samples = parse("m{a=\"x\\\u{5dd}y\"} 1\n", |_| true).unwrap();
        assert_eq!(samples[0].labels["a"], "x\\\u{5dd}y");
        // And a truncated one is an error, not a panic.
        assert!(parse("m{a=\"x\\\u{5dd}", |_| true).is_err());
    }
}
