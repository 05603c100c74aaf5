//! Executes a prepared operation: root fields in document order (partial success: a failing
//! field becomes `null` plus an `errors[]` entry), then projects each result through its
//! selection set, resolving nested fields lazily from the state.

use std::collections::HashMap;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::error::FieldError;
use super::graphql::{collect_fields, eval_args, Fragments, OpKind, Prepared, Sel};
use super::state::State;
use super::{mutations, nodes, queries};

/// Budget figures reported by the `complexity` field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComplexityInfo {
    pub before: u64,
    pub query: u64,
    pub after: u64,
    pub reset_in_x_seconds: u64,
}

/// A file part of a multipart upload, addressed by its part name.
#[derive(Debug, Clone)]
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// The marker the upload endpoint puts into `variables.file`.
pub const UPLOAD_PREFIX: &str = "sandbox-upload:";

#[derive(Debug, Clone)]
pub enum Node {
    Board(u64),
    Column(u64, String),
    Group(u64, String),
    Item(u64),
    ColumnValue(u64, String),
    Update(u64),
    Asset(u64, u64),
    /// (parent item, subitem id)
    Subitem(u64, u64),
    Items {
        cursor: Option<String>,
        items: Vec<u64>,
    },
    Complexity(ComplexityInfo),
    User(u64),
    Tag(u64),
    Version(String),
    /// A plain object of the given type (`platform_api` and what it nests).
    Json(&'static str, Value),
}

#[derive(Debug, Clone)]
pub enum Resolved {
    Null,
    Leaf(Value),
    Node(Node),
    List(Vec<Resolved>),
}

impl Resolved {
    pub fn leaf(v: impl Into<Value>) -> Resolved {
        Resolved::Leaf(v.into())
    }
    pub fn nodes(nodes: impl IntoIterator<Item = Node>) -> Resolved {
        Resolved::List(nodes.into_iter().map(Resolved::Node).collect())
    }
}

pub struct ExecCtx<'a> {
    pub state: &'a mut State,
    pub now: OffsetDateTime,
    pub complexity: ComplexityInfo,
    pub version: String,
    pub uploads: HashMap<String, Upload>,
    /// The account's daily limit and usage, for `platform_api`.
    pub platform: super::limits::Platform,
}

/// Result of a whole operation; `fields` lists (root field name, outcome code or "ok").
pub struct ExecOutcome {
    pub data: Map<String, Value>,
    pub errors: Vec<Value>,
    pub fields: Vec<(String, String)>,
}

pub fn execute(prepared: &Prepared, ctx: &mut ExecCtx) -> ExecOutcome {
    let mut out = ExecOutcome {
        data: Map::new(),
        errors: Vec::new(),
        fields: Vec::new(),
    };
    for field in &prepared.root_fields {
        let result = match prepared.kind {
            OpKind::Mutation => mutations::resolve(ctx, &field.name, &field.args),
            OpKind::Query => queries::resolve(ctx, &field.name, &field.args),
        };
        match result {
            Ok(resolved) => {
                let mut path = vec![json!(field.key)];
                let mut p = Projector {
                    ctx,
                    fragments: &prepared.fragments,
                    vars: &prepared.variables,
                    errors: &mut out.errors,
                };
                let value = p.complete(resolved, &field.selection, &mut path);
                out.data.insert(field.key.clone(), value);
                out.fields.push((field.name.clone(), "ok".into()));
            }
            Err(e) => {
                out.errors.push(e.to_json(&[json!(field.key)]));
                out.data.insert(field.key.clone(), Value::Null);
                out.fields.push((field.name.clone(), e.code.to_string()));
            }
        }
    }
    out
}

struct Projector<'p, 'a> {
    ctx: &'p mut ExecCtx<'a>,
    fragments: &'p Fragments,
    vars: &'p Map<String, Value>,
    errors: &'p mut Vec<Value>,
}

impl Projector<'_, '_> {
    fn complete(&mut self, resolved: Resolved, sel: &Sel, path: &mut Vec<Value>) -> Value {
        match resolved {
            Resolved::Null => Value::Null,
            Resolved::Leaf(v) => v,
            Resolved::List(items) => Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        path.push(json!(i));
                        let v = self.complete(r, sel, path);
                        path.pop();
                        v
                    })
                    .collect(),
            ),
            Resolved::Node(node) => self.object(&node, sel, path),
        }
    }

    fn object(&mut self, node: &Node, sel: &Sel, path: &mut Vec<Value>) -> Value {
        let typename = nodes::typename(self.ctx, node);
        let mut obj = Map::new();
        for f in collect_fields(sel, typename, self.fragments, self.vars) {
            let key = f.alias.clone().unwrap_or_else(|| f.name.clone());
            if f.name == "__typename" {
                obj.insert(key, json!(typename));
                continue;
            }
            let args = eval_args(&f.arguments, self.vars);
            path.push(json!(key));
            let value = match nodes::field(self.ctx, node, &f.name, &args) {
                Ok(r) => self.complete(r, &f.selection_set, path),
                Err(e) => {
                    self.errors.push(nested_error(&e, path));
                    Value::Null
                }
            };
            path.pop();
            obj.insert(key, value);
        }
        Value::Object(obj)
    }
}

fn nested_error(e: &FieldError, path: &[Value]) -> Value {
    e.to_json(path)
}
