//! Sync health an operator can alert on: metrics, the status page's banner, readiness that
//! stays about intake, and alert rules that name only metrics the bridge exports.

use std::process::Command;

use serde_json::Value;

use crate::app::*;
use crate::helpers::*;

async fn get(bridge: &App, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{}{path}", bridge.admin))
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A bridge with a dead letter (a label the board lacks) and one rejected webhook (a bad token).
async fn a_bad_day(sandbox: &Sandbox) -> App {
    let bridge = spawn_app_with_config(sandbox, &example_with_a_missing_label(), &[]).await;
    let mut forged = fixture("inbound_answered")[0].clone();
    forged["token"] = "not-the-token".into();
    assert_eq!(bridge.post(&forged).await.status(), 401);
    bridge.deliver(&fixture("inbound_missed_voicemail")).await;
    bridge.retry_until_dead(1).await;
    bridge
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_letter_makes_sync_unhealthy_everywhere_but_readiness() {
    let sandbox = Sandbox::start().await;
    let bridge = a_bad_day(&sandbox).await;

    let (status, page) = get(&bridge, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=sync-banner"), "no banner:\n{page}");
    assert!(page.contains("Sync is unhealthy"), "{page}");
    assert!(page.contains("in the dead letter"), "{page}");

    // Intake works, so readiness says ready, and tells why sync is not healthy.
    let (status, body) = get(&bridge, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["ready"], true, "{ready}");
    assert_eq!(ready["sync_healthy"], false, "{ready}");
    assert!(
        ready["sync_problems"][0]
            .as_str()
            .unwrap()
            .contains("dead letter"),
        "{ready}"
    );

    assert_eq!(bridge.metric("bridge_sync_healthy").await, 0.0);
    assert_eq!(
        bridge
            .metric("bridge_webhook_rejections_total{reason=\"unauthorized\"}")
            .await,
        1.0
    );
    assert!(
        bridge
            .metric("bridge_monday_errors_total{code=\"ColumnValueException\"}")
            .await
            >= 1.0
    );
    assert_eq!(bridge.metric("bridge_monday_failing_seconds").await, 0.0);
    assert!(bridge.metric("bridge_worker_heartbeat_age_seconds").await < 30.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quiet_bridge_shows_no_banner() {
    let sandbox = Sandbox::start().await;
    let bridge = spawn_app(&sandbox).await;
    bridge.deliver(&fixture("inbound_answered")).await;
    bridge.drain().await;
    let (_, page) = get(&bridge, "/").await;
    assert!(!page.contains("id=sync-banner"), "{page}");
    assert_eq!(bridge.metric("bridge_sync_healthy").await, 1.0);
}

/// The `bridge_*` names in the rules' `expr:` lines.
fn metric_names_in_rules(rules: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in rules
        .lines()
        .filter(|l| l.trim_start().starts_with("expr:"))
    {
        let mut rest = line;
        while let Some(i) = rest.find("bridge_") {
            let name: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            rest = &rest[i + name.len()..];
            names.push(name);
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn the_alert_rules_use_metrics_the_bridge_exports_and_pass_promtool() {
    let rules_path = repo_path("deploy/prometheus-alerts.yml");
    let rules = std::fs::read_to_string(&rules_path).unwrap();
    let used = metric_names_in_rules(&rules);
    assert!(used.len() >= 6, "too few rules: {used:?}");

    // What a bridge on a bad day exports (every series has appeared), plus every counter the
    // bridge documents (some appear only once they count something).
    let sandbox = Sandbox::start().await;
    let bridge = a_bad_day(&sandbox).await;
    let text = bridge.metrics().await;
    let mut exported: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    exported.extend(
        aircall_monday_bridge::metrics::HELP
            .iter()
            .map(|(n, _)| n.to_string()),
    );
    for name in &used {
        assert!(
            exported.contains(name),
            "deploy/prometheus-alerts.yml uses {name}, which the bridge does not export:\n{text}"
        );
    }
    // Each rule says how bad it is and what to do.
    for rule in rules.split("- alert: ").skip(1) {
        for key in ["expr:", "severity:", "summary:", "description:"] {
            assert!(rule.contains(key), "a rule without {key}:\n{rule}");
        }
    }
    // The README's metrics table lists every series the alerts use.
    let readme = std::fs::read_to_string(repo_path("README.md")).unwrap();
    for name in &used {
        assert!(readme.contains(&format!("`{name}")), "README lacks {name}");
    }

    match Command::new("promtool").arg("--version").output() {
        Ok(_) => {
            // The exposition itself, as Prometheus' own linter reads it.
            let mut lint = Command::new("promtool")
                .args(["check", "metrics"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write as _;
            lint.stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let out = lint.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "promtool check metrics:\n{}{}\n{text}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            for args in [
                vec!["check", "rules", "prometheus-alerts.yml"],
                vec!["test", "rules", "prometheus-alerts.test.yml"],
            ] {
                let out = Command::new("promtool")
                    .args(&args)
                    .current_dir(repo_path("deploy"))
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "promtool {args:?}:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Err(_) => eprintln!(
            "promtool is not installed (apt-get install prometheus): the rules' syntax and \
             their unit tests are not evaluated"
        ),
    }
}
