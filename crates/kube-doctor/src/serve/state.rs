//! `serve`'s state: the bounded queue of investigations, de-duplication (one investigation per
//! client per cool-down, and never two for a client at once), and the bounded store of recent
//! reports. Time is passed in (`Instant`), so tests control it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use kube_doctor_core::report::Report;
use serde::Serialize;
use tokio::sync::mpsc;

/// One investigation to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// The client (`job/instance`).
    pub client: String,
    /// When it was queued.
    pub queued_at: Instant,
}

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

/// What became of one alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Queued for investigation.
    Queued,
    /// Investigated (or queued) within the cool-down already.
    Deduplicated,
    /// The queue is full.
    Dropped,
}

/// Queue, de-duplication and reports.
pub struct ServeState {
    tx: mpsc::Sender<Job>,
    cooldown: Duration,
    /// Client -> when it was last admitted.
    last: Mutex<HashMap<String, Instant>>,
    reports: Mutex<VecDeque<StoredReport>>,
    keep: usize,
    next_id: std::sync::atomic::AtomicU64,
}

impl ServeState {
    /// A state whose queue holds `queue_size` jobs; the receiver goes to the workers.
    pub fn new(
        queue_size: usize,
        cooldown: Duration,
        keep: usize,
    ) -> (ServeState, mpsc::Receiver<Job>) {
        let (tx, rx) = mpsc::channel(queue_size.max(1));
        (
            ServeState {
                tx,
                cooldown,
                last: Mutex::new(HashMap::new()),
                reports: Mutex::new(VecDeque::new()),
                keep: keep.max(1),
                next_id: std::sync::atomic::AtomicU64::new(1),
            },
            rx,
        )
    }

    /// Admits an investigation of `client` at `now`, unless one was admitted within the
    /// cool-down or the queue is full.
    pub fn admit(&self, client: &str, now: Instant) -> Admission {
        let mut last = self.last.lock().expect("dedup lock");
        if let Some(t) = last.get(client)
            && now.saturating_duration_since(*t) < self.cooldown
        {
            return Admission::Deduplicated;
        }
        let job = Job {
            client: client.to_string(),
            queued_at: now,
        };
        match self.tx.try_send(job) {
            Ok(()) => {
                last.insert(client.to_string(), now);
                // Forget clients long past their cool-down, so the map stays bounded.
                let cooldown = self.cooldown;
                last.retain(|_, t| now.saturating_duration_since(*t) < cooldown * 4);
                Admission::Queued
            }
            Err(_) => Admission::Dropped,
        }
    }

    /// Jobs waiting.
    pub fn queue_depth(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
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
    fn one_investigation_per_client_per_cooldown() {
        let (s, mut rx) = ServeState::new(8, Duration::from_secs(300), 10);
        let t0 = Instant::now();
        assert_eq!(s.admit("a", t0), Admission::Queued);
        for i in 1..1000 {
            assert_eq!(
                s.admit("a", t0 + Duration::from_millis(i)),
                Admission::Deduplicated
            );
        }
        assert_eq!(
            s.admit("a", t0 + Duration::from_secs(301)),
            Admission::Queued
        );
        assert_eq!(rx.try_recv().unwrap().client, "a");
    }

    #[test]
    fn a_full_queue_drops_and_does_not_remember() {
        let (s, _rx) = ServeState::new(2, Duration::from_secs(300), 10);
        let t0 = Instant::now();
        assert_eq!(s.admit("a", t0), Admission::Queued);
        assert_eq!(s.admit("b", t0), Admission::Queued);
        assert_eq!(s.admit("c", t0), Admission::Dropped);
        assert_eq!(s.queue_depth(), 2);
        // A dropped client may be admitted once there is room: it was not marked.
        assert_ne!(s.admit("c", t0), Admission::Deduplicated);
    }

    #[test]
    fn reports_are_bounded_and_newest_first() {
        let (s, _rx) = ServeState::new(1, Duration::from_secs(1), 2);
        s.store("a".into(), Err("x".into()));
        s.store("b".into(), Err("y".into()));
        let id = s.store("c".into(), Err("z".into()));
        let l = s.list();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].client, "c");
        assert!(s.get(&id).is_some());
    }
}
