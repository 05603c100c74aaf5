//! Error types: `SandboxError` at the module boundary (seed, bind), `FieldError` for the
//! application errors monday returns per root field inside `errors[]`.

use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox seed {path}: {problem}")]
    Seed { path: String, problem: String },
    #[error("sandbox cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// One entry of `errors[]` for a root field, in monday's 2025-01+ shape:
/// `extensions { code, status_code, error_data }`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub message: String,
    pub code: &'static str,
    pub error_data: Value,
}

impl FieldError {
    pub fn new(code: &'static str, message: impl Into<String>, error_data: Value) -> Self {
        FieldError {
            message: message.into(),
            code,
            error_data,
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("InvalidArgumentException", message, json!({}))
    }

    pub fn board_not_found(board_id: &str) -> Self {
        Self::new(
            "InvalidBoardIdException",
            "Board not found",
            json!({ "board_id": board_id }),
        )
    }

    pub fn item_not_found(item_id: &str) -> Self {
        Self::new(
            "InvalidItemIdException",
            "Item not found",
            json!({ "item_id": item_id }),
        )
    }

    pub fn column_not_found(column_id: &str) -> Self {
        Self::new(
            "InvalidColumnIdException",
            "This column ID doesn't exist for the board",
            json!({ "column_id": column_id }),
        )
    }

    /// Renders the entry; `path` is the alias (or field name) of the root field.
    pub fn to_json(&self, path: &[Value]) -> Value {
        json!({
            "message": self.message,
            "path": path,
            "extensions": {
                "code": self.code,
                "status_code": 200,
                "error_data": self.error_data,
            }
        })
    }
}
