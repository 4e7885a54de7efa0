//! `serve`'s store of recent reports: bounded in count (`--keep-reports`), newest first, each
//! with an id for `GET /api/reports/{id}`.

use std::collections::VecDeque;
use std::sync::Mutex;

use jiff::Timestamp;
use kube_doctor_core::report::Report;
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
}

/// The bounded store.
pub struct ReportStore {
    reports: Mutex<VecDeque<StoredReport>>,
    keep: usize,
    next_id: std::sync::atomic::AtomicU64,
}

impl ReportStore {
    /// A store that keeps the newest `keep` reports.
    pub fn new(keep: usize) -> ReportStore {
        ReportStore {
            reports: Mutex::new(VecDeque::new()),
            keep: keep.max(1),
            next_id: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Stores a finished investigation, dropping the oldest beyond the bound.
    pub fn store(&self, client: String, report: Result<Report, String>) -> String {
        let n = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let created_at = Timestamp::now();
        let id = format!("r{n}-{}", created_at.as_second());
        let (report, error) = match report {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        let mut reports = self.reports.lock().expect("reports lock");
        reports.push_front(StoredReport {
            id: id.clone(),
            created_at,
            client,
            report,
            error,
        });
        reports.truncate(self.keep);
        id
    }

    /// Recent reports, newest first.
    pub fn list(&self) -> Vec<ReportSummary> {
        self.reports
            .lock()
            .expect("reports lock")
            .iter()
            .map(|r| {
                let top = r.report.as_ref().and_then(|rep| rep.top());
                ReportSummary {
                    id: r.id.clone(),
                    created_at: r.created_at,
                    client: r.client.clone(),
                    cause: top.map(|v| v.cause.as_str().to_string()),
                    confidence: top.map(|v| v.confidence),
                    summary: match (top, &r.error) {
                        (Some(v), _) => v.summary.clone(),
                        (None, Some(e)) => format!("investigation failed: {e}"),
                        (None, None) => "no problem diagnosed".to_string(),
                    },
                }
            })
            .collect()
    }

    /// One report.
    pub fn get(&self, id: &str) -> Option<StoredReport> {
        self.reports
            .lock()
            .expect("reports lock")
            .iter()
            .find(|r| r.id == id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
