//! The labelled set of real log lines (tests/fixtures/classify/labelled*.tsv, each with its
//! public source; see the README there): accuracy per category and per client family on the
//! development part and on the held-out test part, checked against issue 15's targets and
//! against the numbers `classify -o summary` shows (src/classify/accuracy.tsv).
//!
//! Print the tables: `cargo test -p kube-doctor-core --test classify_labelled -- --nocapture`.
//! Refresh accuracy.tsv after a deliberate change:
//! `KUBE_DOCTOR_UPDATE_ACCURACY=1 cargo test -p kube-doctor-core --test classify_labelled`.

use std::collections::{BTreeMap, BTreeSet};

use kube_doctor_core::Category;
use kube_doctor_core::classify::accuracy::{Accuracy, Part};
use kube_doctor_core::classify::{Classifier, ClientLib};

struct Row {
    file: &'static str,
    line_no: usize,
    category: Category,
    code: Option<u16>,
    client: Option<ClientLib>,
    source: String,
    line: String,
}

const FILES: [(&str, &str); 20] = [
    (
        "labelled.tsv",
        include_str!("fixtures/classify/labelled.tsv"),
    ),
    (
        "labelled-2.tsv",
        include_str!("fixtures/classify/labelled-2.tsv"),
    ),
    (
        "labelled-3.tsv",
        include_str!("fixtures/classify/labelled-3.tsv"),
    ),
    (
        "labelled-4.tsv",
        include_str!("fixtures/classify/labelled-4.tsv"),
    ),
    (
        "labelled-5.tsv",
        include_str!("fixtures/classify/labelled-5.tsv"),
    ),
    (
        "labelled-6.tsv",
        include_str!("fixtures/classify/labelled-6.tsv"),
    ),
    (
        "labelled-7.tsv",
        include_str!("fixtures/classify/labelled-7.tsv"),
    ),
    (
        "labelled-8.tsv",
        include_str!("fixtures/classify/labelled-8.tsv"),
    ),
    (
        "labelled-9.tsv",
        include_str!("fixtures/classify/labelled-9.tsv"),
    ),
    (
        "labelled-10.tsv",
        include_str!("fixtures/classify/labelled-10.tsv"),
    ),
    (
        "labelled-11.tsv",
        include_str!("fixtures/classify/labelled-11.tsv"),
    ),
    (
        "labelled-12.tsv",
        include_str!("fixtures/classify/labelled-12.tsv"),
    ),
    (
        "labelled-13.tsv",
        include_str!("fixtures/classify/labelled-13.tsv"),
    ),
    (
        "labelled-14.tsv",
        include_str!("fixtures/classify/labelled-14.tsv"),
    ),
    (
        "labelled-15.tsv",
        include_str!("fixtures/classify/labelled-15.tsv"),
    ),
    (
        "labelled-16.tsv",
        include_str!("fixtures/classify/labelled-16.tsv"),
    ),
    (
        "labelled-17.tsv",
        include_str!("fixtures/classify/labelled-17.tsv"),
    ),
    (
        "labelled-18.tsv",
        include_str!("fixtures/classify/labelled-18.tsv"),
    ),
    (
        "labelled-19.tsv",
        include_str!("fixtures/classify/labelled-19.tsv"),
    ),
    (
        "labelled-20.tsv",
        include_str!("fixtures/classify/labelled-20.tsv"),
    ),
];

fn rows() -> Vec<Row> {
    parse(&FILES)
}

fn parse(files: &[(&'static str, &'static str)]) -> Vec<Row> {
    let mut out = vec![];
    for &(file, text) in files {
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            assert_eq!(f.len(), 5, "{file} line {} has {} fields", i + 1, f.len());
            out.push(Row {
                file,
                line_no: i + 1,
                category: Category::parse(f[0])
                    .unwrap_or_else(|| panic!("{file} line {}: bad category {}", i + 1, f[0])),
                code: (f[1] != "-").then(|| f[1].parse().expect("numeric code")),
                client: (f[2] != "-").then(|| {
                    ClientLib::parse(f[2])
                        .unwrap_or_else(|| panic!("{file} line {}: bad client {}", i + 1, f[2]))
                }),
                source: f[3].to_string(),
                line: f[4].to_string(),
            });
        }
    }
    out
}

