//! `boards`: what the monday token can see, and for one board a `[[boards]]` mapping skeleton
//! (groups, columns with their type, a guessed field, status labels) ready to paste and edit.

use std::fmt::Write;

use super::check_live::status_labels;
use super::OpsError;
use crate::config::{closed_values, Entity};
use crate::mapping::field_names;
use crate::monday::{BoardInfo, MondayClient};

/// Prints every board (id, name), or the skeleton of one.
pub async fn run(client: &MondayClient, board: Option<String>) -> Result<(), OpsError> {
    match board {
        None => {
            let boards = client.boards(None).await?;
            println!("{:<14} name", "id");
            for b in &boards {
                println!("{:<14} {}", b.id, b.name);
            }
            println!(
                "\n{} board(s). For one board's mapping skeleton: boards --board ID",
                boards.len()
            );
        }
        Some(id) => {
            let boards = client.boards(Some(vec![id.clone()])).await?;
            let Some(info) = boards.into_iter().find(|b| b.id == id) else {
                return Err(OpsError::Usage(format!(
                    "board {id} does not exist or the token cannot see it (list them with `boards`)"
                )));
            };
            print!("{}", skeleton(&info));
        }
    }
    Ok(())
}

/// Column types the bridge writes, by monday's name.
const WRITABLE: &[&str] = &[
    "text",
    "long_text",
    "numbers",
    "status",
    "date",
    "phone",
    "email",
    "link",
    "dropdown",
    "board_relation",
    "people",
    "tags",
    "file",
];

/// Words in a column's id or title → the field it most likely wants.
/// The first match wins: "Aircall line" is a line, not the Aircall id.
const GUESSES: &[(&str, &str)] = &[
    ("line", "line_name"),
    ("aircall", "id"),
    ("outcome", "outcome"),
    ("status", "outcome"),
    ("direction", "direction"),
    ("missed", "missed_call_reason"),
    ("talk", "talk_time"),
    ("duration", "duration"),
    ("start", "started_at"),
    ("answered", "answered_at"),
    ("ended", "ended_at"),
    ("recording", "recording"),
    ("voicemail", "voicemail"),
    ("agent", "agent_name"),
    ("tag", "tags"),
    ("phone", "phone"),
    ("email", "email"),
    ("company", "company"),
    ("information", "information"),
    ("note", "information"),
    ("contact", "contact_name"),
    ("name", "name"),
];

fn guess_field(entity: Entity, id: &str, title: &str) -> Option<&'static str> {
    if is_id_column(entity, title) {
        return Some("id");
    }
    let hay = format!("{id} {title}").to_lowercase();
    let known: Vec<&str> = field_names(entity).collect();
    GUESSES
        .iter()
        .filter(|(word, _)| hay.contains(word))
        .map(|(_, field)| *field)
        .find(|f| known.contains(f))
}

/// A title such as "Call ID", "Aircall id" or plain "ID": the column for the Aircall id, which
/// the skeleton makes `aircall_id_column` (a crash between create and record then finds the
/// item instead of creating a second one).
fn is_id_column(entity: Entity, title: &str) -> bool {
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let own = match entity {
        Entity::Call => "call",
        Entity::Contact => "contact",
    };
    words.contains(&"id")
        && words
            .iter()
            .all(|w| matches!(*w, "id" | "aircall") || *w == own)
}

/// For an outcome the board has no label of: the outcomes whose label stands in, nearest first.
const NEAREST_OUTCOME: &[(&str, &[&str])] = &[
    ("ringing", &["in_progress"]),
    ("in_progress", &["answered", "ringing"]),
    ("answered", &["in_progress"]),
    ("transferred", &["answered"]),
    ("missed", &["unanswered", "abandoned"]),
    ("unanswered", &["missed", "abandoned"]),
    ("abandoned", &["missed", "unanswered"]),
    ("voicemail", &["missed"]),
];

/// The `labels` lines of a status column whose field has a closed set of values: one per value
/// (every outcome, `unanswered` included), each with the board's label of that name, else the
/// label of the nearest value, else a commented line to fill in.
fn closed_labels(values: &[&str], board_labels: &[String]) -> Vec<String> {
    let own = |value: &str| board_labels.iter().find(|l| value_of(l) == value);
    let mut lines = Vec::new();
    for value in values {
        if let Some(label) = own(value) {
            lines.push(format!("{value} = {}", quoted(label)));
            continue;
        }
        let nearest = NEAREST_OUTCOME
            .iter()
            .find(|(v, _)| v == value)
            .and_then(|(_, near)| near.iter().find_map(|n| own(n)));
        match nearest {
            Some(label) => lines.push(format!(
                "{value} = {}   # the board has no label of its own for {value}",
                quoted(label)
            )),
            None => lines.push(format!(
                "# {value} = \"...\"   # the board has no label for it: add one on monday, or use one above"
            )),
        }
    }
    let unused: Vec<&str> = board_labels
        .iter()
        .filter(|l| !values.contains(&value_of(l).as_str()))
        .map(String::as_str)
        .collect();
    if !unused.is_empty() {
        lines.push(format!(
            "# board labels no value maps to: {}",
            unused.join(", ")
        ));
    }
    lines
}

