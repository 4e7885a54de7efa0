//! The labelled set of real error lines (tests/fixtures/classify/labelled.tsv, each with its
//! public source) and ordinary lines (normal.txt): every row must classify as labelled.

use kube_doctor_core::Category;
use kube_doctor_core::classify::{Classifier, ClientLib};

struct Row {
    category: Category,
    code: Option<u16>,
    client: Option<ClientLib>,
    source: String,
    line: String,
}

fn rows() -> Vec<Row> {
    let text = include_str!("fixtures/classify/labelled.tsv");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            assert_eq!(
                f.len(),
                5,
                "labelled.tsv line {} has {} fields",
                i + 1,
                f.len()
            );
            Row {
                category: Category::parse(f[0])
                    .unwrap_or_else(|| panic!("line {}: bad category {}", i + 1, f[0])),
                code: (f[1] != "-").then(|| f[1].parse().expect("numeric code")),
                client: (f[2] != "-").then(|| {
                    ClientLib::parse(f[2])
                        .unwrap_or_else(|| panic!("line {}: bad client {}", i + 1, f[2]))
                }),
                source: f[3].to_string(),
                line: f[4].to_string(),
            }
        })
        .collect()
}

#[test]
fn labelled_set_is_large_and_sourced() {
    let rows = rows();
    assert!(rows.len() >= 200, "only {} labelled lines", rows.len());
    for r in &rows {
        assert!(
            r.source.starts_with("https://"),
            "row without a public source: {}",
            r.line
        );
    }
    // Every error category is represented.
    for c in Category::ALL {
        if c == Category::None {
            continue;
        }
        let n = rows.iter().filter(|r| r.category == c).count();
        assert!(n >= 3, "category {c} has only {n} labelled lines");
    }
}

#[test]
fn classify_labelled() {
    let cl = Classifier::new();
    let mut failures = vec![];
    for r in rows() {
        let got = cl.classify(r.line.as_bytes());
        if got.category != r.category || got.http_code != r.code || got.client != r.client {
            failures.push(format!(
                "want {}/{:?}/{:?} got {}/{:?}/{:?}\n    {}\n    {}",
                r.category,
                r.code,
                r.client.map(|c| c.as_str()),
                got.category,
                got.http_code,
                got.client.map(|c| c.as_str()),
                r.source,
                r.line
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the labelled lines are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn ordinary_lines_are_none() {
    let cl = Classifier::new();
    for line in include_str!("fixtures/classify/normal.txt").lines() {
        let got = cl.classify(line.as_bytes());
        assert_eq!(got.category, Category::None, "{line}");
    }
}