/// FNV-1a, 64 bits: a fixed hash, so the split never changes with the toolchain.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The split (fixtures README), decided for round 20 before the classifier was run on it:
/// every row of rounds 1-19 is development (rounds 3 to 19 were each measured once as the test
/// part, so they are no longer clean); every row of round 20 is test. By source: round 20's
/// sources appear in no earlier round (checked below), so a thread never has lines on both
/// sides.
fn is_test_row(row: &Row) -> bool {
    row.file == TEST_ROUND
}

/// The file holding the held-out round.
const TEST_ROUND: &str = "labelled-20.tsv";

fn split(rows: &[Row]) -> (Vec<&Row>, Vec<&Row>) {
    rows.iter().partition(|r| !is_test_row(r))
}

fn client_word(c: Option<ClientLib>) -> &'static str {
    c.map_or("-", ClientLib::as_str)
}

/// Scores one part; `failures` receives one description per wrong row.
fn measure(rows: &[&Row], failures: &mut Vec<String>) -> Part {
    let cl = Classifier::new();
    let mut part = Part::default();
    for r in rows {
        let got = cl.classify(r.line.as_bytes());
        let cat_ok = got.category == r.category;
        part.category.add(cat_ok);
        part.per_category
            .entry(r.category.as_str().to_string())
            .or_default()
            .add(cat_ok);
        let mut ok = cat_ok;
        if r.category == Category::None {
            part.none_traps.add(cat_ok);
        } else {
            let client_ok = got.client == r.client;
            let code_ok = got.http_code == r.code;
            part.client.add(client_ok);
            part.http_code.add(code_ok);
            part.per_client
                .entry(client_word(r.client).to_string())
                .or_default()
                .add(client_ok);
            ok &= client_ok && code_ok;
        }
        if !ok {
            failures.push(format!(
                "{}:{}: want {}/{:?}/{} got {}/{:?}/{}\n    {}\n    {}",
                r.file,
                r.line_no,
                r.category,
                r.code,
                client_word(r.client),
                got.category,
                got.http_code,
                client_word(got.client),
                r.source,
                r.line
            ));
        }
    }
    part
}

fn table(name: &str, p: &Part) -> String {
    let mut s = format!(
        "{name}: {} rows; category {}; client family {}; none traps {}; http code {}\n",
        p.category.rows, p.category, p.client, p.none_traps, p.http_code
    );
    for (k, v) in &p.per_category {
        s += &format!("  category {k:<20} {v}\n");
    }
    for (k, v) in &p.per_client {
        s += &format!("  client   {k:<20} {v}\n");
    }
    s
}

fn measured() -> (Accuracy, Vec<String>, Vec<String>) {
    let rows = rows();
    let (dev, test) = split(&rows);
    let mut dev_failures = vec![];
    let mut test_failures = vec![];
    let acc = Accuracy {
        dev: measure(&dev, &mut dev_failures),
        test: measure(&test, &mut test_failures),
    };
    (acc, dev_failures, test_failures)
}

