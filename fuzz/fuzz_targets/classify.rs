//! `kube_doctor_core::classify` through its stable top-level entry points only
//! (`Classifier::shared`, `classify`, `is_candidate`, `for_each_candidate`).
//! Properties: never panics; a line without a trigger stem is `none`; the block pass
//! reports exactly the trigger-holding lines and classifies each as `classify` does.
#![no_main]

use kube_doctor_core::classify::{Classification, Classifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let c = Classifier::shared();
    // One line as given, bytes and all (NULs, invalid UTF-8, CRs).
    let whole = c.classify(data);
    if !c.is_candidate(data) {
        assert_eq!(whole, Classification::NONE);
    }
    // The same bytes as a block of lines: every reported range is one line of the block,
    // classified as the single-line entry point classifies it.
    let mut scratch = Vec::new();
    let mut seen = Vec::new();
    c.for_each_candidate(data, &mut scratch, |range, got| {
        let line = &data[range.clone()];
        assert!(
            !line.contains(&b'\n'),
            "a candidate range spans lines: {range:?}"
        );
        assert_eq!(
            got,
            c.classify(line),
            "block and line passes disagree on {line:?}"
        );
        seen.push(range.start);
    });
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "candidates out of order"
    );
    // Every line that is an error by itself was reported by the block pass.
    let mut start = 0;
    for line in data.split(|b| *b == b'\n') {
        let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
        if c.is_candidate(trimmed) {
            assert!(
                seen.contains(&start),
                "block pass missed the line at {start}"
            );
        }
        start += line.len() + 1;
    }
});
