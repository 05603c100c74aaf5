use std::time::Duration;

use super::*;

fn api(code: &str, http_status: u16, retry: Option<u64>) -> MondayError {
    MondayError::Api {
        code: code.into(),
        message: "m".into(),
        http_status,
        status_code: None,
        retry_after: retry.map(Duration::from_secs),
        request_id: None,
    }
}

#[test]
fn rate_limits_retry_after_the_servers_hint() {
    for code in [
        "COMPLEXITY_BUDGET_EXHAUSTED",
        "ComplexityException",
        "complexityBudgetExhausted",
        "maxConcurrencyExceeded",
        "IP_RATE_LIMIT_EXCEEDED",
        "RATE_LIMIT_EXCEEDED",
        "Rate Limit Exceeded",
        "Minute limit rate exceeded",
        "FIELD_LIMIT_EXCEEDED",
    ] {
        assert_eq!(
            api(code, 429, Some(17)).decision(),
            Decision::Retry {
                hint: Some(Duration::from_secs(17))
            },
            "{code}"
        );
    }
}

#[test]
fn conflicts_locks_and_server_errors_retry() {
    assert_eq!(
        api("IDEMPOTENCY_CONFLICT", 409, Some(2)).decision(),
        Decision::Retry {
            hint: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(
        api("API_TEMPORARILY_BLOCKED", 200, None).decision(),
        Decision::Retry { hint: None }
    );
    assert_eq!(
        api("INTERNAL_SERVER_ERROR", 500, None).decision(),
        Decision::Retry { hint: None }
    );
    for status in [423, 500, 502, 503, 504] {
        let e = MondayError::Http {
            status,
            retry_after: None,
            snippet: String::new(),
            url: "http://m/v2".into(),
        };
        assert_eq!(e.decision(), Decision::Retry { hint: None }, "{status}");
    }
    let locked = MondayError::Http {
        status: 423,
        retry_after: Some(Duration::from_secs(1)),
        snippet: String::new(),
        url: "http://m/v2".into(),
    };
    assert_eq!(
        locked.decision(),
        Decision::Retry {
            hint: Some(Duration::from_secs(1))
        }
    );
}

#[test]
fn timeouts_and_dropped_connections_retry() {
    for timed_out in [true, false] {
        let e = MondayError::Transport {
            message: "x".into(),
            timed_out,
            not_sent: false,
        };
        assert_eq!(e.decision(), Decision::Retry { hint: None });
        assert!(
            e.is_ambiguous(),
            "an answer lost on the way may hide an applied write"
        );
    }
    let refused = MondayError::Transport {
        message: "connection refused".into(),
        timed_out: false,
        not_sent: true,
    };
    assert_eq!(refused.decision(), Decision::Retry { hint: None });
    assert!(
        !refused.is_ambiguous(),
        "a connection never made sent nothing"
    );
    assert_eq!(
        MondayError::Decode("html".into()).decision(),
        Decision::Retry { hint: None }
    );
}

#[test]
fn bad_values_ids_and_auth_go_to_the_dead_letter() {
    for code in [
        "ColumnValueException",
        "InvalidBoardIdException",
        "InvalidColumnIdException",
        "InvalidUserIdException",
        "InvalidArgumentException",
        "ItemNameTooLongException",
        "USER_UNAUTHORIZED",
        "UserUnauthorizedException",
        "Unauthorized",
        "undefinedField",
    ] {
        assert_eq!(
            api(code, 200, None).decision(),
            Decision::DeadLetter,
            "{code}"
        );
    }
    for status in [400, 401, 403, 404, 501] {
        let e = MondayError::Http {
            status,
            retry_after: None,
            snippet: String::new(),
            url: "http://m/v2".into(),
        };
        assert_eq!(e.decision(), Decision::DeadLetter, "{status}");
    }
}

#[test]
fn a_deleted_item_and_the_daily_limit_have_their_own_answers() {
    assert_eq!(
        api("InvalidItemIdException", 200, None).decision(),
        Decision::ItemGone
    );
    assert_eq!(
        api("DAILY_LIMIT_EXCEEDED", 429, Some(3600)).decision(),
        Decision::PauseUntilMidnight
    );
}

#[test]
fn unknown_codes_are_judged_by_status() {
    let mut e = api("SomethingNew", 200, None);
    assert_eq!(e.decision(), Decision::Retry { hint: None });
    if let MondayError::Api { status_code, .. } = &mut e {
        *status_code = Some(403);
    }
    assert_eq!(e.decision(), Decision::DeadLetter);
    assert_eq!(
        api("SomethingNew", 503, None).decision(),
        Decision::Retry { hint: None }
    );
}

#[test]
fn a_404_names_the_url_and_the_missing_v2() {
    let e = MondayError::Http {
        status: 404,
        retry_after: None,
        snippet: "Not Found".into(),
        url: "https://api.monday.com/".into(),
    };
    let text = e.to_string();
    assert!(text.contains("at https://api.monday.com/"), "{text}");
    assert!(text.contains("must end in /v2"), "{text}");
    let right = MondayError::Http {
        status: 404,
        retry_after: None,
        snippet: String::new(),
        url: "https://proxy.example/v2".into(),
    };
    assert!(!right.to_string().contains("must end in /v2"), "{right}");
}

#[tokio::test]
async fn a_transport_error_keeps_its_cause() {
    // A port nothing listens on: the connect is refused, and the message must say so.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/v2"))
        .send()
        .await
        .unwrap_err();
    let text = super::super::transport::transport(err).to_string();
    assert!(text.contains("error sending request"), "{text}");
    assert!(text.to_lowercase().contains("connection refused"), "{text}");
}
