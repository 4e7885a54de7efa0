//! `serve`'s store of recent reports: bounded in count (`--keep-reports`) and in bytes
//! (`--keep-reports-bytes`, the reports' JSON), newest first, each with an id for
//! `GET /api/reports/{id}`. The oldest go first; a single report larger than the whole byte
//! bound is kept as a failure that says so, never stored whole.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use kube_doctor_core::report::{Outcome, Report};
use serde::Serialize;

/// A finished investigation.
#[derive(Debug, Clone, Serialize)]
pub struct StoredReport {
    /// Report id.
    pub id: String,
    /// When it finished.
    pub created_at: Timestamp,
    /// The client investigated.
    pub client: String,
    /// The report (or why there is none).
    pub report: Option<Report>,
    /// Why the investigation failed, if it did.
    pub error: Option<String>,
    /// What the report amounts to (as in the CLI's JSON report): diagnosed, clean, or blind
    /// with the reason; `None` when there is no report.
    pub outcome: Option<Outcome>,
}

/// A line of `GET /api/reports`.
#[derive(Debug, Serialize)]
pub struct ReportSummary {
    /// Id.
    pub id: String,
    /// When.
    pub created_at: Timestamp,
    /// Client.
    pub client: String,
    /// Top cause, if any.
    pub cause: Option<String>,
    /// Its confidence.
    pub confidence: Option<f64>,
    /// Its summary, or the failure.
    pub summary: String,
    /// `diagnosed`, `clean`, `blind` (could not look) or `failed` (no report).
    pub outcome: &'static str,
}

/// The bounded store.
pub struct ReportStore {
    inner: Mutex<Stored>,
    keep: usize,
    max_bytes: usize,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Stored {
    /// Newest first, each with its size in bytes (its JSON).
    reports: VecDeque<(Arc<StoredReport>, usize)>,
    /// The sum of the sizes.
    bytes: usize,
}

impl ReportStore {
    /// A store that keeps the newest `keep` reports, within `--keep-reports-bytes`'s default
    /// ([`crate::cli::DEFAULT_KEEP_REPORTS_BYTES`]).
    #[cfg(test)]
    pub fn new(keep: usize) -> ReportStore {
        ReportStore::with_max_bytes(keep, crate::cli::DEFAULT_KEEP_REPORTS_BYTES)
    }

    /// A store that keeps the newest `keep` reports whose JSON adds up to at most `max_bytes`.
    pub fn with_max_bytes(keep: usize, max_bytes: usize) -> ReportStore {
        ReportStore {
            inner: Mutex::new(Stored::default()),
            keep: keep.max(1),
            max_bytes: max_bytes.max(1024),
            next_id: AtomicU64::new(1),
        }
    }

    /// Stores a finished investigation, dropping the oldest beyond the bounds; returns its id.
    pub fn store(&self, client: String, report: Result<Report, String>) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let created_at = Timestamp::now();
        let id = format!("r{n}-{}", created_at.as_second());
        let (report, error) = match report {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        let outcome = report.as_ref().map(Report::outcome);
        let mut stored = StoredReport {
            id: id.clone(),
            created_at,
            client,
            report,
            error,
            outcome,
        };
        let mut size = json_size(&stored);
        if size > self.max_bytes {
            stored.report = None;
            stored.error = Some(format!(
                "the report was not kept: its JSON is {size} bytes, more than --keep-reports-bytes ({})",
                self.max_bytes
            ));
            stored.client = kube_doctor_core::escape::one_line(&stored.client, 256);
            size = json_size(&stored);
        }
        let mut inner = self.lock();
        inner.reports.push_front((Arc::new(stored), size));
        inner.bytes += size;
        while inner.reports.len() > self.keep || inner.bytes > self.max_bytes {
            match inner.reports.pop_back() {
                Some((_, s)) => inner.bytes -= s,
                None => break,
            }
        }
        id
    }

    /// Recent reports, newest first.
    pub fn list(&self) -> Vec<ReportSummary> {
        self.lock()
            .reports
            .iter()
            .map(|(r, _)| {
                let top = r.report.as_ref().and_then(|rep| rep.top());
                ReportSummary {
                    id: r.id.clone(),
                    created_at: r.created_at,
                    client: r.client.clone(),
                    cause: top.map(|v| v.cause.as_str().to_string()),
                    confidence: top.map(|v| v.confidence),
                    summary: match (top, &r.error, &r.outcome) {
                        (Some(v), _, _) => v.summary.clone(),
                        (None, Some(e), _) => format!("investigation failed: {e}"),
                        (None, None, Some(Outcome::Blind(why))) => {
                            format!("could not look, nothing is known to be healthy: {why}")
                        }
                        (None, None, _) => "no problem diagnosed".to_string(),
                    },
                    outcome: match &r.outcome {
                        Some(Outcome::Diagnosed) => "diagnosed",
                        Some(Outcome::Clean) => "clean",
                        Some(Outcome::Blind(_)) => "blind",
                        None => "failed",
                    },
                }
            })
            .collect()
    }

