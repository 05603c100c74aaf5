//! The operator's board mappings, checked and with their templates compiled once at start-up.

use std::collections::BTreeMap;

use minijinja::{Environment, Value as TemplateValue};

use super::boards::{BoardRule, Entity, DEFAULT_COMMENT_TEMPLATE};
use super::fields::{split_named, FieldValue, Fields, CALL_FIELDS, CONTACT_FIELDS};
use super::updates::COMMENT_FIELDS;
use super::MappingError;

/// monday's limit on item names.
pub const ITEM_NAME_MAX: usize = 255;

pub struct Rules {
    env: Environment<'static>,
    boards: Vec<BoardRule>,
}

/// The fields an entity offers, by name.
pub fn field_names(entity: Entity) -> impl Iterator<Item = &'static str> {
    let list = match entity {
        Entity::Call => CALL_FIELDS,
        Entity::Contact => CONTACT_FIELDS,
    };
    list.iter().map(|(name, _)| *name)
}

impl Rules {
    /// Checks every field name and template against the fields of the board's entity.
    /// Errors name the key, e.g. `boards[0].columns.agent.template`.
    pub fn compile(boards: &[BoardRule]) -> Result<Rules, MappingError> {
        let mut env = Environment::new();
        // Column templates produce plain text for monday; update bodies are HTML, so their
        // values are escaped (a note saying "<b>" must read "<b>", not turn bold).
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".comment_template") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        for (i, board) in boards.iter().enumerate() {
            let entity_fields: Vec<&str> = field_names(board.entity).collect();
            let comment_fields: Vec<&str> = COMMENT_FIELDS.iter().map(|(n, _)| *n).collect();
            let mut add = |key: String, source: &str| -> Result<(), MappingError> {
                let (known, what) = if key.ends_with(".comment_template") {
                    (&comment_fields, "comment template".to_string())
                } else {
                    (&entity_fields, format!("{} board", board.entity.as_str()))
                };
                env.add_template_owned(key.clone(), source.to_string())
                    .map_err(|e| config_error(&key, format!("template does not parse: {e}")))?;
                let template = env
                    .get_template(&key)
                    .map_err(|e| config_error(&key, e.to_string()))?;
                let mut unknown: Vec<String> = template
                    .undeclared_variables(false)
                    .into_iter()
                    .filter(|v| !known.contains(&v.as_str()))
                    .collect();
                unknown.sort();
                if let Some(name) = unknown.first() {
                    return Err(config_error(
                        &key,
                        format!(
                            "unknown field `{name}` for a {what}; known fields: {}",
                            known.join(", ")
                        ),
                    ));
                }
                Ok(())
            };
            add(format!("boards[{i}].item_name"), &board.item_name)?;
            if board.comments_as_updates {
                let source = board
                    .comment_template
                    .as_deref()
                    .unwrap_or(DEFAULT_COMMENT_TEMPLATE);
                add(format!("boards[{i}].comment_template"), source)?;
            }
            for (column, spec) in &board.columns {
                let key = format!("boards[{i}].columns.{column}");
                if let Some(template) = &spec.template {
                    add(format!("{key}.template"), template)?;
                }
                if let Some(field) = &spec.field {
                    if let Some((base, name)) = split_named(field) {
                        // The template names live in Aircall's settings, which its API does
                        // not list: only the shape can be checked here.
                        if !entity_fields.contains(&base) || name.trim().is_empty() {
                            return Err(config_error(
                                &format!("{key}.field"),
                                format!(
                                    "`{field}`: expected {base}.<template insight name> on a \
                                     call board, e.g. \"{base}.Next steps\" (the name as \
                                     Aircall's custom summary template spells it)"
                                ),
                            ));
                        }
                        continue;
                    }
                    if !entity_fields.contains(&field.as_str()) {
                        return Err(config_error(
                            &format!("{key}.field"),
                            format!(
                                "unknown field `{field}` for a {} board; known fields: {}",
                                board.entity.as_str(),
                                entity_fields.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        Ok(Rules {
            env,
            boards: boards.to_vec(),
        })
    }

    pub fn boards(&self) -> &[BoardRule] {
        &self.boards
    }

    /// The boards that mirror `entity`, with their index (the key of their templates).
    pub fn boards_for(&self, entity: Entity) -> impl Iterator<Item = (usize, &BoardRule)> {
        self.boards
            .iter()
            .enumerate()
            .filter(move |(_, b)| b.entity == entity)
    }

    /// Renders a template; absent fields read as empty strings so `{{ a or "none" }}` works.
    pub(super) fn render(
        &self,
        key: &str,
        fields: &Fields,
        entity: Entity,
    ) -> Result<String, MappingError> {
        let context: BTreeMap<&str, TemplateValue> = field_names(entity)
            .map(|name| {
                let value = match fields.get(name) {
                    Some(FieldValue::Number(n)) => TemplateValue::from(*n),
                    Some(FieldValue::Named(results)) => {
                        TemplateValue::from_object(NamedResults(results.clone()))
                    }
                    Some(other) => TemplateValue::from(other.to_text()),
                    None => TemplateValue::from(""),
                };
                (name, value)
            })
            .collect();
        self.render_with(key, context)
    }

    /// Renders a template over an explicit context (comment templates).
    pub(super) fn render_with(
        &self,
        key: &str,
        context: BTreeMap<&str, TemplateValue>,
    ) -> Result<String, MappingError> {
        let template = self
            .env
            .get_template(key)
            .map_err(|e| MappingError::Template(format!("{key}: {e}")))?;
        template
            .render(context)
            .map_err(|e| MappingError::Template(format!("{key}: {e}")))
    }
}

fn config_error(key: &str, message: String) -> MappingError {
    MappingError::Config {
        key: key.to_string(),
        message,
    }
}

/// A named field in a template: `{{ custom_summary }}` reads its "name: content" lines,
/// `{{ custom_summary["Next steps"] }}` (or `.Budget`) one result, matched as
/// [`FieldValue::named`] does; a name Aircall did not send reads as empty.
#[derive(Debug)]
struct NamedResults(Vec<(String, String)>);

impl minijinja::value::Object for NamedResults {
    fn get_value(self: &std::sync::Arc<Self>, key: &TemplateValue) -> Option<TemplateValue> {
        let named = FieldValue::Named(self.0.clone());
        let content = named.named(key.as_str()?).unwrap_or_default();
        Some(TemplateValue::from(content))
    }

    fn render(self: &std::sync::Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&FieldValue::Named(self.0.clone()).to_text())
    }
}