#[test]
fn labelled_set_is_large_sourced_and_covers_every_family() {
    let rows = rows();
    assert!(rows.len() >= 600, "only {} labelled lines", rows.len());
    let sources: BTreeSet<&str> = rows.iter().map(|r| r.source.as_str()).collect();
    assert!(sources.len() >= 150, "only {} sources", sources.len());
    for r in &rows {
        assert!(
            r.source.starts_with("https://"),
            "{}:{}: row without a public source",
            r.file,
            r.line_no
        );
    }
    let traps = rows.iter().filter(|r| r.category == Category::None).count();
    assert!(traps >= 150, "only {traps} `none` traps");
    for c in Category::ALL {
        let n = rows.iter().filter(|r| r.category == c).count();
        assert!(n >= 10, "category {c} has only {n} labelled lines");
    }
    for c in [
        ClientLib::Kubectl,
        ClientLib::ControllerRuntime,
        ClientLib::ClientGo,
        ClientLib::KubeRs,
        ClientLib::Python,
        ClientLib::Fabric8,
        ClientLib::Java,
        ClientLib::ClientNode,
        ClientLib::Dotnet,
    ] {
        let n = rows.iter().filter(|r| r.client == Some(c)).count();
        assert!(n >= 10, "client {} has only {n} labelled lines", c.as_str());
    }
}

#[test]
fn split_is_by_source_and_holds_out_a_real_test_part() {
    let rows = rows();
    let (dev, test) = split(&rows);
    let dev_sources: BTreeSet<&str> = dev.iter().map(|r| r.source.as_str()).collect();
    assert!(
        test.iter()
            .all(|r| !dev_sources.contains(r.source.as_str()))
    );
    // Issue 15 asks for a test part of at least 150 rows.
    assert!(test.len() >= 150, "test part has {} rows", test.len());
    let test_sources: BTreeSet<&str> = test.iter().map(|r| r.source.as_str()).collect();
    assert!(
        test_sources.len() >= 80,
        "test part has {} sources",
        test_sources.len()
    );
    let test_traps = test.iter().filter(|r| r.category == Category::None).count();
    // Issue 15 asks for 150 traps in the whole set (it has over 1,900); the test part's own
    // floor keeps its trap ratio meaningful (rounds 10-19 had 105-126; round 20 has 94, its
    // audit having left out 36 rows the search tools never showed).
    assert!(test_traps >= 90, "test part has {test_traps} traps");
    // Rounds 3 to 10 took only new sources: neither reuses a source of an earlier round
    // (rounds 1 and 2, both development, share some threads).
    let mut earlier: BTreeSet<&str> = BTreeSet::new();
    for (i, (file, _)) in FILES.iter().enumerate() {
        let here: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.file == *file)
            .map(|r| r.source.as_str())
            .collect();
        if i >= 2
            && let Some(reused) = here.intersection(&earlier).next()
        {
            panic!("{file} reuses {reused}, a source of an earlier round");
        }
        earlier.extend(here);
    }
    // The same line posted in two threads may appear twice, but never on both sides.
    let dev_lines: BTreeMap<&str, (&str, usize)> = dev
        .iter()
        .map(|r| (r.line.as_str(), (r.file, r.line_no)))
        .collect();
    for r in &test {
        if let Some((file, no)) = dev_lines.get(r.line.as_str()) {
            panic!(
                "{}:{} repeats {file}:{no} across the split",
                r.file, r.line_no
            );
        }
    }
}

/// Issue 15's targets on the held-out part (category 0.97, client family 0.95, `none` traps
/// 0.98), printed as met or missed; and no regression: neither part may score below the
/// numbers last recorded in accuracy.tsv (which the README and `classify -o summary` show).
#[test]
fn accuracy_is_reported_and_does_not_regress() {
    let (acc, dev_failures, test_failures) = measured();
    println!("{}", table("development", &acc.dev));
    println!("{}", table("test (held out)", &acc.test));
    for (what, got, target) in [
        ("category", acc.test.category, 0.97),
        ("client family", acc.test.client, 0.95),
        ("none traps", acc.test.none_traps, 0.98),
    ] {
        let verdict = if got.ratio() >= target {
            "met".to_string()
        } else {
            format!("MISSED by {:.3}", target - got.ratio())
        };
        println!("issue 15 target, test part, {what} >= {target}: {got} {verdict}");
    }
    if std::env::var_os("KUBE_DOCTOR_SHOW_DEV_FAILURES").is_some() {
        println!("development failures:\n{}", dev_failures.join("\n"));
    }
    if std::env::var_os("KUBE_DOCTOR_SHOW_TEST_FAILURES").is_some() {
        println!("test failures:\n{}", test_failures.join("\n"));
    }
    let recorded = Accuracy::measured();
    for (name, now, before) in [
        ("dev", &acc.dev, &recorded.dev),
        ("test", &acc.test, &recorded.test),
    ] {
        for (what, n, b) in [
            ("category", now.category, before.category),
            ("client", now.client, before.client),
            ("none traps", now.none_traps, before.none_traps),
            ("http code", now.http_code, before.http_code),
        ] {
            assert!(
                n.rows != b.rows || n.correct >= b.correct,
                "{name} {what} fell from {b} to {n}"
            );
        }
    }
}

