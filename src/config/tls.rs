//! Where the public listener's certificate and key come from (`[server.tls]`): two files, or
//! the systemd credentials `tls_certificate` and `tls_key`. Neither means plain HTTP (a reverse
//! proxy in front terminates TLS). The files themselves are read and checked by `crate::tls`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM: the server's certificate first, then the intermediates (Let's Encrypt's
    /// `fullchain.pem`).
    pub certificate_file: Option<PathBuf>,
    /// PEM: the private key of that certificate (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// Time a client has to finish the TLS handshake.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Resolved by `Settings::load`: where the pair is read from; `None` serves plain HTTP.
    #[serde(skip)]
    pub files: Option<TlsFiles>,
}

/// The certificate and key files in force, with the name each is known by in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub certificate: TlsFile,
    pub key: TlsFile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFile {
    pub path: PathBuf,
    pub origin: Origin,
}

/// Where a file's path came from, for a message that says what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A configuration key (`server.tls.certificate_file`).
    Key(&'static str),
    /// A systemd credential (`tls_certificate`).
    Credential(&'static str),
}

pub const CERTIFICATE_KEY: &str = "server.tls.certificate_file";
pub const KEY_KEY: &str = "server.tls.key_file";
pub const CERTIFICATE_CREDENTIAL: &str = "tls_certificate";
pub const KEY_CREDENTIAL: &str = "tls_key";

/// Picks the pair: the two keys when either is set (both are then required), else the two
/// credentials when either holds something. The unit's `SetCredential=` stands in a blank
/// credential for a missing file, so a blank one counts as absent.
pub(super) fn resolve(
    tls: &mut TlsSettings,
    source_name: &str,
    credentials: Option<&Path>,
) -> Result<(), ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        source_name: source_name.to_string(),
        key: key.to_string(),
        message,
    };
    tls.files = match (&tls.certificate_file, &tls.key_file) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            certificate: TlsFile {
                path: cert.clone(),
                origin: Origin::Key(CERTIFICATE_KEY),
            },
            key: TlsFile {
                path: key.clone(),
                origin: Origin::Key(KEY_KEY),
            },
        }),
        (Some(_), None) => {
            return Err(invalid(
                KEY_KEY,
                format!("{CERTIFICATE_KEY} is set: set the key file beside it (both or neither)"),
            ))
        }
        (None, Some(_)) => {
            return Err(invalid(
                CERTIFICATE_KEY,
                format!("{KEY_KEY} is set: set the certificate file beside it (both or neither)"),
            ))
        }
        (None, None) => {
            let present = |name: &str| {
                let path = credentials?.join(name);
                let text = std::fs::read(&path).ok()?;
                (!text.iter().all(u8::is_ascii_whitespace)).then_some(path)
            };
            match (present(CERTIFICATE_CREDENTIAL), present(KEY_CREDENTIAL)) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    certificate: TlsFile {
                        path: cert,
                        origin: Origin::Credential(CERTIFICATE_CREDENTIAL),
                    },
                    key: TlsFile {
                        path: key,
                        origin: Origin::Credential(KEY_CREDENTIAL),
                    },
                }),
                (None, None) => None,
                (Some(path), None) | (None, Some(path)) => {
                    let (have, missing) = if path.ends_with(CERTIFICATE_CREDENTIAL) {
                        (CERTIFICATE_CREDENTIAL, KEY_CREDENTIAL)
                    } else {
                        (KEY_CREDENTIAL, CERTIFICATE_CREDENTIAL)
                    };
                    return Err(ConfigError::Secret {
                        path,
                        message: format!(
                            "the credential {have} is given but {missing} is missing or empty: \
                             TLS needs both (/etc/aircall-monday-bridge/credentials/{missing})"
                        ),
                    });
                }
            }
        }
    };
    if tls.handshake_timeout.is_zero() {
        return Err(invalid(
            "server.tls.handshake_timeout",
            "expected a duration above zero, e.g. \"5s\"".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(cert: Option<&str>, key: Option<&str>) -> TlsSettings {
        TlsSettings {
            certificate_file: cert.map(PathBuf::from),
            key_file: key.map(PathBuf::from),
            handshake_timeout: Duration::from_secs(5),
            files: None,
        }
    }

    #[test]
    fn neither_key_nor_credential_is_plain_http() {
        let dir = tempfile::tempdir().unwrap();
        let mut tls = settings(None, None);
        resolve(&mut tls, "f.toml", Some(dir.path())).unwrap();
        assert_eq!(tls.files, None);
        resolve(&mut tls, "f.toml", None).unwrap();
        assert_eq!(tls.files, None);
    }

    #[test]
    fn one_key_of_the_pair_is_refused_naming_the_other() {
        let e = resolve(&mut settings(Some("/c.pem"), None), "f.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.toml: key `server.tls.key_file`"), "{e}");
        let e = resolve(&mut settings(None, Some("/k.pem")), "f.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("key `server.tls.certificate_file`"), "{e}");
    }

    #[test]
    fn the_keys_win_over_the_credentials() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tls_certificate"), "x").unwrap();
        std::fs::write(dir.path().join("tls_key"), "y").unwrap();
        let mut tls = settings(Some("/c.pem"), Some("/k.pem"));
        resolve(&mut tls, "f.toml", Some(dir.path())).unwrap();
        let files = tls.files.unwrap();
        assert_eq!(files.certificate.path, Path::new("/c.pem"));
        assert_eq!(files.key.origin, Origin::Key(KEY_KEY));
    }

    #[test]
    fn both_credentials_serve_https_and_blank_ones_count_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        // What the unit's SetCredential= stands in for a missing file.
        std::fs::write(dir.path().join("tls_certificate"), "\n").unwrap();
        std::fs::write(dir.path().join("tls_key"), "\n").unwrap();
        let mut tls = settings(None, None);
        resolve(&mut tls, "f.toml", Some(dir.path())).unwrap();
        assert_eq!(tls.files, None, "blank credentials: plain HTTP");

        std::fs::write(dir.path().join("tls_certificate"), "cert").unwrap();
        let e = resolve(&mut tls, "f.toml", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("tls_certificate is given but tls_key is missing"),
            "{e}"
        );
        assert!(e.contains(&dir.path().display().to_string()), "{e}");

        std::fs::write(dir.path().join("tls_key"), "key").unwrap();
        resolve(&mut tls, "f.toml", Some(dir.path())).unwrap();
        let files = tls.files.unwrap();
        assert_eq!(files.key.path, dir.path().join("tls_key"));
        assert_eq!(
            files.certificate.origin,
            Origin::Credential("tls_certificate")
        );
    }
}
