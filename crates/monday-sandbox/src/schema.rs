//! The slice of monday's schema the sandbox serves, as a static table: which fields each type
//! has and what type they return. Used to reject unknown fields before anything executes,
//! with monday's `undefinedField` validation error, and to check root-field arguments.

/// A field's result: a named object type, or a leaf (scalar/enum/JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Object(&'static str),
    Leaf,
}

use FieldType::{Leaf, Object};

type Fields = &'static [(&'static str, FieldType)];

const COLUMN_VALUE_COMMON: Fields = &[
    ("id", Leaf),
    ("type", Leaf),
    ("text", Leaf),
    ("value", Leaf),
    ("column", Object("Column")),
];

const QUERY: Fields = &[
    ("boards", Object("Board")),
    ("items", Object("Item")),
    ("items_page_by_column_values", Object("ItemsResponse")),
    ("next_items_page", Object("ItemsResponse")),
    ("complexity", Object("Complexity")),
    ("me", Object("User")),
    ("users", Object("User")),
    ("version", Object("Version")),
    ("platform_api", Object("PlatformApi")),
];

const MUTATION: Fields = &[
    ("create_item", Object("Item")),
    ("change_multiple_column_values", Object("Item")),
    ("change_simple_column_value", Object("Item")),
    ("change_column_value", Object("Item")),
    ("archive_item", Object("Item")),
    ("delete_item", Object("Item")),
    ("create_update", Object("Update")),
    ("create_subitem", Object("Item")),
    ("move_item_to_group", Object("Item")),
    ("add_file_to_column", Object("Asset")),
    ("create_or_get_tag", Object("Tag")),
    ("complexity", Object("Complexity")),
];

/// Fields of a type; `None` for an unknown type name.
pub fn fields(type_name: &str) -> Option<Fields> {
    Some(match type_name {
        "Query" => QUERY,
        "Mutation" => MUTATION,
        "Board" => &[
            ("id", Leaf),
            ("name", Leaf),
            ("state", Leaf),
            ("board_kind", Leaf),
            ("description", Leaf),
            ("items_count", Leaf),
            ("columns", Object("Column")),
            ("groups", Object("Group")),
            ("items_page", Object("ItemsResponse")),
        ],
        "Column" => &[
            ("id", Leaf),
            ("title", Leaf),
            ("type", Leaf),
            ("settings", Leaf),
            ("settings_str", Leaf),
            ("archived", Leaf),
            ("description", Leaf),
        ],
        "Group" => &[
            ("id", Leaf),
            ("title", Leaf),
            ("color", Leaf),
            ("position", Leaf),
            ("archived", Leaf),
            ("deleted", Leaf),
            ("items_page", Object("ItemsResponse")),
        ],
        "Item" => &[
            ("id", Leaf),
            ("name", Leaf),
            ("state", Leaf),
            ("board", Object("Board")),
            ("group", Object("Group")),
            ("column_values", Object("ColumnValue")),
            ("updates", Object("Update")),
            ("assets", Object("Asset")),
            ("subitems", Object("Item")),
            ("created_at", Leaf),
            ("updated_at", Leaf),
            ("creator_id", Leaf),
            ("url", Leaf),
        ],
        "ColumnValue" | "TextValue" | "LongTextValue" | "NumbersValue" | "FileValue" => {
            COLUMN_VALUE_COMMON
        }
        "StatusValue" => &[
            ("id", Leaf),
            ("type", Leaf),
            ("text", Leaf),
            ("value", Leaf),
            ("column", Object("Column")),
            ("label", Leaf),
            ("index", Leaf),
        ],
        "DropdownValue" | "CheckboxValue" | "BoardRelationValue" | "PeopleValue" | "TagsValue" => {
            COLUMN_VALUE_COMMON
        }
        "DateValue" => &[
            ("id", Leaf),
            ("type", Leaf),
            ("text", Leaf),
            ("value", Leaf),
            ("column", Object("Column")),
            ("date", Leaf),
            ("time", Leaf),
        ],
        "PhoneValue" => &[
            ("id", Leaf),
            ("type", Leaf),
            ("text", Leaf),
            ("value", Leaf),
            ("column", Object("Column")),
            ("phone", Leaf),
            ("country_short_name", Leaf),
        ],
        "EmailValue" => &[
            ("id", Leaf),
            ("type", Leaf),
            ("text", Leaf),
            ("value", Leaf),
            ("column", Object("Column")),
            ("email", Leaf),
        ],
        "LinkValue" => &[
            ("id", Leaf),
            ("type", Leaf),
            ("text", Leaf),
            ("value", Leaf),
            ("column", Object("Column")),
            ("url", Leaf),
            ("url_text", Leaf),
        ],
        "Update" => &[
            ("id", Leaf),
            ("body", Leaf),
            ("text_body", Leaf),
            ("item_id", Leaf),
            ("created_at", Leaf),
            ("updated_at", Leaf),
            ("creator_id", Leaf),
        ],
        "Asset" => &[
            ("id", Leaf),
            ("name", Leaf),
            ("file_size", Leaf),
            ("file_extension", Leaf),
            ("url", Leaf),
            ("public_url", Leaf),
            ("created_at", Leaf),
        ],
        "ItemsResponse" => &[("cursor", Leaf), ("items", Object("Item"))],
        "Complexity" => &[
            ("before", Leaf),
            ("after", Leaf),
            ("query", Leaf),
            ("reset_in_x_seconds", Leaf),
        ],
        "User" => &[
            ("id", Leaf),
            ("name", Leaf),
            ("email", Leaf),
            ("account_id", Leaf),
            ("enabled", Leaf),
        ],
        "Tag" => &[("id", Leaf), ("name", Leaf), ("color", Leaf)],
        "Version" => &[("kind", Leaf), ("value", Leaf), ("display_name", Leaf)],
        "PlatformApi" => &[
            ("daily_limit", Object("DailyLimit")),
            ("daily_analytics", Object("DailyAnalytics")),
        ],
        "DailyLimit" => &[("base", Leaf), ("total", Leaf)],
        "DailyAnalytics" => &[
            ("by_day", Object("PlatformApiDailyAnalyticsByDay")),
            ("last_updated", Leaf),
        ],
        "PlatformApiDailyAnalyticsByDay" => &[("day", Leaf), ("usage", Leaf)],
        _ => return None,
    })
}