/// The numbers `classify -o summary` and the README show are the ones measured now.
#[test]
fn embedded_accuracy_is_current() {
    let (acc, _, _) = measured();
    let tsv = acc.to_tsv();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/classify/accuracy.tsv");
    if std::env::var_os("KUBE_DOCTOR_UPDATE_ACCURACY").is_some() {
        std::fs::write(path, &tsv).expect("write accuracy.tsv");
    }
    assert_eq!(
        Accuracy::measured(),
        acc,
        "src/classify/accuracy.tsv is stale: rerun with KUBE_DOCTOR_UPDATE_ACCURACY=1"
    );
    assert_eq!(Accuracy::from_tsv(&tsv).as_ref(), Ok(&acc));
}

#[test]
fn ordinary_lines_are_none() {
    let cl = Classifier::new();
    for line in include_str!("fixtures/classify/normal.txt").lines() {
        let got = cl.classify(line.as_bytes());
        assert_eq!(got.category, Category::None, "{line}");
    }
}

#[test]
fn fnv_is_the_reference_function() {
    // Reference values of FNV-1a 64.
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
}

/// Throughput of the full analysis of candidate lines (the labelled lines, repeated):
/// `cargo test --release -p kube-doctor-core --test classify_labelled -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, run by hand in release mode"]
fn candidate_throughput() {
    let cl = Classifier::new();
    let rows = rows();
    let bytes: usize = rows.iter().map(|r| r.line.len()).sum();
    let reps = 200;
    let t = std::time::Instant::now();
    let mut errors = 0usize;
    for _ in 0..reps {
        for r in &rows {
            errors += usize::from(cl.classify(r.line.as_bytes()).category != Category::None);
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} lines x {reps}: {:.1} MB/s, {:.2} us/line ({errors} errors)",
        rows.len(),
        (bytes * reps) as f64 / secs / 1e6,
        secs * 1e6 / (rows.len() * reps) as f64
    );
}

/// Throughput of the first pass over the benchmark log (bench/classify.sh makes it):
/// `cargo test --release -p kube-doctor-core --test classify_labelled first_pass -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, run by hand in release mode after bench/classify.sh"]
fn first_pass_throughput() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/out/classify-256m.log"
    );
    let Ok(data) = std::fs::read(path) else {
        println!("no {path}: run bench/classify.sh first");
        return;
    };
    // CPU time of this thread (the machine may be busy): /proc/thread-self/schedstat.
    let cpu = || -> f64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |ns| ns / 1e9)
    };
    let cl = Classifier::new();
    let mut scratch = Vec::new();
    for only_first_pass in [true, false, true, false] {
        let t = cpu();
        let mut n = 0usize;
        for block in data.chunks(8 << 20) {
            let end = block
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(block.len(), |i| i + 1);
            if only_first_pass {
                n += cl.candidate_starts(&block[..end], &mut scratch).len();
            } else {
                cl.for_each_candidate(&block[..end], &mut scratch, |_, _| n += 1);
            }
        }
        let secs = cpu() - t;
        println!(
            "{}: {:.0} MB/s of CPU time ({n} candidates)",
            if only_first_pass {
                "first pass"
            } else {
                "first pass + classification"
            },
            data.len() as f64 / secs / 1e6
        );
    }
}
