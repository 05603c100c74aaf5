//! The account's daily call limit and usage (`platform_api`), for the daily-budget governor.

use super::{MondayClient, MondayError};

/// What `platform_api` said of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyUsage {
    /// `None` when monday did not say.
    pub limit: Option<u64>,
    pub used: u64,
}

impl MondayClient {
    /// The account's daily limit (`total`, extensions included) and today's usage, as
    /// `platform_api` reports them. `day_label` names today in `by_day` (`YYYY-MM-DD`); a day
    /// not listed yet has used nothing.
    pub async fn daily_usage(&self, day_label: &str) -> Result<DailyUsage, MondayError> {
        let reply = self
            .post::<super::ops::PlatformApi>(
                super::ops::platform_api::Variables {},
                None,
                &[],
                "platform_api",
            )
            .await?;
        let p = reply
            .data
            .platform_api
            .ok_or_else(|| MondayError::Decode("platform_api returned null".into()))?;
        let limit = p
            .daily_limit
            .and_then(|l| l.total.or(l.base))
            .and_then(|n| u64::try_from(n).ok());
        let used = p
            .daily_analytics
            .map(|a| {
                // monday's SDL has by_day nullable: no list counts as no usage.
                a.by_day
                    .iter()
                    .flatten()
                    .filter(|d| d.day.starts_with(day_label))
                    .map(|d| d.usage.max(0) as u64)
                    .sum()
            })
            .unwrap_or(0);
        Ok(DailyUsage { limit, used })
    }
}