/// The type of `field` on `type_name`; `__typename` exists everywhere.
pub fn field_type(type_name: &str, field: &str) -> Option<FieldType> {
    if field == "__typename" {
        return Some(Leaf);
    }
    fields(type_name)?
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, t)| *t)
}

/// Whether a fragment on `condition` may apply inside a selection on `parent`.
pub fn fragment_applies(parent: &str, condition: &str) -> bool {
    parent == condition || (parent == "ColumnValue" && condition.ends_with("Value"))
}

/// Accepted arguments of a root field: (required, optional).
pub fn root_arguments(
    operation: &str,
    field: &str,
) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match (operation, field) {
        (_, "complexity") | ("Query", "me") | ("Query", "version") | ("Query", "platform_api") => {
            (&[], &[])
        }
        ("Query", "boards") => (
            &[],
            &[
                "ids",
                "limit",
                "page",
                "state",
                "board_kind",
                "workspace_ids",
                "order_by",
            ],
        ),
        ("Query", "items") => (
            &[],
            &["ids", "limit", "page", "exclude_nonactive", "newest_first"],
        ),
        ("Query", "items_page_by_column_values") => (
            &["board_id"],
            &["columns", "cursor", "limit", "hierarchy_scope_config"],
        ),
        ("Query", "next_items_page") => (&["cursor"], &["limit"]),
        ("Query", "users") => (&[], &["emails", "ids", "limit", "name", "kind", "page"]),
        ("Mutation", "create_item") => (
            &["board_id", "item_name"],
            &[
                "column_values",
                "create_labels_if_missing",
                "group_id",
                "position_relative_method",
                "relative_to",
            ],
        ),
        ("Mutation", "change_multiple_column_values") => (
            &["board_id", "column_values"],
            &["create_labels_if_missing", "item_id"],
        ),
        ("Mutation", "change_simple_column_value") => (
            &["board_id", "column_id"],
            &["create_labels_if_missing", "item_id", "value"],
        ),
        ("Mutation", "change_column_value") => (
            &["board_id", "column_id", "value"],
            &["create_labels_if_missing", "item_id"],
        ),
        ("Mutation", "archive_item") | ("Mutation", "delete_item") => (&[], &["item_id"]),
        ("Mutation", "create_update") => (
            &["body"],
            &[
                "item_id",
                "parent_id",
                "original_creation_date",
                "mentions_list",
                "use_app_info",
            ],
        ),
        ("Mutation", "create_subitem") => (
            &["item_name", "parent_item_id"],
            &["column_values", "create_labels_if_missing"],
        ),
        ("Mutation", "add_file_to_column") => (&["column_id", "file", "item_id"], &[]),
        ("Mutation", "move_item_to_group") => (&["group_id"], &["item_id"]),
        ("Mutation", "create_or_get_tag") => (&[], &["tag_name", "board_id"]),
        _ => return None,
    })
}
