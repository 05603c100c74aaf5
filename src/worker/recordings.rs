//! Uploads a call's recording, voicemail or transcript into a file column. An audio file is
//! downloaded (see `aircall::download`) as soon as the call is reconciled, while its
//! pre-signed link is fresh; a download that fails is retried on the worker's schedule before
//! the call moves to the dead letter. A transcript comes with the command: nothing to fetch.

use super::job::{Failure, Job};
use super::{Planned, Worker};
use crate::mapping::{MondayCommand, Rules};

impl Worker {
    /// Downloads the file of an `AddFile` step and uploads it; records the outcome in its job.
    pub(super) async fn upload(&self, rules: &Rules, jobs: &mut [Job], p: Planned) {
        let MondayCommand::AddFile {
            call_id,
            source,
            url,
            text,
            idempotency_key,
            ..
        } = &p.step.command
        else {
            return;
        };
        let key = idempotency_key.clone();
        let rule = &rules.boards()[jobs[p.job].boards[p.board].index];
        let fetched = match text {
            Some(text) => Ok(text.clone().into_bytes()),
            None => self.recordings.fetch(call_id, *source, url).await,
        };
        let bytes = match fetched {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(%call_id, board = %rule.name, %error, "cannot get the file to upload");
                let job = &mut jobs[p.job];
                if job.failure.is_none() {
                    job.failure = Some(Failure::Download {
                        board: rule.name.clone(),
                        message: error.to_string(),
                    });
                }
                return;
            }
        };
        let chunk = [p];
        if !self.write_intents(rules, jobs, &chunk, &key).await {
            return;
        }
        let [p] = chunk;
        let MondayCommand::AddFile {
            board_id,
            item_id,
            column_id,
            file_name,
            idempotency_key,
            ..
        } = &p.step.command
        else {
            return;
        };
        let result = self
            .monday
            .add_file(
                board_id,
                item_id,
                column_id,
                file_name,
                bytes,
                idempotency_key,
            )
            .await;
        jobs[p.job].answered(&p.step, &result);
        self.settle(rules, jobs, p, result);
    }
}
