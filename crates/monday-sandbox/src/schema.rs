//! The slice of monday's schema the sandbox serves, read from the bridge's own
//! `graphql/schema.graphql` (the file graphql_client types the bridge's operations against),
//! so the two cannot drift apart. Used to reject unknown fields before anything executes, with
//! monday's `undefinedField` validation error, fragments that cannot apply, and root-field
//! arguments that are unknown or missing.
//!
//! The file is embedded at compile time and parsed once, on first use; names borrow from the
//! embedded text, so they are `&'static str`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use graphql_parser::schema::{parse_schema, Definition, Type, TypeDefinition};

/// monday's schema as the bridge models it: a file shared with the bridge crate, not code of it.
const SDL: &str = include_str!("../../../graphql/schema.graphql");

/// A field's result: a named object type (object or interface), or a leaf (scalar/enum/JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Object(&'static str),
    Leaf,
}

/// Fields of an object or interface type, by name.
pub type Fields = BTreeMap<&'static str, FieldType>;

/// Accepted arguments of a root field: required (non-null without a default), then optional.
type Arguments = (Vec<&'static str>, Vec<&'static str>);

struct Schema {
    /// Object and interface types (the only ones with fields or fragments on them).
    types: BTreeMap<&'static str, Fields>,
    /// Interface -> the object types that implement it.
    implementers: BTreeMap<&'static str, BTreeSet<&'static str>>,
    /// Root type ("Query", "Mutation") -> field -> arguments.
    root_arguments: BTreeMap<&'static str, BTreeMap<&'static str, Arguments>>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::parse(SDL).unwrap_or_else(|e| panic!("graphql/schema.graphql does not parse: {e}"))
});

fn named(t: &Type<'static, &'static str>) -> &'static str {
    match t {
        Type::NamedType(n) => n,
        Type::ListType(inner) | Type::NonNullType(inner) => named(inner),
    }
}

impl Schema {
    fn parse(sdl: &'static str) -> Result<Schema, String> {
        let doc = parse_schema::<&'static str>(sdl).map_err(|e| e.to_string())?;
        let mut composite = BTreeSet::new();
        let (mut query, mut mutation) = ("Query", "Mutation");
        for def in &doc.definitions {
            match def {
                Definition::TypeDefinition(TypeDefinition::Object(o)) => {
                    composite.insert(o.name);
                }
                Definition::TypeDefinition(TypeDefinition::Interface(i)) => {
                    composite.insert(i.name);
                }
                Definition::TypeDefinition(TypeDefinition::Union(u)) => {
                    composite.insert(u.name);
                }
                Definition::SchemaDefinition(s) => {
                    query = s.query.unwrap_or(query);
                    mutation = s.mutation.unwrap_or(mutation);
                }
                _ => {}
            }
        }
        let result = |t: &Type<'static, &'static str>| {
            let name = named(t);
            if composite.contains(name) {
                FieldType::Object(name)
            } else {
                FieldType::Leaf
            }
        };
        let mut schema = Schema {
            types: BTreeMap::new(),
            implementers: BTreeMap::new(),
            root_arguments: BTreeMap::new(),
        };
        for def in &doc.definitions {
            let Definition::TypeDefinition(def) = def else {
                continue;
            };
            let (name, fields) = match def {
                TypeDefinition::Object(o) => {
                    for i in &o.implements_interfaces {
                        schema.implementers.entry(*i).or_default().insert(o.name);
                    }
                    (o.name, &o.fields)
                }
                TypeDefinition::Interface(i) => (i.name, &i.fields),
                _ => continue,
            };
            let root = [query, mutation].contains(&name);
            let map = schema.types.entry(name).or_default();
            for f in fields {
                map.insert(f.name, result(&f.field_type));
                if root {
                    let (mut required, mut optional) = (Vec::new(), Vec::new());
                    for a in &f.arguments {
                        let is_required = matches!(a.value_type, Type::NonNullType(_))
                            && a.default_value.is_none();
                        if is_required {
                            &mut required
                        } else {
                            &mut optional
                        }
                        .push(a.name);
                    }
                    let operation = if name == query { "Query" } else { "Mutation" };
                    schema
                        .root_arguments
                        .entry(operation)
                        .or_default()
                        .insert(f.name, (required, optional));
                }
            }
        }
        Ok(schema)
    }
}

