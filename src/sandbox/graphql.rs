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

use super::schema::{self, FieldType};

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
    let mut v = Validator {
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

struct Validator<'a> {
    fragments: &'a Fragments,
    declared: &'a [&'a str],
    vars: &'a Map<String, Value>,
    errors: &'a mut Vec<Value>,
}

impl Validator<'_> {
    fn selection(&mut self, set: &Sel, type_name: &str, root: bool, kind: OpKind) {
        for sel in &set.items {
            match sel {
                Selection::Field(f) => self.field(f, type_name, root, kind),
                Selection::InlineFragment(inline) => {
                    let cond = match &inline.type_condition {
                        Some(TypeCondition::On(c)) => c.as_str(),
                        None => type_name,
                    };
                    self.fragment(
                        &inline.selection_set,
                        type_name,
                        cond,
                        inline.position,
                        root,
                        kind,
                    );
                }
                Selection::FragmentSpread(spread) => {
                    match self.fragments.get(&spread.fragment_name) {
                        Some(frag) => {
                            let TypeCondition::On(cond) = &frag.type_condition;
                            self.fragment(
                                &frag.selection_set,
                                type_name,
                                cond,
                                spread.position,
                                root,
                                kind,
                            );
                        }
                        None => self.errors.push(error_entry(
                            format!(
                                "Fragment {} was used, but not defined",
                                spread.fragment_name
                            ),
                            Some(spread.position),
                            "useAndDefineFragment",
                            Map::new(),
                        )),
                    }
                }
            }
        }
    }

    fn fragment(
        &mut self,
        set: &Sel,
        parent: &str,
        cond: &str,
        pos: Pos,
        root: bool,
        kind: OpKind,
    ) {
        if schema::fields(cond).is_none() || !schema::fragment_applies(parent, cond) {
            self.errors.push(error_entry(
                format!("Fragment on {cond} can't be spread inside {parent}"),
                Some(pos),
                "fragmentSpreadImpossible",
                Map::new(),
            ));
            return;
        }
        self.selection(set, cond, root, kind);
    }

    fn field(&mut self, f: &Field<'static, String>, type_name: &str, root: bool, kind: OpKind) {
        for (_, value) in &f.arguments {
            self.variables_used(value, f.position);
        }
        let Some(ftype) = schema::field_type(type_name, &f.name) else {
            let mut extra = Map::new();
            extra.insert("typeName".into(), json!(type_name));
            extra.insert("fieldName".into(), json!(f.name));
            self.errors.push(error_entry(
                format!("Field '{}' doesn't exist on type '{}'", f.name, type_name),
                Some(f.position),
                "undefinedField",
                extra,
            ));
            return;
        };
        if root {
            self.root_arguments(f, kind);
        }
        match ftype {
            FieldType::Leaf if !f.selection_set.items.is_empty() => self.errors.push(error_entry(
                format!("Selections can't be made on scalars (field '{}')", f.name),
                Some(f.position),
                "selectionMismatch",
                Map::new(),
            )),
            FieldType::Object(t) if f.selection_set.items.is_empty() => {
                self.errors.push(error_entry(
                    format!(
                        "Field must have selections (field '{}' returns {t} but has no selections)",
                        f.name
                    ),
                    Some(f.position),
                    "selectionMismatch",
                    Map::new(),
                ))
            }
            FieldType::Object(t) => self.selection(&f.selection_set, t, false, kind),
            FieldType::Leaf => {}
        }
    }

    fn root_arguments(&mut self, f: &Field<'static, String>, kind: OpKind) {
        let Some((required, optional)) = schema::root_arguments(kind.type_name(), &f.name) else {
            return;
        };
        for (name, _) in &f.arguments {
            if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
                self.errors.push(error_entry(
                    format!("Field '{}' doesn't accept argument '{}'", f.name, name),
                    Some(f.position),
                    "argumentNotAccepted",
                    Map::new(),
                ));
            }
        }
        let args = eval_args(&f.arguments, self.vars);
        let missing: Vec<&str> = required
            .iter()
            .filter(|r| args.get(**r).is_none_or_null())
            .copied()
            .collect();
        if !missing.is_empty() {
            self.errors.push(error_entry(
                format!(
                    "Field '{}' is missing required arguments: {}",
                    f.name,
                    missing.join(", ")
                ),
                Some(f.position),
                "missingRequiredArguments",
                Map::new(),
            ));
        }
    }

    fn variables_used(&mut self, value: &GqlValue<'static, String>, pos: Pos) {
        match value {
            GqlValue::Variable(name) if !self.declared.contains(&name.as_str()) => {
                self.errors.push(error_entry(
                    format!("Variable ${name} is used but not declared"),
                    Some(pos),
                    "variableNotDefined",
                    Map::new(),
                ))
            }
            GqlValue::List(items) => items.iter().for_each(|v| self.variables_used(v, pos)),
            GqlValue::Object(obj) => obj.values().for_each(|v| self.variables_used(v, pos)),
            _ => {}
        }
    }
}

trait NullCheck {
    fn is_none_or_null(&self) -> bool;
}

impl NullCheck for Option<&Value> {
    fn is_none_or_null(&self) -> bool {
        matches!(self, None | Some(Value::Null))
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
