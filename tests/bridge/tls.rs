//! HTTPS served by the bridge itself (`[server.tls]`), against the real binary with
//! certificates made here by rcgen: a webhook over HTTPS reaches the board; a certificate
//! swapped and reloaded on SIGHUP while a client keeps posting (every post answered 200 on the
//! connection it had, new connections get the new certificate); a bad pair refused by `check`
//! and at start, naming the file and the key, and kept out by a reload.
//!
//! Long on purpose: HTTPS served, reloaded and refused, with the certificate fixtures they share.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

const WAIT: Duration = Duration::from_secs(20);
const RELOADED: &str = "TLS certificate reloaded";
const RELOAD_FAILED: &str = "TLS reload failed";

/// A self-signed certificate for localhost and 127.0.0.1, and its key, as PEM.
struct Pair {
    cert_pem: String,
    key_pem: String,
    der: Vec<u8>,
}

fn generate() -> Pair {
    let g =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    Pair {
        cert_pem: g.cert.pem(),
        key_pem: g.key_pair.serialize_pem(),
        der: g.cert.der().to_vec(),
    }
}

/// Writes the pair as a renewal does: each file replaced whole (a new file renamed over it).
fn install(pair: &Pair, cert: &Path, key: &Path) {
    for (path, text) in [(cert, &pair.cert_pem), (key, &pair.key_pem)] {
        let tmp = path.with_extension("new");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }
}

/// A client that trusts exactly these certificates and reports the one it was served.
fn client(trusted: &[&Pair], reuse_connections: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .tls_info(true)
        .timeout(Duration::from_secs(10));
    for p in trusted {
        b = b.add_root_certificate(reqwest::Certificate::from_pem(p.cert_pem.as_bytes()).unwrap());
    }
    if !reuse_connections {
        b = b.pool_max_idle_per_host(0);
    }
    b.build().unwrap()
}

/// A post's status and the certificate its connection was served.
type Answer = (u16, Vec<u8>);

fn served_certificate(r: &reqwest::Response) -> Vec<u8> {
    r.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|i| i.peer_certificate())
        .expect("a TLS response carries the peer certificate")
        .to_vec()
}

fn url(bridge: &Bridge) -> String {
    format!(
        "https://localhost:{}/webhooks/aircall",
        bridge.public.port()
    )
}

/// The certificate a brand-new connection is served.
async fn fresh_connection_certificate(bridge: &Bridge, trusted: &[&Pair]) -> Vec<u8> {
    let r = client(trusted, false)
        .get(format!("https://localhost:{}/", bridge.public.port()))
        .send()
        .await
        .unwrap();
    served_certificate(&r)
}

async fn log_count(bridge: &Bridge, line: &str, more_than: usize) {
    eventually(WAIT, line, || async {
        (bridge.log().matches(line).count() > more_than).then_some(())
    })
    .await;
}

fn tls_env(cert: &Path, key: &Path) -> Vec<(String, String)> {
    vec![
        (
            "BRIDGE__SERVER__TLS__CERTIFICATE_FILE".into(),
            cert.display().to_string(),
        ),
        (
            "BRIDGE__SERVER__TLS__KEY_FILE".into(),
            key.display().to_string(),
        ),
    ]
}

