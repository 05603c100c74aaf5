//! The account's users (`[[users]]` in the seed file): what `users(emails:)` finds and what a
//! people column accepts. Without any, the account has a built-in admin and agent.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state::User;
use super::SandboxError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    pub id: u64,
    pub name: String,
    pub email: String,
}

#[derive(Deserialize)]
struct UsersOnly {
    #[serde(default)]
    users: Vec<UserSeed>,
}

/// The `[[users]]` of a seed file (its boards are read by `load_seed`).
pub fn load_users(path: &Path) -> Result<Vec<UserSeed>, SandboxError> {
    let seed_error = |problem: String| SandboxError::Seed {
        path: path.display().to_string(),
        problem,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| seed_error(format!("cannot read: {e}")))?;
    parse_users(&text).map_err(|e| match e {
        SandboxError::Seed { problem, .. } => seed_error(problem),
        other => other,
    })
}

/// Parses and checks `[[users]]`: ids and emails unique, emails with an `@`.
pub fn parse_users(toml_text: &str) -> Result<Vec<UserSeed>, SandboxError> {
    let error = |problem: String| SandboxError::Seed {
        path: "<inline>".into(),
        problem,
    };
    let file: UsersOnly = toml::from_str(toml_text).map_err(|e| error(e.to_string()))?;
    let mut ids = HashSet::new();
    let mut emails = HashSet::new();
    for (i, u) in file.users.iter().enumerate() {
        if !ids.insert(u.id) {
            return Err(error(format!("users[{i}].id: {} appears twice", u.id)));
        }
        if !u.email.contains('@') || !emails.insert(u.email.to_lowercase()) {
            return Err(error(format!(
                "users[{i}].email: expected a unique address, got {:?}",
                u.email
            )));
        }
    }
    Ok(file.users)
}

/// The account's users: the seed's, else a built-in admin and agent.
pub fn account_users(seeds: &[UserSeed]) -> Vec<User> {
    if seeds.is_empty() {
        return vec![
            User {
                id: 48_202_303,
                name: "Sandbox Admin".into(),
                email: "admin@sandbox.local".into(),
            },
            User {
                id: 48_202_304,
                name: "Sandbox Agent".into(),
                email: "agent@sandbox.local".into(),
            },
        ];
    }
    seeds
        .iter()
        .map(|u| User {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_read_and_checked() {
        let ok = "[[users]]\nid = 1\nname = \"A\"\nemail = \"a@x.example\"\n";
        assert_eq!(parse_users(ok).unwrap().len(), 1);
        let twice = format!("{ok}{ok}");
        assert!(parse_users(&twice)
            .unwrap_err()
            .to_string()
            .contains("users[1].id"));
        assert_eq!(account_users(&[]).len(), 2);
    }
}