/// Fields of a type; `None` for an unknown type name or one without fields (scalar, enum).
pub fn fields(type_name: &str) -> Option<&'static Fields> {
    SCHEMA.types.get(type_name)
}

/// The type of `field` on `type_name`; `__typename` exists everywhere.
pub fn field_type(type_name: &str, field: &str) -> Option<FieldType> {
    if field == "__typename" {
        return Some(FieldType::Leaf);
    }
    fields(type_name)?.get(field).copied()
}

/// The object types a value of `type_name` can be: its implementers for an interface, itself
/// for an object.
fn possible_types(type_name: &str) -> BTreeSet<&str> {
    match SCHEMA.implementers.get(type_name) {
        Some(set) => set.iter().copied().collect(),
        None => BTreeSet::from([type_name]),
    }
}

/// Whether a fragment on `condition` may apply inside a selection on `parent`: GraphQL's rule,
/// that some object type is both (an implementation inside its interface, the interface
/// inside one of its implementations, a type inside itself).
pub fn fragment_applies(parent: &str, condition: &str) -> bool {
    parent == condition || !possible_types(parent).is_disjoint(&possible_types(condition))
}

/// Accepted arguments of a root field (`operation` is "Query" or "Mutation"):
/// (required, optional).
pub fn root_arguments(
    operation: &str,
    field: &str,
) -> Option<(&'static [&'static str], &'static [&'static str])> {
    let (required, optional) = SCHEMA.root_arguments.get(operation)?.get(field)?;
    Some((required.as_slice(), optional.as_slice()))
}

/// Whether `name` is a value of monday's `ColumnType` enum (checked against the sandbox's own
/// column types in seed.rs's tests; the sandbox serves nothing by it).
#[cfg(test)]
pub fn is_column_type(name: &str) -> bool {
    let doc = parse_schema::<&str>(SDL).expect("graphql/schema.graphql parses");
    doc.definitions.iter().any(|d| {
        matches!(d, Definition::TypeDefinition(TypeDefinition::Enum(e))
            if e.name == "ColumnType" && e.values.iter().any(|v| v.name == name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schema_parses() {
        Schema::parse(SDL).expect("graphql/schema.graphql parses");
    }

    #[test]
    fn fields_and_their_types() {
        assert_eq!(
            field_type("Item", "column_values"),
            Some(FieldType::Object("ColumnValue"))
        );
        assert_eq!(field_type("Item", "name"), Some(FieldType::Leaf));
        assert_eq!(field_type("StatusValue", "label"), Some(FieldType::Leaf));
        assert_eq!(field_type("Item", "__typename"), Some(FieldType::Leaf));
        assert_eq!(field_type("Item", "no_such_field"), None);
        assert_eq!(field_type("NoSuchType", "id"), None);
        assert!(fields("JSON").is_none(), "a scalar has no fields");
        assert!(fields("ColumnType").is_none(), "an enum has no fields");
    }

    #[test]
    fn fragments_apply_by_implementation() {
        assert!(fragment_applies("ColumnValue", "StatusValue"));
        assert!(fragment_applies("ColumnValue", "ColumnValue"));
        // GraphQL allows the interface inside one of its implementations too.
        assert!(fragment_applies("StatusValue", "ColumnValue"));
        assert!(!fragment_applies("StatusValue", "TextValue"));
        assert!(!fragment_applies("Item", "StatusValue"));
        assert!(!fragment_applies("ColumnValue", "Item"));
    }

    #[test]
    fn root_arguments_required_and_optional() {
        let (required, optional) = root_arguments("Mutation", "create_item").unwrap();
        assert_eq!(required, ["board_id", "item_name"]);
        assert!(optional.contains(&"group_id"));
        // `limit: Int! = 25` has a default, so it is optional.
        let (required, optional) = root_arguments("Query", "next_items_page").unwrap();
        assert_eq!((required, optional), (&["cursor"][..], &["limit"][..]));
        assert_eq!(root_arguments("Query", "me"), Some((&[][..], &[][..])));
        assert_eq!(root_arguments("Query", "create_item"), None);
    }

    #[test]
    fn column_types_from_the_enum() {
        assert!(is_column_type("status"));
        assert!(is_column_type("board_relation"));
        assert!(!is_column_type("Status"));
    }
}
