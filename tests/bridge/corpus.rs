//! A corpus of hostile input over HTTP (issue 11): every entry gets its documented status, the
//! process keeps serving, and every event it acknowledged is in the store.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;
use crate::raw::{self, request, Stalled};

fn good(id: u64) -> String {
    json!({ "resource": "call", "event": "call.created", "timestamp": 1795168800, "token": AIRCALL_TOKEN,
            "data": { "id": id, "direction": "inbound", "status": "initial", "started_at": 1795168800 } })
    .to_string()
}

/// One input: name, content type, body, expected status, and the call id if it is stored.
type Entry = (&'static str, &'static str, Vec<u8>, u16, Option<u64>);

fn corpus() -> Vec<Entry> {
    let json = "application/json";
    let t = AIRCALL_TOKEN;
    let full = good(101);
    let deep = format!(
        r#"{{"event":"call.created","timestamp":1,"token":"{t}","data":{{"id":102,"x":{}1{}}}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    let mut invalid_utf8 = good(103).into_bytes();
    let at = invalid_utf8.len() - 10;
    invalid_utf8.splice(at..at, [0xff, 0xfe, 0xc3]);
    let mut out = vec![
        ("empty body", json, vec![], 400, None),
        ("truncated", json, full.as_bytes()[..full.len() / 2].to_vec(), 400, None),
        ("not an object", json, b"[1,2,3]".to_vec(), 400, None),
        ("null", json, b"null".to_vec(), 400, None),
        ("deep nesting", json, deep.into_bytes(), 400, None),
        ("invalid UTF-8", json, invalid_utf8, 400, None),
        (
            "duplicate envelope key",
            json,
            format!(r#"{{"event":"call.created","event":"call.ended","timestamp":1,"token":"{t}","data":{{"id":104}}}}"#).into_bytes(),
            400,
            None,
        ),
        (
            "duplicate token, the good one last",
            json,
            format!(r#"{{"event":"call.created","timestamp":1,"token":"bad","token":"{t}","data":{{"id":105}}}}"#).into_bytes(),
            400,
            None,
        ),
        (
            "duplicate key inside data: the last wins",
            json,
            format!(r#"{{"event":"call.created","timestamp":1,"token":"{t}","data":{{"id":1,"id":106}}}}"#).into_bytes(),
            200,
            Some(106),
        ),
        ("wrong token", json, good(107).replace(t, "not-the-token").into_bytes(), 401, None),
        ("text/plain", "text/plain", good(108).into_bytes(), 415, None),
        ("form", "application/x-www-form-urlencoded", good(109).into_bytes(), 415, None),
        ("charset parameter", "application/json; charset=utf-8", good(110).into_bytes(), 200, Some(110)),
        (
            "huge string under the limit",
            json,
            good(111).replace("\"inbound\"", &format!("\"{}\"", "i".repeat(200_000))).into_bytes(),
            200,
            Some(111),
        ),
        (
            "huge string over the limit",
            json,
            good(112).replace("\"inbound\"", &format!("\"{}\"", "i".repeat(300_000))).into_bytes(),
            413,
            None,
        ),
        (
            "control characters and an escape in strings",
            json,
            good(113).replace("\"inbound\"", "\"in\\nbound\\u001b[31m\\u0000\"").into_bytes(),
            200,
            Some(113),
        ),
    ];
    // Wrong types in every field of the envelope.
    for (field, value) in [
        ("event", "42"),
        ("timestamp", "\"yesterday\""),
        ("token", "[\"x\"]"),
        ("data", "\"{}\""),
        ("data", "null"),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&good(120)).unwrap();
        v[field] = serde_json::from_str(value).unwrap();
        out.push(("wrong type", json, v.to_string().into_bytes(), 400, None));
    }
    // Wrong types inside data are taken leniently: every nested field is optional.
    let mut v: serde_json::Value = serde_json::from_str(&good(121)).unwrap();
    v["data"]["started_at"] = json!("soon");
    v["data"]["direction"] = json!(7);
    out.push((
        "wrong types inside data",
        json,
        v.to_string().into_bytes(),
        200,
        Some(121),
    ));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corpus_of_bad_input_gets_its_statuses_and_loses_nothing() {
    let sandbox = Sandbox::start().await;
    let bridge = Bridge::start(
        &sandbox,
        &[("BRIDGE__SERVER__LIMITS__BODY_IDLE_TIMEOUT", "1s")],
    )
    .await;
    let host = [("Host", "127.0.0.1")];
    let mut acked = BTreeSet::new();
    for (name, content_type, body, want, stored) in corpus() {
        let headers = [host[0], ("Content-Type", content_type)];
        let answer = raw::send(
            bridge.public,
            &request("POST", "/webhooks/aircall", &headers, &body),
        )
        .await;
        assert_eq!(answer.status, want, "{name}: {}", answer.text());
        if answer.status != 200 {
            assert!(
                answer.text().contains("\"error\""),
                "{name}: {}",
                answer.text()
            );
        }
        if let Some(id) = stored {
            acked.insert(id);
        }
    }
    // Other methods are told which one works.
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let answer = raw::send(
            bridge.public,
            &request(method, "/webhooks/aircall", &host, b""),
        )
        .await;
        assert_eq!(answer.status, 405, "{method}");
        assert_eq!(answer.header("Allow").as_deref(), Some("POST"), "{method}");
    }
    // A slow body is cut with 408 after the idle timeout.
    let (status, _) = Stalled::open(bridge.public)
        .await
        .closed(Duration::from_secs(10))
        .await
        .expect("the stalled body is cut");
    assert_eq!(status, Some(408));

    // Still serving; everything acknowledged is stored, nothing else.
    let r = bridge
        .post_raw("/webhooks/aircall", good(130).into_bytes())
        .await;
    assert_eq!(r.status(), 200);
    acked.insert(130);
    let stored: BTreeSet<u64> = bridge
        .store()
        .await
        .events(Default::default(), 100_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.entity_id.parse().unwrap())
        .collect();
    assert_eq!(stored, acked);
    assert!(!bridge.log().contains("panicked"), "{}", bridge.log());
}
