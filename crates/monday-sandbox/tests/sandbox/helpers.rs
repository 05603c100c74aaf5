use monday_sandbox::{self as sandbox, Limits, SandboxConfig, SandboxHandle};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const CALLS: &str = "1000000001";

/// A board with the column types the shipped seed lacks (file, email, dropdown).
const EXTRA_SEED: &str = r#"
[[boards]]
id = "1000000009"
name = "Files & more"
groups = [{ id = "main", title = "Main" }]
columns = [
  { id = "files", title = "Files", type = "file" },
  { id = "email", title = "Email", type = "email" },
  { id = "tags", title = "Tags", type = "dropdown", labels = ["a", "b"] },
]
"#;

pub struct Sandbox {
    pub handle: SandboxHandle,
    pub client: reqwest::Client,
    pub token: Option<String>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self, i: usize) -> &str {
        self.body["errors"][i]["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn spawn_with(token: Option<&str>, limits: Limits) -> Sandbox {
    let mut boards = sandbox::load_seed(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/boards.toml"
    )))
    .expect("seed");
    boards.extend(sandbox::parse_seed(EXTRA_SEED).expect("extra seed"));
    let handle = sandbox::spawn(SandboxConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        boards,
        users: sandbox::load_users(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/boards.toml"
        )))
        .expect("users"),
        api_token: token.map(str::to_string),
        limits,
    })
    .await
    .expect("spawn sandbox");
    Sandbox {
        handle,
        client: reqwest::Client::new(),
        token: token.map(str::to_string),
    }
}

pub async fn spawn() -> Sandbox {
    spawn_with(None, Limits::default()).await
}

impl Sandbox {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.handle.addr(), path)
    }

    pub fn post(&self, body: Value) -> reqwest::RequestBuilder {
        let mut req = self.client.post(self.handle.api_url()).json(&body);
        if let Some(t) = &self.token {
            req = req.header("Authorization", t);
        }
        req
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.expect("send");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.json().await.expect("json body");
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn gql(&self, query: &str, variables: Value) -> Answer {
        self.send(self.post(json!({ "query": query, "variables": variables })))
            .await
    }

    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let resp = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("post");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("json")
    }

    /// Creates an item on the Calls board and returns its id.
    pub async fn create_call(&self, name: &str, values: Value) -> String {
        let a = self
            .gql(
                "mutation ($b: ID!, $n: String!, $v: JSON) { create_item(board_id: $b, item_name: $n, column_values: $v) { id } }",
                json!({ "b": CALLS, "n": name, "v": values.to_string() }),
            )
            .await;
        assert!(a.body.get("errors").is_none(), "{}", a.body);
        a.body["data"]["create_item"]["id"]
            .as_str()
            .expect("id is a string")
            .to_string()
    }

    pub async fn item(&self, board: &str, id: &str) -> Value {
        let b = self.get(&format!("/_sandbox/boards/{board}")).await;
        b["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }
}
