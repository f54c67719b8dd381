//! Budget alerts: a JSON POST to the budget's webhook when its spend passes
//! one of its `alert_at` thresholds (once per threshold per period). Sent
//! by a background task from a bounded queue, retried with backoff, never on
//! the request path; a full queue drops the alert and says so in the log.

use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use super::directory::Directory;
use super::limiter::Crossing;
use super::period;

const QUEUE: usize = 1024;
const ATTEMPTS: u32 = 4;

/// One alert on its way: where to, and what.
#[derive(Debug, Clone)]
pub struct Alert {
    pub url: String,
    pub body: serde_json::Value,
}

#[derive(Clone, Default)]
pub struct Alerts {
    queue: Option<mpsc::Sender<Alert>>,
}

impl Alerts {
    /// Alerts only logged (tests, embedding without a runtime).
    pub fn log_only() -> Self {
        Self::default()
    }

    /// Starts the sender task on the current runtime.
    pub fn start(client: reqwest::Client) -> Self {
        let (tx, mut rx) = mpsc::channel::<Alert>(QUEUE);
        tokio::spawn(async move {
            while let Some(alert) = rx.recv().await {
                deliver(&client, &alert).await;
            }
        });
        Self { queue: Some(tx) }
    }

    pub fn send(&self, dir: &Directory, c: Crossing) {
        let Some(policy) = dir.policies.iter().find(|p| p.id == c.policy).map(|p| &p.policy) else { return };
        let Some(budget) = policy.budget.as_ref() else { return };
        tracing::warn!(policy = %policy.id, threshold = c.threshold, spent = c.spent, max = c.max, "budget alert threshold passed");
        let Some(url) = budget.webhook.clone() else { return };
        let subject = c.key.rsplit('/').next().unwrap_or_default();
        let body = json!({
            "type": "budget.threshold",
            "policy": {"id": policy.id, "name": policy.name, "scope": policy.scope.to_string()},
            "subject": (!subject.is_empty()).then_some(subject),
            "threshold": c.threshold,
            "spent": c.spent,
            "max": c.max,
            "unit": if budget.in_usd() { "usd" } else { "tokens" },
            "period": budget.period,
            "period_start": period::rfc3339(c.period_start_ms),
            "at": period::rfc3339(period::now_ms()),
        });
        let Some(queue) = &self.queue else { return };
        if queue.try_send(Alert { url, body }).is_err() {
            tracing::error!(policy = %policy.id, "budget alert dropped: the alert queue is full");
        }
    }
}

async fn deliver(client: &reqwest::Client, alert: &Alert) {
    let mut wait = Duration::from_millis(500);
    for attempt in 1..=ATTEMPTS {
        let sent = client.post(&alert.url).timeout(Duration::from_secs(10)).json(&alert.body).send().await;
        match sent {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => tracing::warn!(attempt, status = r.status().as_u16(), "budget alert webhook refused the alert"),
            Err(e) => tracing::warn!(attempt, "budget alert webhook unreachable: {e}"),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    tracing::error!("budget alert not delivered after {ATTEMPTS} attempts");
}
