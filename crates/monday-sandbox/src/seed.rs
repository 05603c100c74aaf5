//! Seed boards: the TOML format of `boards.toml` (the boards the bridge's `config/example.toml` maps), parsed and validated up front
//! so that a bad seed fails at startup with the file and the problem, not mid-test.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SandboxError;

/// monday's cap on status labels per column and on a label's length (status column page).
const MAX_LABELS: usize = 40;
const MAX_LABEL_CHARS: usize = 30;

/// Column types the sandbox knows how to validate. Names are monday `ColumnType` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    LongText,
    Numbers,
    Status,
    Dropdown,
    Date,
    Phone,
    Email,
    Link,
    File,
    Checkbox,
    /// Connect boards: `{"item_ids": [..]}`, each an existing item.
    BoardRelation,
    /// `{"personsAndTeams": [{"id": N, "kind": "person"}]}`, each a user of the account.
    People,
    /// `{"tag_ids": [..]}`, each a tag `create_or_get_tag` issued.
    Tags,
}

impl ColumnType {
    /// The public `ColumnType` name, as `Column.type` and `ColumnValue.type` return it.
    pub fn api_name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::LongText => "long_text",
            ColumnType::Numbers => "numbers",
            ColumnType::Status => "status",
            ColumnType::Dropdown => "dropdown",
            ColumnType::Date => "date",
            ColumnType::Phone => "phone",
            ColumnType::Email => "email",
            ColumnType::Link => "link",
            ColumnType::File => "file",
            ColumnType::Checkbox => "checkbox",
            ColumnType::BoardRelation => "board_relation",
            ColumnType::People => "people",
            ColumnType::Tags => "tags",
        }
    }

    /// monday's internal type name, which `ColumnValueException.error_data.column_type`
    /// carries (the documented example says `"color"` for a status column).
    pub fn internal_name(self) -> &'static str {
        match self {
            ColumnType::Status => "color",
            ColumnType::LongText => "long-text",
            ColumnType::Numbers => "numeric",
            ColumnType::Checkbox => "boolean",
            ColumnType::BoardRelation => "board-relation",
            ColumnType::People => "multiple-person",
            ColumnType::Tags => "tag",
            other => other.api_name(),
        }
    }

    /// GraphQL implementation type of `ColumnValue` for this column (`... on PhoneValue`).
    pub fn value_typename(self) -> &'static str {
        match self {
            ColumnType::Text => "TextValue",
            ColumnType::LongText => "LongTextValue",
            ColumnType::Numbers => "NumbersValue",
            ColumnType::Status => "StatusValue",
            ColumnType::Dropdown => "DropdownValue",
            ColumnType::Date => "DateValue",
            ColumnType::Phone => "PhoneValue",
            ColumnType::Email => "EmailValue",
            ColumnType::Link => "LinkValue",
            ColumnType::File => "FileValue",
            ColumnType::Checkbox => "CheckboxValue",
            ColumnType::BoardRelation => "BoardRelationValue",
            ColumnType::People => "PeopleValue",
            ColumnType::Tags => "TagsValue",
        }
    }

    fn has_labels(self) -> bool {
        matches!(self, ColumnType::Status | ColumnType::Dropdown)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSeed {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSeed {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    /// Status/dropdown labels, in order; a status label's id (`{"index": N}`) is its position.
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardSeed {
    /// monday board ids are numeric strings; kept as a string like the API does.
    pub id: String,
    pub name: String,
    pub groups: Vec<GroupSeed>,
    pub columns: Vec<ColumnSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    boards: Vec<BoardSeed>,
    /// Read by `users::parse_users`.
    #[serde(default, rename = "users")]
    _users: Vec<super::users::UserSeed>,
}

/// Reads and validates a seed file; errors name the file.
pub fn load_seed(path: &Path) -> Result<Vec<BoardSeed>, SandboxError> {
    let text = std::fs::read_to_string(path).map_err(|e| SandboxError::Seed {
        path: path.display().to_string(),
        problem: format!("cannot read: {e}"),
    })?;
    parse_seed(&text).map_err(|e| match e {
        SandboxError::Seed { problem, .. } => SandboxError::Seed {
            path: path.display().to_string(),
            problem,
        },
        other => other,
    })
}

/// Parses and validates seed TOML (`[[boards]]` tables).
pub fn parse_seed(toml_text: &str) -> Result<Vec<BoardSeed>, SandboxError> {
    let file: SeedFile = toml::from_str(toml_text).map_err(|e| seed_error(e.to_string()))?;
    validate(&file.boards)?;
    Ok(file.boards)
}

fn seed_error(problem: String) -> SandboxError {
    SandboxError::Seed {
        path: "<inline>".to_string(),
        problem,
    }
}

fn validate(boards: &[BoardSeed]) -> Result<(), SandboxError> {
    let mut board_ids = HashSet::new();
    for board in boards {
        let ctx = format!("board {:?}", board.id);
        if board.id.is_empty() || board.id.parse::<u64>().is_err() {
            return Err(seed_error(format!(
                "{ctx}: id must be a positive integer string"
            )));
        }
        if !board_ids.insert(board.id.clone()) {
            return Err(seed_error(format!("{ctx}: duplicate board id")));
        }
        if board.name.trim().is_empty() {
            return Err(seed_error(format!("{ctx}: name is empty")));
        }
        if board.groups.is_empty() {
            // create_item without group_id goes to the first group, so one must exist.
            return Err(seed_error(format!("{ctx}: needs at least one group")));
        }
        let mut group_ids = HashSet::new();
        for group in &board.groups {
            if group.id.is_empty() || !group_ids.insert(group.id.as_str()) {
                return Err(seed_error(format!(
                    "{ctx}: group id {:?} is empty or duplicated",
                    group.id
                )));
            }
        }
        let mut column_ids = HashSet::new();
        for column in &board.columns {
            validate_column(&ctx, column)?;
            if !column_ids.insert(column.id.as_str()) {
                return Err(seed_error(format!(
                    "{ctx}: duplicate column id {:?}",
                    column.id
                )));
            }
        }
    }
    Ok(())
}

fn validate_column(ctx: &str, column: &ColumnSeed) -> Result<(), SandboxError> {
    if column.id.is_empty() || column.id == "name" {
        // `name` is the item name pseudo-column; a real column cannot take that id.
        return Err(seed_error(format!(
            "{ctx}: column id {:?} is empty or reserved",
            column.id
        )));
    }
    if !column.column_type.has_labels() && !column.labels.is_empty() {
        return Err(seed_error(format!(
            "{ctx}: column {:?} of type {} cannot have labels",
            column.id,
            column.column_type.api_name()
        )));
    }
    if column.labels.len() > MAX_LABELS {
        return Err(seed_error(format!(
            "{ctx}: column {:?} has more than {MAX_LABELS} labels",
            column.id
        )));
    }
    let mut seen = HashSet::new();
    for label in &column.labels {
        if label.trim().is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            return Err(seed_error(format!(
                "{ctx}: column {:?}: label {label:?} must be 1-{MAX_LABEL_CHARS} characters",
                column.id
            )));
        }
        if !seen.insert(label.to_lowercase()) {
            return Err(seed_error(format!(
                "{ctx}: column {:?}: duplicate label {label:?}",
                column.id
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sandbox's column types are monday's: each name is a value of `ColumnType` in the
    /// shared schema file, and each value type is an implementation of `ColumnValue` there.
    #[test]
    fn column_types_are_the_schemas() {
        use crate::schema;
        let all = [
            ColumnType::Text,
            ColumnType::LongText,
            ColumnType::Numbers,
            ColumnType::Status,
            ColumnType::Dropdown,
            ColumnType::Date,
            ColumnType::Phone,
            ColumnType::Email,
            ColumnType::Link,
            ColumnType::File,
            ColumnType::Checkbox,
            ColumnType::BoardRelation,
            ColumnType::People,
            ColumnType::Tags,
        ];
        for t in all {
            assert!(schema::is_column_type(t.api_name()), "{t:?}");
            let value = t.value_typename();
            assert!(
                schema::fields(value).is_some(),
                "{value} is not in the schema"
            );
            assert!(schema::fragment_applies("ColumnValue", value), "{value}");
        }
    }

    #[test]
    fn shipped_seed_is_valid() {
        let boards = parse_seed(include_str!("../boards.toml")).unwrap();
        assert_eq!(boards.len(), 3);
        assert_eq!(boards[0].columns[1].column_type, ColumnType::Status);
    }

    #[test]
    fn rejects_unknown_type_and_duplicate_columns() {
        let bad_type = r#"[[boards]]
id = "1"
name = "B"
groups = [{ id = "g", title = "G" }]
columns = [{ id = "x", title = "X", type = "hologram" }]"#;
        assert!(parse_seed(bad_type).is_err());
        let dup = r#"[[boards]]
id = "1"
name = "B"
groups = [{ id = "g", title = "G" }]
columns = [{ id = "x", title = "X", type = "text" }, { id = "x", title = "Y", type = "text" }]"#;
        let err = parse_seed(dup).unwrap_err().to_string();
        assert!(err.contains("duplicate column id"), "{err}");
    }
}
