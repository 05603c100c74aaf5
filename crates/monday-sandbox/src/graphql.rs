//! GraphQL front end: parse with graphql-parser, pick the operation, coerce variables, and
//! validate every selection against `schema` before anything runs, so that a typo in a
//! mutation's selection cannot half-apply it. Execution lives in `exec`.

use std::collections::HashMap;

use graphql_parser::query::{
    Definition, Document, Field, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    Type, TypeCondition, Value as GqlValue,
};
use graphql_parser::Pos;
use serde_json::{json, Map, Number, Value};

use super::validate;

pub type Doc = Document<'static, String>;
pub type Sel = SelectionSet<'static, String>;
pub type Fragments = HashMap<String, FragmentDefinition<'static, String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Query,
    Mutation,
}

impl OpKind {
    pub fn type_name(self) -> &'static str {
        match self {
            OpKind::Query => "Query",
            OpKind::Mutation => "Mutation",
        }
    }
}

/// One root field, with its arguments already resolved to JSON.
#[derive(Debug, Clone)]
pub struct RootField {
    /// Response key: the alias, or the field name.
    pub key: String,
    pub name: String,
    pub args: Map<String, Value>,
    pub selection: Sel,
}

#[derive(Debug)]
pub struct Prepared {
    pub kind: OpKind,
    pub variables: Map<String, Value>,
    pub fragments: Fragments,
    pub root_fields: Vec<RootField>,
}

/// Request-level failures; each carries the `errors[]` entries to return (HTTP 200).
#[derive(Debug)]
pub enum PrepareError {
    Parse(Vec<Value>),
    Validation(Vec<Value>),
}

pub fn error_entry(
    message: String,
    pos: Option<Pos>,
    code: &str,
    extra: Map<String, Value>,
) -> Value {
    let mut ext = Map::new();
    ext.insert("code".into(), json!(code));
    ext.extend(extra);
    let mut entry = json!({ "message": message, "extensions": ext });
    if let Some(p) = pos {
        entry["locations"] = json!([{ "line": p.line, "column": p.column }]);
    }
    entry
}

pub fn prepare(
    query: &str,
    variables: Map<String, Value>,
    operation_name: Option<&str>,
) -> Result<Prepared, PrepareError> {
    let doc: Doc = graphql_parser::parse_query::<String>(query)
        .map_err(|e| {
            let msg = format!("Parse error on {}", e.to_string().trim());
            PrepareError::Parse(vec![error_entry(msg, None, "PARSE_ERROR", Map::new())])
        })?
        .into_static();
    let mut fragments = Fragments::new();
    let mut operations = Vec::new();
    for def in doc.definitions {
        match def {
            Definition::Fragment(f) => {
                fragments.insert(f.name.clone(), f);
            }
            Definition::Operation(op) => operations.push(op),
        }
    }
    let op = pick_operation(operations, operation_name)?;
    let (kind, var_defs, selection) = match op {
        OperationDefinition::SelectionSet(s) => (OpKind::Query, Vec::new(), s),
        OperationDefinition::Query(q) => (OpKind::Query, q.variable_definitions, q.selection_set),
        OperationDefinition::Mutation(m) => {
            (OpKind::Mutation, m.variable_definitions, m.selection_set)
        }
        OperationDefinition::Subscription(_) => {
            return Err(validation(
                "Subscriptions are not supported",
                None,
                "operationNotSupported",
            ))
        }
    };
    let mut errors = Vec::new();
    let mut vars = Map::new();
    for def in &var_defs {
        let provided = variables.get(&def.name).cloned();
        let value = match (provided, &def.default_value) {
            (Some(v), _) => v,
            (None, Some(d)) => to_json(d, &Map::new()),
            (None, None) => Value::Null,
        };
        if value.is_null() && matches!(def.var_type, Type::NonNullType(_)) {
            errors.push(error_entry(
                format!(
                    "Variable ${} of type {} was provided invalid value",
                    def.name, def.var_type
                ),
                Some(def.position),
                "variableMismatch",
                Map::new(),
            ));
        }
        vars.insert(def.name.clone(), value);
    }
    let declared: Vec<&str> = var_defs.iter().map(|d| d.name.as_str()).collect();
    let mut v = validate::Validator {
        fragments: &fragments,
        declared: &declared,
        vars: &vars,
        errors: &mut errors,
    };
    v.selection(&selection, kind.type_name(), true, kind);
    if !errors.is_empty() {
        return Err(PrepareError::Validation(errors));
    }
    let root_fields = collect_fields(&selection, kind.type_name(), &fragments, &vars)
        .into_iter()
        .map(|f| RootField {
            key: f.alias.clone().unwrap_or_else(|| f.name.clone()),
            name: f.name.clone(),
            args: eval_args(&f.arguments, &vars),
            selection: f.selection_set.clone(),
        })
        .collect();
    Ok(Prepared {
        kind,
        variables: vars,
        fragments,
        root_fields,
    })
}

