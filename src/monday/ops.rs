//! The GraphQL operations in `graphql/`, typed by graphql_client. These generated types stay
//! inside `monday`: the rest of the crate speaks `MondayCommand` and our own result types.

#![allow(clippy::all, non_camel_case_types)]

use graphql_client::GraphQLQuery;

/// monday's `JSON` scalar. Column values travel as a JSON-encoded string inside it.
type JSON = serde_json::Value;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/find_items_by_column.graphql",
    response_derives = "Debug"
)]
pub struct FindItemsByColumn;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/item_effects.graphql",
    response_derives = "Debug"
)]
pub struct ItemEffects;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/boards.graphql",
    response_derives = "Debug"
)]
pub struct Boards;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/users_by_email.graphql",
    response_derives = "Debug"
)]
pub struct UsersByEmail;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/create_or_get_tag.graphql",
    response_derives = "Debug"
)]
pub struct CreateOrGetTag;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "graphql/schema.graphql",
    query_path = "graphql/platform_api.graphql",
    response_derives = "Debug"
)]
pub struct PlatformApi;
