//! What serde cannot check: ranges, formats, the board mappings' structure, and the secrets
//! `run` needs. Every refusal names the file (or variable) and the key.

use secrecy::ExposeSecret;

use super::{is_loopback, secrets, ColumnKind, ConfigError, Entity, Settings};

impl Settings {
    /// Checks what serde cannot: ranges, formats and the board mappings' structure.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            source_name: self.source.clone(),
            key: key.to_string(),
            message,
        };
        if let Some(url) = self.store.postgres_url() {
            // The parser's message never echoes the URL, which may hold a password.
            if let Err(e) = url.parse::<tokio_postgres::Config>() {
                return Err(invalid(
                    "store.url",
                    format!(
                        "expected a PostgreSQL URL such as \"postgres://bridge@db.internal:5432/bridge\" \
                         ({e}); leave it empty for the SQLite file at store.path"
                    ),
                ));
            }
            if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                return Err(invalid(
                    "store.url",
                    "expected a URL starting with postgres:// (key=value strings are not \
                     accepted, so a password in one cannot be printed by mistake)"
                        .into(),
                ));
            }
        }
        if self.store.pool_size == 0 {
            return Err(invalid("store.pool_size", "expected at least 1".into()));
        }
        if !is_api_version(&self.monday.api_version) {
            return Err(invalid(
                "monday.api_version",
                format!(
                    "expected YYYY-MM with month 01, 04, 07 or 10 (e.g. \"2026-10\"), got {:?}",
                    self.monday.api_version
                ),
            ));
        }
        if !matches!(self.monday.api_url.scheme(), "http" | "https") {
            return Err(invalid("monday.api_url", "expected an http(s) URL".into()));
        }
        if self.monday.timeout_secs == 0 {
            return Err(invalid("monday.timeout_secs", "expected at least 1".into()));
        }
        if self.server.body_limit_bytes < 1024 {
            return Err(invalid(
                "server.body_limit_bytes",
                "expected at least 1024 bytes".into(),
            ));
        }
        self.server
            .limits
            .check()
            .map_err(|(key, message)| invalid(key, message))?;
        if self.admin.hosts.iter().all(|h| h.trim().is_empty()) {
            return Err(invalid(
                "admin.hosts",
                "expected at least one host name, e.g. [\"localhost\", \"127.0.0.1\"]".into(),
            ));
        }
        if self.monday.max_batch == 0 || self.monday.max_batch > 100 {
            return Err(invalid(
                "monday.max_batch",
                "expected 1 to 100 commands per request".into(),
            ));
        }
        if self.monday.max_in_flight == 0 || self.monday.max_in_flight_per_board == 0 {
            return Err(invalid(
                "monday.max_in_flight",
                "expected at least 1 request in flight".into(),
            ));
        }
        if let Err(message) = crate::budget::Share::parse(&self.monday.daily_budget) {
            return Err(invalid("monday.daily_budget", message));
        }
        if self.monday.daily_limit == 0 {
            return Err(invalid(
                "monday.daily_limit",
                "expected at least 1 call a day (1,000 on Basic and Standard, 10,000 on Pro, 25,000 on Enterprise)".into(),
            ));
        }
        if self.monday.budget_day_secs < 10 {
            return Err(invalid(
                "monday.budget_day_secs",
                "expected at least 10 seconds (monday's day is 86400)".into(),
            ));
        }
        if self.worker.concurrency == 0 {
            return Err(invalid("worker.concurrency", "expected at least 1".into()));
        }
        if self.server.workers == 0 {
            return Err(invalid("server.workers", "expected at least 1".into()));
        }
        if self.worker.retry_schedule.is_empty() {
            return Err(invalid(
                "worker.retry_schedule",
                "expected at least one delay, e.g. [\"5s\", \"1m\"]".into(),
            ));
        }
        // Renewed every third of itself while a reconcile runs: a lease need not outlive a
        // request, only the pause between two renewals.
        if self.worker.lease_secs < 3 {
            return Err(invalid(
                "worker.lease_secs",
                "expected at least 3 (a lease is renewed every third of it while its call is \
                 worked; a stopped replica's calls move on after it)"
                    .into(),
            ));
        }
        check_log_filter(&self.log.level).map_err(|m| invalid("log.level", m))?;
        self.check_insight_card()
            .map_err(|(key, message)| invalid(&key, message))?;
        for (i, board) in self.boards.iter().enumerate() {
            if let Some(j) = self.boards[..i]
                .iter()
                .position(|b| b.board_id == board.board_id && b.entity == board.entity)
            {
                return Err(invalid(
                    &format!("boards[{i}].board_id"),
                    format!(
                        "board {} is already mapped as a {} board by boards[{j}] ({:?}): every {} \
                         would get two items on it. Keep one [[boards]] table per board (when \
                         pasting a `boards --board` skeleton, replace the old table)",
                        board.board_id,
                        board.entity.as_str(),
                        self.boards[j].name,
                        board.entity.as_str()
                    ),
                ));
            }
            board
                .validate()
                .map_err(|(key, message)| invalid(&format!("boards[{i}].{key}"), message))?;
            // `contact_item` is the contact's item on the first contact board.
            let has_contacts = self.boards.iter().any(|b| b.entity == Entity::Contact);
            if board.create_contact_for_unknown_numbers {
                let contacts = self.boards.iter().find(|b| b.entity == Entity::Contact);
                let adopts_by_phone = contacts.is_some_and(|c| {
                    c.adopt_by()
                        .iter()
                        .any(|m| c.columns.get(m).map(|s| s.kind) == Some(ColumnKind::Phone))
                });
                let relates = board
                    .columns
                    .values()
                    .any(|c| c.kind == ColumnKind::BoardRelation);
                if board.entity != Entity::Call || !relates || !adopts_by_phone {
                    return Err(invalid(
                        &format!("boards[{i}].create_contact_for_unknown_numbers"),
                        "needs a call board with a board_relation column, and a contact board that adopts by a phone column (match_columns, on_existing = \"adopt\"), so the item it creates becomes the contact's when Aircall creates it".into(),
                    ));
                }
            }
            for (id, spec) in &board.columns {
                if spec.kind == ColumnKind::BoardRelation && !has_contacts {
                    return Err(invalid(
                        &format!("boards[{i}].columns.{id}"),
                        "a board_relation column links to the contact board: add one".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// What `run` needs on top of a valid configuration: the secrets to receive webhooks and
    /// to write to monday. Set-up commands (`webhook register`, ...) run without them.
    pub fn require_secrets(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            source_name: self.source.clone(),
            key: key.to_string(),
            message: message.to_string(),
        };
        if let Some(file) = &self.aircall.webhook_tokens_file {
            match std::fs::metadata(file) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(invalid(
                        "aircall.webhook_tokens_file",
                        &format!(
                            "{} does not exist (`webhook register` creates it)",
                            file.display()
                        ),
                    ))
                }
                Err(e) => return Err(secrets::unreadable(file, "the webhook tokens file", &e)),
            }
        }
        if self.aircall.webhook_tokens.is_empty() {
            return Err(invalid(
                "aircall.webhook_tokens",
                "expected at least one token (the `token` Aircall gives for the webhook; \
                 `webhook register` stores it): set it, webhook_tokens_file, or the systemd \
                 credential aircall_token",
            ));
        }
        if !is_loopback(&self.server.admin_listen) && self.admin.token.expose_secret().is_empty() {
            return Err(invalid(
                "admin.token",
                &format!(
                    "server.admin_listen = {} is reachable from other machines: set a bearer \
                     token (admin.token_file, or the systemd credential admin_token)",
                    self.server.admin_listen
                ),
            ));
        }
        // A card is one request to Aircall's API: enabled without credentials it could never
        // be sent, which `run` refuses rather than skipping every card in silence.
        if self.insight_card.enabled
            && (self.aircall.api_id.trim().is_empty()
                || self.aircall.api_token.expose_secret().trim().is_empty())
        {
            return Err(invalid(
                "insight_card.enabled",
                "insight cards are pushed through Aircall's API: set aircall.api_id and \
                 aircall.api_token (or api_token_file, or the systemd credential \
                 aircall_api_token), or set insight_card.enabled = false",
            ));
        }
        if !self.boards.is_empty() && self.monday.api_token.expose_secret().trim().is_empty() {
            return Err(invalid(
                "monday.api_token",
                "expected a monday API token: set it, api_token_file, or the systemd credential \
                 monday_token",
            ));
        }
        Ok(())
    }
}

/// The levels a `log.level` directive may name.
const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error", "off"];

/// A tracing filter as `log.level` takes it: comma-separated directives, each a level or
/// `target=level`. tracing itself reads a lone word that is not a level ("verbose") as a
/// target at every level, which then logs nothing at all; that is refused here.
fn check_log_filter(filter: &str) -> Result<(), String> {
    let expected = "expected a level (trace, debug, info, warn, error, off) or target=level \
                    directives separated by commas, e.g. \"info,aircall_monday_bridge::monday=debug\"";
    if filter.trim().is_empty() {
        return Err(format!("empty filter: {expected}"));
    }
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = match directive.rsplit_once('=') {
            Some((target, level)) if !target.trim().is_empty() => level,
            _ => directive,
        };
        if !LOG_LEVELS.contains(&level.trim().to_ascii_lowercase().as_str()) {
            return Err(format!("{directive:?} is not a level: {expected}"));
        }
    }
    tracing_subscriber::EnvFilter::try_new(filter)
        .map(|_| ())
        .map_err(|e| format!("{filter:?} does not parse ({e}): {expected}"))
}

fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && matches!(&v[5..], "01" | "04" | "07" | "10")
}