fn validation(msg: &str, pos: Option<Pos>, code: &str) -> PrepareError {
    PrepareError::Validation(vec![error_entry(msg.to_string(), pos, code, Map::new())])
}

fn pick_operation(
    mut ops: Vec<OperationDefinition<'static, String>>,
    name: Option<&str>,
) -> Result<OperationDefinition<'static, String>, PrepareError> {
    let op_name = |op: &OperationDefinition<'static, String>| match op {
        OperationDefinition::Query(q) => q.name.clone(),
        OperationDefinition::Mutation(m) => m.name.clone(),
        OperationDefinition::Subscription(s) => s.name.clone(),
        OperationDefinition::SelectionSet(_) => None,
    };
    match name.filter(|n| !n.is_empty()) {
        Some(n) => match ops.iter().position(|op| op_name(op).as_deref() == Some(n)) {
            Some(i) => Ok(ops.swap_remove(i)),
            None => Err(validation(
                &format!("No operation named \"{n}\""),
                None,
                "operationNotFound",
            )),
        },
        None if ops.len() == 1 => Ok(ops.swap_remove(0)),
        None if ops.is_empty() => Err(validation(
            "No operations in query document",
            None,
            "noOperations",
        )),
        None => Err(validation(
            "An operation name is required when the document has several operations",
            None,
            "operationNameRequired",
        )),
    }
}

/// Converts a GraphQL literal to JSON, substituting variables.
pub fn to_json(value: &GqlValue<'static, String>, vars: &Map<String, Value>) -> Value {
    match value {
        GqlValue::Variable(name) => vars.get(name).cloned().unwrap_or(Value::Null),
        GqlValue::Int(n) => n.as_i64().map(Value::from).unwrap_or(Value::Null),
        GqlValue::Float(f) => Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        GqlValue::String(s) => Value::String(s.clone()),
        GqlValue::Boolean(b) => Value::Bool(*b),
        GqlValue::Null => Value::Null,
        GqlValue::Enum(e) => Value::String(e.clone()),
        GqlValue::List(items) => Value::Array(items.iter().map(|v| to_json(v, vars)).collect()),
        GqlValue::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| (k.clone(), to_json(v, vars)))
                .collect(),
        ),
    }
}

pub fn eval_args(
    args: &[(String, GqlValue<'static, String>)],
    vars: &Map<String, Value>,
) -> Map<String, Value> {
    args.iter()
        .map(|(k, v)| (k.clone(), to_json(v, vars)))
        .collect()
}

/// Flattens a selection set for an object of type `type_name`: fragments whose condition
/// matches are inlined, `@skip`/`@include` honoured.
pub fn collect_fields<'s>(
    set: &'s Sel,
    type_name: &str,
    fragments: &'s Fragments,
    vars: &Map<String, Value>,
) -> Vec<&'s Field<'static, String>> {
    let mut out = Vec::new();
    for sel in &set.items {
        match sel {
            Selection::Field(f) if included(&f.directives, vars) => out.push(f),
            Selection::Field(_) => {}
            Selection::InlineFragment(inline) if included(&inline.directives, vars) => {
                let applies = match &inline.type_condition {
                    Some(TypeCondition::On(c)) => c == type_name || c == "ColumnValue",
                    None => true,
                };
                if applies {
                    out.extend(collect_fields(
                        &inline.selection_set,
                        type_name,
                        fragments,
                        vars,
                    ));
                }
            }
            Selection::InlineFragment(_) => {}
            Selection::FragmentSpread(spread) if included(&spread.directives, vars) => {
                if let Some(frag) = fragments.get(&spread.fragment_name) {
                    let TypeCondition::On(c) = &frag.type_condition;
                    if c == type_name || c == "ColumnValue" {
                        out.extend(collect_fields(
                            &frag.selection_set,
                            type_name,
                            fragments,
                            vars,
                        ));
                    }
                }
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    out
}

fn included(
    directives: &[graphql_parser::query::Directive<'static, String>],
    vars: &Map<String, Value>,
) -> bool {
    directives.iter().all(|d| {
        let cond = d
            .arguments
            .iter()
            .find(|(k, _)| k == "if")
            .map(|(_, v)| to_json(v, vars))
            .and_then(|v| v.as_bool());
        !matches!(
            (d.name.as_str(), cond),
            ("skip", Some(true)) | ("include", Some(false))
        )
    })
}
