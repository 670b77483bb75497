//! What `ferry serve` does between requests: sweeping uploads idle past
//! their lifetime, and retrying the uploads waiting for the `--forward`
//! backend as their backoff allows (also those from before a restart).

use std::sync::Arc;
use std::time::Duration;

use super::{Server, log};

/// How often uploads waiting for the `--forward` backend are looked at.
const FORWARD_RETRY_EVERY: Duration = Duration::from_millis(500);

/// The background tasks of a running server; ended together.
pub struct Background {
    sweeper: tokio::task::JoinHandle<()>,
    retrier: Option<tokio::task::JoinHandle<()>>,
}

impl Background {
    pub fn abort(self) {
        self.sweeper.abort();
        if let Some(retrier) = self.retrier {
            retrier.abort();
        }
    }
}

pub fn start(server: &Arc<Server>) -> Background {
    let sweeper = {
        let server = server.clone();
        let every =
            (server.settings.lifetime / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                let server = server.clone();
                let _ = tokio::task::spawn_blocking(move || sweep(&server)).await;
            }
        })
    };
    let retrier = server.forwarder.as_ref().map(|_| {
        let server = server.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(FORWARD_RETRY_EVERY);
            loop {
                ticks.tick().await;
                if let Some(forwarder) = &server.forwarder {
                    forwarder.retry_waiting(&server.store).await;
                }
            }
        })
    });
    Background { sweeper, retrier }
}

/// Deletes the uploads idle past their lifetime, and says so.
pub fn sweep(server: &Server) {
    match server.store.sweep_expired(server.settings.lifetime) {
        Ok(swept) if !swept.is_empty() => log(&format!("expired {} idle uploads", swept.len())),
        Ok(_) => {}
        Err(error) => log(&format!("sweeping expired uploads failed: {error}")),
    }
}