    /// One report.
    pub fn get(&self, id: &str) -> Option<Arc<StoredReport>> {
        self.lock()
            .reports
            .iter()
            .find(|(r, _)| r.id == id)
            .map(|(r, _)| r.clone())
    }

    /// Reports kept and the bytes of their JSON.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.reports.len(), inner.bytes)
    }

    fn lock(&self) -> MutexGuard<'_, Stored> {
        // A panic while holding the lock leaves a consistent list; go on with it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The length of `r`'s JSON (what `GET /api/reports/{id}` sends).
fn json_size(r: &StoredReport) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serializing these types cannot fail (string keys only); count what was written anyway.
    let _ = serde_json::to_writer(&mut c, r);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report that could not look (step 3 failed) is listed as blind, never as "no problem
    /// diagnosed", and its JSON carries the outcome as the CLI's does.
    #[test]
    fn a_blind_report_is_never_listed_as_healthy() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../kube-doctor-core/tests/fixtures/bundles/healthy.json"
        );
        let mut b =
            kube_doctor_core::bundle::Bundle::from_json(&std::fs::read(path).unwrap()).unwrap();
        let settings = kube_doctor_core::diagnose::Settings::default();
        let clean = kube_doctor_core::diagnose::diagnose(&b, &settings);
        assert_eq!(clean.outcome(), Outcome::Clean);
        let s3 = b.steps.iter_mut().find(|s| s.step == 3).unwrap();
        s3.status = kube_doctor_core::bundle::StepStatus::Failed;
        s3.note = Some("Prometheus at http://p:9090 is unreachable".into());
        let blind = kube_doctor_core::diagnose::diagnose(&b, &settings);
        let s = ReportStore::new(4);
        let id = s.store("job/x".into(), Ok(blind));
        s.store("job/y".into(), Ok(clean));
        let l = s.list();
        assert_eq!((l[0].outcome, l[1].outcome), ("clean", "blind"));
        assert_eq!(l[0].summary, "no problem diagnosed");
        assert!(
            l[1].summary.starts_with("could not look"),
            "{}",
            l[1].summary
        );
        assert!(!l[1].summary.contains("no problem"), "{}", l[1].summary);
        let json = serde_json::to_value(&*s.get(&id).unwrap()).unwrap();
        assert_eq!(json["outcome"]["state"], "blind", "{json}");
    }

    #[test]
    fn reports_are_bounded_and_newest_first() {
        let s = ReportStore::new(2);
        s.store("a".into(), Err("x".into()));
        s.store("b".into(), Err("y".into()));
        let id = s.store("c".into(), Err("z".into()));
        let l = s.list();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].client, "c");
        assert!(s.get(&id).is_some());
    }

    #[test]
    fn reports_are_bounded_in_bytes() {
        let s = ReportStore::with_max_bytes(1000, 10_000);
        // About 2 KB of JSON each: four fit in 10 KB, never five.
        for i in 0..50 {
            s.store(format!("c{i}"), Err("e".repeat(2000)));
            let (n, bytes) = s.usage();
            assert!(bytes <= 10_000, "{bytes} bytes in {n} reports");
            assert!(n <= 4, "{n}");
        }
        let l = s.list();
        assert_eq!(l[0].client, "c49", "the newest stays");
        assert_eq!(l.len(), 4);
        // The byte count is the JSON that GET /api/reports/{id} sends.
        let (_, bytes) = s.usage();
        let sum: usize = l
            .iter()
            .map(|r| serde_json::to_vec(&*s.get(&r.id).unwrap()).unwrap().len())
            .sum();
        assert_eq!(bytes, sum);
    }

    #[test]
    fn a_report_larger_than_the_bound_is_kept_as_a_note_that_says_so() {
        let s = ReportStore::with_max_bytes(10, 4096);
        let id = s.store("big".into(), Err("x".repeat(100_000)));
        let r = s.get(&id).unwrap();
        assert!(r.report.is_none());
        let e = r.error.as_deref().unwrap();
        assert!(e.contains("was not kept") && e.contains("4096"), "{e}");
        assert!(s.usage().1 <= 4096);
    }
}
