//! Static validation of a parsed operation against `schema`: unknown fields
//! (`undefinedField`), selections on leaves or missing on objects, root-field arguments,
//! undeclared variables and fragments that cannot apply.

use graphql_parser::query::{Field, Selection, TypeCondition, Value as GqlValue};
use graphql_parser::Pos;
use serde_json::{json, Map, Value};

use super::graphql::{error_entry, eval_args, Fragments, OpKind, Sel};
use super::schema::{self, FieldType};

pub struct Validator<'a> {
    pub fragments: &'a Fragments,
    pub declared: &'a [&'a str],
    pub vars: &'a Map<String, Value>,
    pub errors: &'a mut Vec<Value>,
}

impl Validator<'_> {
    pub fn selection(&mut self, set: &Sel, type_name: &str, root: bool, kind: OpKind) {
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
