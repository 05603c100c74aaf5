//! Values from Aircall never exceed what monday takes (reference/monday.md §3): every fixture
//! with its free text (names, company, information, notes, tags, emails) blown up far past
//! any limit, mapped with the example boards. A value over a limit would make monday refuse
//! the whole request (`ColumnValueException`, `ItemNameTooLongException`), and the call would
//! go to the dead letter for a name someone typed too long.

use aircall_monday_bridge::mapping::MondayCommand;
use serde_json::Value;

use crate::helpers::*;

/// monday: item names 1 to 255 characters.
const ITEM_NAME_MAX: usize = 255;
/// monday: long text up to 2,000 characters. Text columns have no documented limit of their
/// own but share about 64 KB per item: the bridge holds them to the same 2,000.
const TEXT_MAX: usize = 2000;
/// monday: status and dropdown labels up to 30 characters.
const LABEL_MAX: usize = 30;
/// The longest email address there is (RFC 5321).
const EMAIL_MAX: usize = 254;
/// The bridge's bound on an update's body (monday documents none).
const UPDATE_BODY_MAX: usize = 10_000;

/// Text an attacker or a careless typist could put in Aircall, with characters that grow
/// when HTML-escaped.
fn long(s: &str) -> String {
    format!("{s}{}", " Long & <winding> é road".repeat(1000))
}

/// Blows up every free-text string in an Aircall payload; emails stay emails (one `@`, no
/// spaces), phone numbers and ids stay as they are.
fn inflate(v: &mut Value, key: &str) {
    match v {
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| inflate(v, k)),
        Value::Array(items) => items.iter_mut().for_each(|v| inflate(v, key)),
        Value::String(s) => match key {
            "name" | "first_name" | "last_name" | "company_name" | "information" | "content"
            | "description" => *s = long(s),
            "value" | "email" if s.contains('@') => s.push_str(&"x".repeat(5000)),
            _ => {}
        },
        _ => {}
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// What is wrong with one column value, if anything.
fn column_problem(column: &str, value: &Value) -> Option<String> {
    let too_long = |what: &str, s: &str, max: usize| {
        (chars(s) > max).then(|| format!("{column}: {what} of {} characters", chars(s)))
    };
    match value {
        Value::String(s) => too_long("text", s, TEXT_MAX),
        Value::Object(o) if o.contains_key("email") => {
            let email = o["email"].as_str().unwrap_or_default();
            too_long("email", email, EMAIL_MAX)
                .or_else(|| too_long("email text", o["text"].as_str()?, EMAIL_MAX))
        }
        Value::Object(o) if o.contains_key("labels") => o["labels"]
            .as_array()?
            .iter()
            .find_map(|l| too_long("label", l.as_str()?, LABEL_MAX)),
        Value::Object(o) if o.contains_key("url") => None,
        Value::Object(o) if o.contains_key("text") => {
            too_long("long text", o["text"].as_str()?, TEXT_MAX)
        }
        Value::Object(o) if o.contains_key("label") => {
            too_long("status label", o["label"].as_str()?, LABEL_MAX)
        }
        _ => None,
    }
}

fn problems(command: &MondayCommand) -> Vec<String> {
    let mut out = Vec::new();
    let columns = match command {
        MondayCommand::CreateItem {
            item_name,
            column_values,
            ..
        } => {
            if chars(item_name) > ITEM_NAME_MAX {
                out.push(format!("item name of {} characters", chars(item_name)));
            }
            Some(column_values)
        }
        MondayCommand::ChangeColumnValues { column_values, .. } => Some(column_values),
        MondayCommand::CreateUpdate { body, .. } => {
            if chars(body) > UPDATE_BODY_MAX {
                out.push(format!("update body of {} characters", chars(body)));
            }
            // A cut never leaves half an entity or a tag at the end.
            if let Some(open) = body.rfind(['&', '<']) {
                if !body[open..].contains([';', '>']) {
                    out.push(format!("update body ends inside {:?}", &body[open..]));
                }
            }
            None
        }
        _ => None,
    };
    for (column, value) in columns.into_iter().flatten() {
        out.extend(column_problem(column, value));
    }
    out
}

#[test]
fn oversized_aircall_text_is_cut_to_what_monday_takes() {
    let rules = rules();
    let mut seen_long_text = false;
    let mut seen_update = false;
    let mut found = Vec::new();
    for (name, mut envelopes) in all_fixtures() {
        for e in &mut envelopes {
            inflate(&mut e.data, "");
        }
        let entity = entity_of(&envelopes);
        let observed = fold(entity, &envelopes);
        for board in boards_for(&rules, entity) {
            let mut link = Link::default();
            let mut commands: Vec<MondayCommand> = sync(&rules, &board, &observed, &mut link)
                .into_iter()
                .collect();
            commands.extend(sync_updates(&rules, &board, &observed, &mut link));
            for command in &commands {
                for p in problems(command) {
                    found.push(format!("{name}, board {}: {p}", board.1.name));
                }
                if let MondayCommand::CreateUpdate { body, .. } = command {
                    seen_update |= chars(body) > 1000;
                }
                if let MondayCommand::CreateItem { column_values, .. } = command {
                    seen_long_text |= column_values
                        .values()
                        .any(|v| v.as_str().is_some_and(|s| chars(s) == TEXT_MAX));
                }
            }
        }
    }
    found.dedup();
    assert!(found.is_empty(), "{found:#?}");
    // The inflated text did reach the commands (cut), so the test checked something.
    assert!(seen_long_text, "no text column carried an inflated value");
    assert!(seen_update, "no update carried an inflated note");
}
