//! How well `classify` does on the labelled set of real log lines
//! (tests/fixtures/classify/labelled*.tsv: 612 lines from public issue threads, docs and client
//! source, each with its source). The numbers are measured by the test `classify_labelled`,
//! which also checks that `accuracy.tsv` (embedded here and shown by `classify -o summary`) is
//! current. Two parts: `dev`, the lines the rules were tuned on, and `test`, lines held out by
//! source before tuning (fixtures README, "Development and test parts").

use std::collections::BTreeMap;

use serde::Serialize;

/// Correct answers out of rows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Rows scored.
    pub rows: u32,
    /// Rows answered as labelled.
    pub correct: u32,
}

impl Count {
    /// Scores one row.
    pub fn add(&mut self, ok: bool) {
        self.rows += 1;
        self.correct += u32::from(ok);
    }

    /// `correct / rows`, 1.0 for no rows.
    pub fn ratio(&self) -> f64 {
        if self.rows == 0 {
            1.0
        } else {
            f64::from(self.correct) / f64::from(self.rows)
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} ({}/{})", self.ratio(), self.correct, self.rows)
    }
}

/// The scores of one part of the labelled set.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// Category right, over all rows.
    pub category: Count,
    /// Client family right (a library, or null when nothing on the line says), over error rows.
    pub client: Count,
    /// `none` rows (false-positive traps) answered `none`.
    pub none_traps: Count,
    /// HTTP code right (a code, or null), over error rows.
    pub http_code: Count,
    /// Category right, by labelled category (recall).
    pub per_category: BTreeMap<String, Count>,
    /// Client family right, by labelled family (`-`: no family on the line), over error rows.
    pub per_client: BTreeMap<String, Count>,
}

/// The measurement: development and held-out test part.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Accuracy {
    /// The rows the rules were tuned on.
    pub dev: Part,
    /// The rows held out.
    pub test: Part,
}

impl Accuracy {
    /// The numbers last measured (src/classify/accuracy.tsv).
    pub fn measured() -> Accuracy {
        Accuracy::from_tsv(include_str!("accuracy.tsv"))
            .expect("accuracy.tsv is written by the classify_labelled test")
    }

    /// Tab-separated: `part  kind  name  correct  rows`, kind one of `all`, `category`, `client`.
    pub fn to_tsv(&self) -> String {
        let mut s = String::from("# part\tkind\tname\tcorrect\trows\n");
        for (name, p) in [("dev", &self.dev), ("test", &self.test)] {
            let mut row = |kind: &str, what: &str, c: &Count| {
                s += &format!("{name}\t{kind}\t{what}\t{}\t{}\n", c.correct, c.rows);
            };
            row("all", "category", &p.category);
            row("all", "client", &p.client);
            row("all", "none_traps", &p.none_traps);
            row("all", "http_code", &p.http_code);
            for (k, c) in &p.per_category {
                row("category", k, c);
            }
            for (k, c) in &p.per_client {
                row("client", k, c);
            }
        }
        s
    }

    /// Parses [`Accuracy::to_tsv`]'s format; the error names the bad line.
    pub fn from_tsv(text: &str) -> Result<Accuracy, String> {
        let mut acc = Accuracy::default();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let bad = || format!("accuracy.tsv line {}: {line:?}", i + 1);
            let f: Vec<&str> = line.split('\t').collect();
            let [part, kind, name, correct, rows] = f[..] else {
                return Err(bad());
            };
            let count = Count {
                correct: correct.parse().map_err(|_| bad())?,
                rows: rows.parse().map_err(|_| bad())?,
            };
            let p = match part {
                "dev" => &mut acc.dev,
                "test" => &mut acc.test,
                _ => return Err(bad()),
            };
            match (kind, name) {
                ("all", "category") => p.category = count,
                ("all", "client") => p.client = count,
                ("all", "none_traps") => p.none_traps = count,
                ("all", "http_code") => p.http_code = count,
                ("category", k) => {
                    p.per_category.insert(k.to_string(), count);
                }
                ("client", k) => {
                    p.per_client.insert(k.to_string(), count);
                }
                _ => return Err(bad()),
            }
        }
        Ok(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_and_round_trips() {
        let acc = Accuracy::measured();
        assert!(acc.test.category.rows > 0);
        assert_eq!(Accuracy::from_tsv(&acc.to_tsv()), Ok(acc));
    }

    #[test]
    fn bad_lines_are_named() {
        let e = Accuracy::from_tsv("dev\tall\tcategory\tx\t3\n").unwrap_err();
        assert!(e.contains("line 1"), "{e}");
    }
}
