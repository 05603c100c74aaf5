//! Custom summary results by template name: as column fields, in templates, and the start-up
//! checks of those names.

use serde_json::json;

use crate::mapping::boards::BoardRule;
use crate::mapping::{desired, CallState, Observed, Rules};

fn board(entity: &str, columns: &str) -> BoardRule {
    toml::from_str(&format!(
        "name = \"b\"\nentity = \"{entity}\"\nboard_id = \"1\"\nitem_name = \"x\"\n{columns}"
    ))
    .unwrap()
}

#[test]
fn each_custom_summary_result_is_a_field_by_its_template_name() {
    let rules = Rules::compile(&[board(
        "call",
        r#"
[columns.next]
type = "long_text"
field = "custom_summary.Next steps"
[columns.budget]
type = "text"
template = "Budget: {{ custom_summary.budget }}, {{ custom_summary['Next steps'] }}"
[columns.all]
type = "long_text"
field = "custom_summary"
[columns.fit]
type = "status"
field = "custom_summary.Fit"
labels = { Good = "Good fit", Poor = "Poor fit" }
[columns.absent]
type = "text"
field = "custom_summary.Competitor"
"#,
    )])
    .unwrap();
    let mut state = CallState {
        id: 7,
        ..CallState::default()
    };
    state.ai.custom_summary = [
        ("Budget", "10k"),
        ("Next steps", "Send the quote"),
        ("Fit", "Good"),
    ]
    .map(|(n, c)| (n.to_string(), c.to_string()))
    .to_vec();
    let item = desired(&rules, 0, &Observed::Call(state)).unwrap();
    let col = |c: &str| item.columns.get(c).cloned().flatten();
    assert_eq!(col("next"), Some(json!({ "text": "Send the quote" })));
    // Template names are matched in any case when none is spelled exactly so.
    assert_eq!(col("budget"), Some(json!("Budget: 10k, Send the quote")));
    assert_eq!(
        col("all"),
        Some(json!({ "text": "Budget: 10k\nNext steps: Send the quote\nFit: Good" }))
    );
    assert_eq!(col("fit"), Some(json!({ "label": "Good fit" })));
    assert_eq!(col("absent"), None, "a template Aircall did not fill");
}

#[test]
fn a_custom_summary_field_needs_a_name_and_a_call_board() {
    let err = |entity: &str, field: &str| {
        let columns = format!("[columns.c]\ntype = \"text\"\nfield = \"{field}\"");
        match Rules::compile(&[board(entity, &columns)]) {
            Ok(_) => panic!("{field} on a {entity} board was accepted"),
            Err(e) => e.to_string(),
        }
    };
    let message = err("call", "custom_summary. ");
    assert!(
        message.contains("boards[0].columns.c.field") && message.contains("template insight name"),
        "{message}"
    );
    let message = err("contact", "custom_summary.Budget");
    assert!(message.contains("call board"), "{message}");
    // Only named fields take a name: `summary` is one text.
    let message = err("call", "summary.Budget");
    assert!(
        message.contains("unknown field `summary.Budget`"),
        "{message}"
    );
}
