//! Live reload of the board mappings (`systemctl reload`, i.e. SIGHUP): the worker and the
//! webhook handler read the rules through a [`SharedRules`], so a reload swaps them between two
//! reconciles without stopping either. Events keep being stored and sent throughout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::config::{ConfigError, Entity, Settings};
use crate::mapping::Rules;
use crate::tls::CertificateSlot;

/// The rules in force. Readers take a snapshot (an `Arc`) and use it for a whole reconcile, so
/// board indexes never change under them.
#[derive(Clone)]
pub struct SharedRules(Arc<RwLock<Arc<Rules>>>);

impl SharedRules {
    pub fn new(rules: Rules) -> SharedRules {
        SharedRules(Arc::new(RwLock::new(Arc::new(rules))))
    }

    pub fn current(&self) -> Arc<Rules> {
        // A poisoned lock only means a writer panicked after the swap; the value is whole.
        match self.0.read() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn replace(&self, rules: Rules) {
        let mut slot = match self.0.write() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        *slot = Arc::new(rules);
    }

    /// Whether some board mirrors this kind of entity (other events are acknowledged only).
    pub fn mirrors(&self, entity: Entity) -> bool {
        self.current().boards().iter().any(|b| b.entity == entity)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Re-reads the configuration file (with the same environment and secrets as at start) and
/// compiles its board mappings. Only the mappings are applied live; other settings need a
/// restart.
pub fn load_rules(config: Option<&Path>) -> Result<Rules, ReloadError> {
    Ok(Settings::load(config)?.compile_rules()?)
}

/// Listens for SIGHUP from now on: registered before the bridge says it is ready, so that an
/// early `systemctl reload` cannot hit the default action (terminate).
pub struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    pub fn listen() -> Hangup {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signal = signal(SignalKind::hangup())
                .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGHUP: reload by restarting"))
                .ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    /// Reloads on every SIGHUP until the process ends. A configuration that does not load or
    /// compile is logged (naming the key) and the rules in force stay.
    pub async fn reload_each_time(
        self,
        config: Option<PathBuf>,
        rules: SharedRules,
        tls: Option<Arc<CertificateSlot>>,
    ) {
        #[cfg(unix)]
        if let Some(mut hup) = self.signal {
            while hup.recv().await.is_some() {
                reload(config.as_deref(), &rules, tls.as_deref());
            }
        }
        let _ = (config, rules, tls);
        std::future::pending::<()>().await
    }
}

/// One reload: swap the rules in on success, keep the old ones on failure; the same for the
/// public listener's certificate when it serves HTTPS (each independently of the other).
pub fn reload(config: Option<&Path>, rules: &SharedRules, tls: Option<&CertificateSlot>) -> bool {
    let settings = match Settings::load(config) {
        Ok(settings) => settings,
        Err(error) => {
            let error = ReloadError::Config(error);
            tracing::error!(%error, "reload failed: the previous board mappings stay in force");
            if tls.is_some() {
                tracing::error!("TLS reload failed: the certificate in force stays");
            }
            return false;
        }
    };
    let certificate = tls.is_none_or(|slot| slot.reload(&settings));
    let mappings = match settings.compile_rules() {
        Ok(new) => {
            let boards: Vec<String> = new.boards().iter().map(|b| b.name.clone()).collect();
            rules.replace(new);
            tracing::info!(?boards, "board mappings reloaded");
            true
        }
        Err(error) => {
            let error = ReloadError::Config(error);
            tracing::error!(%error, "reload failed: the previous board mappings stay in force");
            false
        }
    };
    mappings && certificate
}