async fn start(sandbox: &Sandbox, env: &[(String, String)]) -> Bridge {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Bridge::start(sandbox, &env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_over_https_is_stored_and_a_reloaded_certificate_drops_no_post() {
    let sandbox = Sandbox::start().await;
    let tls_dir = tempfile::tempdir().unwrap();
    let (cert, key) = (
        tls_dir.path().join("cert.pem"),
        tls_dir.path().join("key.pem"),
    );
    let (old, new) = (generate(), generate());
    install(&old, &cert, &key);
    let bridge = start(&sandbox, &tls_env(&cert, &key)).await;

    // A webhook over HTTPS: acknowledged as stored, and its call reaches the board.
    let created = fixture("inbound_answered")
        .into_iter()
        .find(|e| e["event"] == "call.created")
        .unwrap();
    let call_id = created["data"]["id"].as_u64().unwrap();
    let https = client(&[&old, &new], true);
    let r = https
        .post(url(&bridge))
        .json(&created)
        .send()
        .await
        .unwrap();
    assert_eq!(served_certificate(&r), old.der);
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "stored"})
    );
    eventually(WAIT, "the call's item", || async {
        (sandbox.items_for(CALLS_BOARD, call_id).await.len() == 1).then_some(())
    })
    .await;
    // Plain HTTP on the same port is no webhook.
    assert!(bridge
        .http
        .post(format!("http://{}/webhooks/aircall", bridge.public))
        .json(&created)
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true));

    // A client that keeps posting on its connection while the certificate is swapped.
    let stop = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicUsize::new(0));
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let poster = {
        let (stop, posted, answers) = (stop.clone(), posted.clone(), answers.clone());
        let (https, url, mut envelope) = (https.clone(), url(&bridge), created.clone());
        tokio::spawn(async move {
            let start = envelope["timestamp"].as_i64().unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                // A new delivery each time (a later timestamp), so each one is stored.
                envelope["timestamp"] = json!(start + n);
                let r = https.post(&url).json(&envelope).send().await.unwrap();
                let answer = (r.status().as_u16(), served_certificate(&r));
                answers.lock().unwrap().push(answer);
                posted.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let posted_at = |n: usize| {
        let posted = posted.clone();
        async move {
            eventually(WAIT, "more posts", || async {
                (posted.load(Ordering::Relaxed) >= n).then_some(())
            })
            .await
        }
    };
    posted_at(5).await;

    let reloads = bridge.log().matches(RELOADED).count();
    install(&new, &cert, &key);
    bridge.hup();
    log_count(&bridge, RELOADED, reloads).await;
    let after_reload = posted.load(Ordering::Relaxed);
    assert_eq!(
        fresh_connection_certificate(&bridge, &[&old, &new]).await,
        new.der,
        "a new connection after the reload gets the new certificate"
    );
    posted_at(after_reload + 5).await;
    stop.store(true, Ordering::Relaxed);
    poster.await.unwrap();

    let answers = answers.lock().unwrap().clone();
    assert!(answers.len() >= 10, "{} posts", answers.len());
    for (i, (status, served)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "post {i} of {}", answers.len());
        // The poster's connection was never dropped: it still speaks the session it opened
        // with the old certificate (a reconnect would have been served the new one).
        assert_eq!(
            served, &old.der,
            "post {i}: the connection was re-established"
        );
    }
    // Every post was stored: its event is in the journal.
    let stored = bridge
        .store()
        .await
        .events(Default::default(), 100_000)
        .await
        .unwrap()
        .len();
    assert_eq!(
        stored,
        answers.len() + 1,
        "every acknowledged post is stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_pair_is_refused_by_check_and_at_start_and_a_reload_keeps_the_good_one() {
    let sandbox = Sandbox::start().await;
    let tls_dir = tempfile::tempdir().unwrap();
    let (cert, key) = (
        tls_dir.path().join("cert.pem"),
        tls_dir.path().join("key.pem"),
    );
    let (good, other) = (generate(), generate());
    install(&good, &cert, &key);
    let bridge = start(&sandbox, &tls_env(&cert, &key)).await;
    let config = bridge.config_path().display().to_string();
    let check = || bridge.cli(&["check", "--config", &config]);
    let (code, out, err) = check();
    assert_eq!(code, 0, "{out}{err}");

    // Only the key was renewed: it no longer belongs to the certificate.
    std::fs::write(&key, &other.key_pem).unwrap();
    let (code, _, err) = check();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("key `server.tls.key_file`"), "{err}");
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(err.contains("does not belong to the certificate"), "{err}");
    // A reload (SIGHUP without the unit's check) keeps serving the good pair.
    let failures = bridge.log().matches(RELOAD_FAILED).count();
    bridge.hup();
    log_count(&bridge, RELOAD_FAILED, failures).await;
    assert_eq!(
        fresh_connection_certificate(&bridge, &[&good, &other]).await,
        good.der
    );
    // And a start with that pair is a configuration error (exit 2), naming the key.
    let mut env = bridge.env().to_vec();
    env.retain(|(k, _)| !k.starts_with("BRIDGE__SERVER__"));
    env.push(("BRIDGE__SERVER__LISTEN".into(), "127.0.0.1:0".into()));
    env.push(("BRIDGE__SERVER__ADMIN_LISTEN".into(), "127.0.0.1:0".into()));
    env.extend(tls_env(&cert, &key));
    let other_db = tls_dir.path().join("other.db").display().to_string();
    env.retain(|(k, _)| k != "BRIDGE__STORE__PATH");
    env.push(("BRIDGE__STORE__PATH".into(), other_db));
    let (code, _, err) = cli(&env, &["run", "--config", &config]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("key `server.tls.key_file`"), "{err}");

    // The certificate file missing: named with its key.
    std::fs::remove_file(&cert).unwrap();
    let (code, _, err) = check();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "key `server.tls.certificate_file`: {}: no such file",
            cert.display()
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pair_can_come_as_systemd_credentials() {
    let sandbox = Sandbox::start().await;
    let credentials = tempfile::tempdir().unwrap();
    let pair = generate();
    let dir: PathBuf = credentials.path().to_path_buf();
    std::fs::write(dir.join("tls_certificate"), &pair.cert_pem).unwrap();
    // As the unit's SetCredential= stands in for a missing file: blank means absent.
    std::fs::write(dir.join("tls_key"), "\n").unwrap();
    let env = vec![(
        "CREDENTIALS_DIRECTORY".to_string(),
        dir.display().to_string(),
    )];
    let mut check_env = sandbox_env(&sandbox);
    check_env.extend(env.clone());
    let example = repo_path("config/example.toml").display().to_string();
    let (code, _, err) = cli(&check_env, &["check", "--config", &example]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the credential tls_certificate is given but tls_key is missing"),
        "{err}"
    );

    std::fs::write(dir.join("tls_key"), &pair.key_pem).unwrap();
    let (code, out, err) = cli(&check_env, &["check", "--config", &example]);
    assert_eq!(code, 0, "{out}{err}");
    let bridge = start(&sandbox, &env).await;
    let created = fixture("inbound_answered")
        .into_iter()
        .find(|e| e["event"] == "call.created")
        .unwrap();
    let r = client(&[&pair], true)
        .post(url(&bridge))
        .json(&created)
        .send()
        .await
        .unwrap();
    assert_eq!(served_certificate(&r), pair.der);
    assert_eq!(r.status(), 200);
}
