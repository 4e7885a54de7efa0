//! The /metrics text parser (Prometheus 0.0.4 and OpenMetrics text), fed scrape bodies
//! from targets kube-doctor does not control. Properties: never panics; an error names a
//! line that exists; the filter only removes samples; quantiles stay inside the buckets.
#![no_main]

use kube_doctor_core::clients::exposition::{histogram_quantile, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text, |_| true) {
        Ok(all) => {
            let some = parse(text, |n| n.len() % 2 == 0).expect("a filter cannot add errors");
            assert!(some.iter().all(|s| s.name.len() % 2 == 0));
            assert!(some.len() <= all.len());
            // Treat the samples as histogram buckets (le = value order) and ask quantiles.
            let buckets: Vec<(f64, f64)> = all
                .iter()
                .filter_map(|s| {
                    s.labels
                        .get("le")
                        .and_then(|le| le.parse().ok())
                        .map(|le| (le, s.value))
                })
                .collect();
            for q in [0.0, 0.5, 0.99, 1.0] {
                let _ = histogram_quantile(q, &buckets);
            }
        }
        Err(e) => {
            assert!(
                e.line >= 1 && e.line <= text.lines().count(),
                "error names line {} of {}",
                e.line,
                text.lines().count()
            );
        }
    }
});
