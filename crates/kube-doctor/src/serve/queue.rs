//! `serve`'s admission: the bounded queue of investigations and de-duplication (one
//! investigation per client per cool-down, and never two for a client at once). Time is passed
//! in (`Instant`), so tests control it. [`Queue::close`] closes it on shutdown: the workers
//! then finish what is queued and end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// One investigation to run.
#[derive(Debug, Clone)]
pub struct Job {
    /// The client (`job/instance`).
    pub client: String,
    /// When it was queued.
    pub queued_at: Instant,
    /// The alert that asked for it (its time, scope and rule), when one did.
    pub alert: Option<super::alerts::Alert>,
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

/// The queue and its de-duplication.
pub struct Queue {
    cooldown: Duration,
    state: Mutex<State>,
}

struct State {
    /// The sending half; `None` once closed.
    tx: Option<mpsc::Sender<Job>>,
    /// Client -> when it was last admitted.
    last: HashMap<String, Instant>,
}

impl Queue {
    /// A queue that holds `queue_size` jobs; the receiver goes to the workers.
    pub fn new(queue_size: usize, cooldown: Duration) -> (Queue, mpsc::Receiver<Job>) {
        let (tx, rx) = mpsc::channel(queue_size.max(1));
        (
            Queue {
                cooldown,
                state: Mutex::new(State {
                    tx: Some(tx),
                    last: HashMap::new(),
                }),
            },
            rx,
        )
    }

    /// Admits an investigation of `client` at `now`, unless one was admitted within the
    /// cool-down or the queue is full (or closed).
    #[allow(dead_code)] // callers without an alert (the tests; serve passes its alerts)
    pub fn admit(&self, client: &str, now: Instant) -> Admission {
        self.admit_alert(client, None, now)
    }

    /// [`Queue::admit`] for an alert: `key` is its de-duplication key
    /// ([`super::alerts::Alert::client_key`]), and the job carries the alert.
    pub fn admit_alert(
        &self,
        client: &str,
        alert: Option<super::alerts::Alert>,
        now: Instant,
    ) -> Admission {
        let mut state = self.lock();
        let State { tx, last } = &mut *state;
        let Some(tx) = tx else {
            return Admission::Dropped;
        };
        if let Some(t) = last.get(client)
            && now.saturating_duration_since(*t) < self.cooldown
        {
            return Admission::Deduplicated;
        }
        let job = Job {
            client: client.to_string(),
            queued_at: now,
            alert,
        };
        match tx.try_send(job) {
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

    /// Jobs waiting (0 once closed).
    pub fn queue_depth(&self) -> usize {
        self.lock()
            .tx
            .as_ref()
            .map_or(0, |tx| tx.max_capacity() - tx.capacity())
    }

    /// Closes the queue: nothing more is admitted, and the workers end once they have taken
    /// what is queued.
    pub fn close(&self) {
        self.lock().tx = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a consistent map; go on with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_investigation_per_client_per_cooldown() {
        let (s, mut rx) = Queue::new(8, Duration::from_secs(300));
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
        let (s, _rx) = Queue::new(2, Duration::from_secs(300));
        let t0 = Instant::now();
        assert_eq!(s.admit("a", t0), Admission::Queued);
        assert_eq!(s.admit("b", t0), Admission::Queued);
        assert_eq!(s.admit("c", t0), Admission::Dropped);
        assert_eq!(s.queue_depth(), 2);
        // A dropped client may be admitted once there is room: it was not marked.
        assert_ne!(s.admit("c", t0), Admission::Deduplicated);
    }

    #[tokio::test]
    async fn a_closed_queue_admits_nothing_and_ends_the_receiver_after_what_is_queued() {
        let (s, mut rx) = Queue::new(4, Duration::from_secs(300));
        let t0 = Instant::now();
        assert_eq!(s.admit("a", t0), Admission::Queued);
        s.close();
        assert_eq!(s.admit("b", t0), Admission::Dropped);
        assert_eq!(s.queue_depth(), 0);
        assert_eq!(rx.recv().await.unwrap().client, "a");
        assert!(
            rx.recv().await.is_none(),
            "closed while the Queue itself lives"
        );
    }
}
