//! How a test waits for the bridge built in process (`app::App`): on the store and the
//! bridge's clock, never on a sleep standing in for an event. Apart from app.rs to keep each
//! file short.

use std::time::{Duration, Instant};

use aircall_monday_bridge::clock::Clock;
use aircall_monday_bridge::store::EventRow;

use crate::app::App;
use crate::helpers::describe_pending;

impl App {
    /// Waits until no event is pending: the queue is read from the store itself. Only work
    /// that is due by the bridge's clock is done meanwhile (advance it for a retry).
    pub async fn drain(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stats = self.stats().await;
            if stats.pending_events == 0 {
                return;
            }
            if Instant::now() > deadline {
                let now = self.clock.now_ms();
                let waiting = describe_pending(self.store()).await;
                panic!("the queue did not drain by {now}: {stats:?}\n{waiting:#?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the worker has done everything that is due by the bridge's clock: what is
    /// left pending waits for a later due time (a retry, a call the budget holds back), or
    /// for the end of a pause in sending (monday's daily limit).
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let stats = self.stats().await;
            if stats.due_entities == 0 {
                return;
            }
            let paused_until = self.ready().await["sending_paused_until_ms"]
                .as_i64()
                .unwrap_or(0);
            if paused_until > self.clock.now_ms() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the worker did not get through what is due at {}: {stats:?}",
                self.clock.now_ms()
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Waits until an attempt has failed and left the events pending with a retry due later.
    pub async fn until_retry_is_scheduled(&self) -> i64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pending = self.store().recent_entities(100).await.unwrap();
            for e in pending.iter().filter(|e| e.state == "pending") {
                let detail = self.store().entity(e.kind, &e.entity_id).await.unwrap();
                if let Some(d) = detail.filter(|d| d.attempts > 0 && d.last_error.is_some()) {
                    return d.due_ms;
                }
            }
            assert!(Instant::now() < deadline, "no attempt failed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Lets the worker retry until at least `n` events are dead letters: each time it has
    /// done what is due, the clock moves to the next retry's due time. The dead letters.
    pub async fn retry_until_dead(&self, n: usize) -> Vec<EventRow> {
        self.retry_until("dead letters", || async {
            let dead = self.dead_letters().await;
            (dead.len() >= n).then_some(dead)
        })
        .await
    }

    /// Waits until no event is pending, as [`App::drain`], moving the clock to each retry's
    /// (or wait's) due time whenever the worker has done all that is due: for tests where
    /// monday fails on purpose and the retries are part of the story.
    pub async fn drain_through_retries(&self) {
        self.retry_until("the queue to drain", || async {
            (self.stats().await.pending_events == 0).then_some(())
        })
        .await
    }

    /// For `real` time, moves the bridge's clock to the next retry whenever nothing is due, so
    /// the worker tries what is waiting as often as it can.
    pub async fn keep_retrying_for(&self, real: Duration) {
        let until = Instant::now() + real;
        self.retry_until("the time to pass", || async {
            (Instant::now() >= until).then_some(())
        })
        .await
    }

    /// Polls `done` until it answers; whenever nothing is due by the bridge's clock, moves
    /// the clock to the earliest due time of what is pending. Fails after 120 s of real time,
    /// saying what is still pending.
    async fn retry_until<T, F, Fut>(&self, what: &str, mut done: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(v) = done().await {
                return v;
            }
            if self.stats().await.due_entities == 0 {
                if let Some(next) = self.next_due_ms().await {
                    let now = self.clock.now_ms();
                    if next > now {
                        self.clock.advance(next - now);
                    }
                }
            }
            if Instant::now() > deadline {
                let pending = describe_pending(self.store()).await;
                panic!("timed out waiting for {what}: {pending:#?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The earliest due time of the pending calls and contacts, if any is pending.
    async fn next_due_ms(&self) -> Option<i64> {
        let mut next = None;
        for e in self.store().recent_entities(1_000).await.unwrap() {
            if e.state != "pending" {
                continue;
            }
            if let Some(d) = self.store().entity(e.kind, &e.entity_id).await.unwrap() {
                next = Some(next.map_or(d.due_ms, |n: i64| n.min(d.due_ms)));
            }
        }
        next
    }
}