/// A label as a field value: "In progress" → "in_progress".
fn value_of(label: &str) -> String {
    label
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The TOML skeleton for one board.
pub fn skeleton(board: &BoardInfo) -> String {
    let entity = if board.name.to_lowercase().contains("contact") {
        Entity::Contact
    } else {
        Entity::Call
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Mapping skeleton for board {:?} ({}).",
        board.name, board.id
    );
    let _ = writeln!(
        out,
        "# Fields are guesses from the column titles: check them against the README's field lists."
    );
    let groups: Vec<String> = board
        .groups
        .iter()
        .map(|(id, title)| format!("{id} ({title})"))
        .collect();
    let _ = writeln!(out, "# Groups: {}", groups.join(", "));
    let _ = writeln!(out, "[[boards]]");
    let _ = writeln!(out, "name = {}", quoted(&value_of(&board.name)));
    let _ = writeln!(
        out,
        "entity = \"{}\"   # \"call\" or \"contact\"",
        entity.as_str()
    );
    let _ = writeln!(out, "board_id = \"{}\"", board.id);
    if let Some((group, _)) = board.groups.first() {
        let _ = writeln!(out, "group_id = {}", quoted(group));
    }
    let item_name = match entity {
        Entity::Call => "{{ direction | capitalize }} call with {{ counterpart }}",
        Entity::Contact => "{{ name or phone or 'Unnamed contact' }}",
    };
    let _ = writeln!(out, "item_name = {}", quoted(item_name));
    let id_column = board.columns.iter().find(|(id, title, kind, _)| {
        kind == "text" && guess_field(entity, id, title) == Some("id")
    });
    match id_column {
        Some((id, ..)) => {
            let _ = writeln!(out, "aircall_id_column = {}", quoted(id));
        }
        None => {
            let _ = writeln!(
                out,
                "# aircall_id_column = \"...\"   # a text column with field = \"id\""
            );
        }
    }
    for (id, title, kind, settings) in &board.columns {
        if id == "name" {
            continue; // the item name: item_name above
        }
        let _ = writeln!(out);
        if !WRITABLE.contains(&kind.as_str()) {
            let _ = writeln!(
                out,
                "# column {id} ({title:?}, {kind}): a type the bridge does not write"
            );
            continue;
        }
        // Some types take one field only; a file column takes `upload` instead of a field.
        let field = match (kind.as_str(), entity) {
            ("people", Entity::Call) => Some("agent_email"),
            ("tags", Entity::Call) => Some("tags"),
            ("people" | "tags" | "board_relation" | "file", _) => None,
            _ => guess_field(entity, id, title),
        };
        // A block without a field would not load: leave it commented out to fill in.
        let c = if field.is_some() { "" } else { "# " };
        let _ = writeln!(out, "# {title:?}");
        let _ = writeln!(out, "{c}[boards.columns.{}]", toml_key(id));
        let _ = writeln!(out, "{c}type = \"{kind}\"");
        match field {
            Some(f) => {
                let _ = writeln!(out, "field = \"{f}\"");
            }
            None if kind == "file" => {}
            None if kind == "board_relation" => {
                let _ = writeln!(
                    out,
                    "# field = \"contact_item\"   # the call's contact item: needs a contacts board too"
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "# field = \"...\"   # no field guessed: pick one, or a template"
                );
            }
        }
        if kind == "status" {
            let board_labels = status_labels(settings.as_ref());
            match field.and_then(closed_values) {
                Some(values) => {
                    let _ = writeln!(
                        out,
                        "# field value = board label: every value of {} on the left, the board's labels on the right",
                        field.unwrap_or_default()
                    );
                    let _ = writeln!(out, "{c}[boards.columns.{}.labels]", toml_key(id));
                    for line in closed_labels(values, &board_labels) {
                        let c = if line.starts_with('#') { "" } else { c };
                        let _ = writeln!(out, "{c}{line}");
                    }
                }
                None => {
                    let labels: Vec<String> = board_labels
                        .iter()
                        .map(|l| format!("{} = {}", quoted(&value_of(l)), quoted(l)))
                        .collect();
                    let _ = writeln!(
                        out,
                        "# field value = board label; the board's labels are on the right, fix the values on the left"
                    );
                    let _ = writeln!(out, "{c}labels = {{ {} }}", labels.join(", "));
                }
            }
        }
        if kind == "link" {
            let _ = writeln!(out, "{c}link_text = {}", quoted(title));
        }
        if kind == "file" {
            let _ = writeln!(
                out,
                "# upload = \"recording\"   # or \"voicemail\"; needs aircall.api_id and api_token"
            );
        }
    }
    out
}

fn toml_key(id: &str) -> String {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        id.to_string()
    } else {
        quoted(id)
    }
}

#[cfg(test)]
mod tests;
