//! HTTPS served by the bridge itself. The certificate lives in a [`CertificateSlot`], the
//! rustls resolver of the listener: a reload (SIGHUP) reads the pair again and swaps the slot's
//! `Arc`, so new handshakes get the new certificate while open connections carry on untouched.
//!
//! Defaults are rustls's with the ring provider: TLS 1.3 and 1.2 only, ECDHE key exchange and
//! AEAD suites only (AES-GCM, ChaCha20-Poly1305), no renegotiation, no compression.

use std::path::Path;
use std::sync::{Arc, RwLock};

use rustls::crypto::ring;
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ConfigError, Settings, TlsFile, TlsFiles, TlsOrigin};

/// Reads and checks the pair `files` names: PEM, a certificate chain, a key the provider can
/// sign with, and the key belonging to the first certificate. Errors name the file and the key
/// (or credential) that gave its path.
pub fn read_pair(files: &TlsFiles, source_name: &str) -> Result<CertifiedKey, ConfigError> {
    let fail = |file: &TlsFile, what: String| match file.origin {
        TlsOrigin::Key(key) => ConfigError::Invalid {
            source_name: source_name.to_string(),
            key: key.to_string(),
            message: format!("{}: {what}", file.path.display()),
        },
        TlsOrigin::Credential(name) => ConfigError::Secret {
            path: file.path.clone(),
            message: format!("the credential {name}: {what}"),
        },
    };
    let cert_pem = read(&files.certificate.path).map_err(|m| fail(&files.certificate, m))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            fail(
                &files.certificate,
                format!("not a PEM certificate file ({e})"),
            )
        })?;
    if chain.is_empty() {
        return Err(fail(
            &files.certificate,
            "no certificate in the file (expected PEM \"-----BEGIN CERTIFICATE-----\" blocks, \
             the server's certificate first, e.g. Let's Encrypt's fullchain.pem)"
                .into(),
        ));
    }
    let key_pem = read(&files.key.path).map_err(|m| fail(&files.key, m))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        fail(
            &files.key,
            format!(
                "no private key in the file ({e}); expected a PEM \"PRIVATE KEY\" block \
                 (PKCS#8, PKCS#1 or SEC1), e.g. Let's Encrypt's privkey.pem"
            ),
        )
    })?;
    let signing = ring::sign::any_supported_type(&key)
        .map_err(|e| fail(&files.key, format!("unusable private key: {e}")))?;
    let pair = CertifiedKey::new(chain, signing);
    match pair.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(fail(
                &files.key,
                format!(
                    "this key does not belong to the certificate in {} (was only one of the \
                     two files renewed?)",
                    files.certificate.path.display()
                ),
            ))
        }
        Err(e) => {
            return Err(fail(
                &files.certificate,
                format!("the first certificate does not parse: {e}"),
            ))
        }
    }
    Ok(pair)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "cannot read (permission denied): the \
             systemd service runs as a dynamic user that cannot read root-only files; let the \
             unit load the pair as the credentials tls_certificate and tls_key (README, \"TLS\")"
            .to_string(),
        _ => format!("cannot read: {e}"),
    })
}

/// The pair the settings ask for, read and checked, or `None` for plain HTTP.
pub fn load(settings: &Settings) -> Result<Option<CertifiedKey>, ConfigError> {
    settings
        .server
        .tls
        .files
        .as_ref()
        .map(|files| read_pair(files, &settings.source))
        .transpose()
}

/// The certificate the public listener serves; swapped whole on reload.
#[derive(Debug)]
pub struct CertificateSlot(RwLock<Arc<CertifiedKey>>);

impl CertificateSlot {
    pub fn new(pair: CertifiedKey) -> Arc<CertificateSlot> {
        Arc::new(CertificateSlot(RwLock::new(Arc::new(pair))))
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        match self.0.read() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// From the next handshake on, `pair` is served.
    pub fn replace(&self, pair: CertifiedKey) {
        let mut slot = match self.0.write() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        *slot = Arc::new(pair);
    }

    /// One reload from the settings just read: the new pair, or the old one kept (logged).
    pub fn reload(&self, settings: &Settings) -> bool {
        let Some(files) = &settings.server.tls.files else {
            tracing::error!(
                "TLS reload failed: the configuration no longer gives a certificate; the \
                 bridge keeps serving HTTPS with the one in force (restart to serve plain HTTP)"
            );
            return false;
        };
        match read_pair(files, &settings.source) {
            Ok(pair) => {
                self.replace(pair);
                tracing::info!(
                    certificate = %files.certificate.path.display(),
                    "TLS certificate reloaded: new connections get it"
                );
                true
            }
            Err(error) => {
                tracing::error!(%error, "TLS reload failed: the certificate in force stays");
                false
            }
        }
    }
}

impl ResolvesServerCert for CertificateSlot {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The listener's rustls configuration: the ring provider's safe defaults (TLS 1.3 and 1.2),
/// no client certificates, the certificate from `slot`.
pub fn server_config(slot: Arc<CertificateSlot>) -> ServerConfig {
    ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        // The ring provider's defaults are consistent; this cannot fail.
        .expect("the ring provider supports TLS 1.3 and 1.2")
        .with_no_client_auth()
        .with_cert_resolver(slot)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    struct Pair {
        _dir: tempfile::TempDir,
        files: TlsFiles,
        cert_pem: String,
        key_pem: String,
    }

    fn pair() -> Pair {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert_pem, key_pem) = (generated.cert.pem(), generated.key_pair.serialize_pem());
        let file = |name: &str, text: &str, key: &'static str| {
            let path: PathBuf = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            TlsFile {
                path,
                origin: TlsOrigin::Key(key),
            }
        };
        let files = TlsFiles {
            certificate: file("cert.pem", &cert_pem, "server.tls.certificate_file"),
            key: file("key.pem", &key_pem, "server.tls.key_file"),
        };
        Pair {
            _dir: dir,
            files,
            cert_pem,
            key_pem,
        }
    }

    fn error(files: &TlsFiles) -> String {
        read_pair(files, "f.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_generated_pair_loads() {
        let p = pair();
        let loaded = read_pair(&p.files, "f.toml").unwrap();
        assert_eq!(loaded.cert.len(), 1);
    }

    #[test]
    fn a_missing_file_is_named_with_its_key() {
        let mut p = pair();
        p.files.certificate.path = p.files.certificate.path.with_file_name("nope.pem");
        let e = error(&p.files);
        assert!(
            e.starts_with("f.toml: key `server.tls.certificate_file`: "),
            "{e}"
        );
        assert!(e.contains("nope.pem: no such file"), "{e}");
    }

    #[test]
    fn files_swapped_or_garbled_are_refused_naming_the_file_and_key() {
        let p = pair();
        // The key where the certificate should be: no certificate in it.
        std::fs::write(&p.files.certificate.path, &p.key_pem).unwrap();
        let e = error(&p.files);
        assert!(e.contains("key `server.tls.certificate_file`"), "{e}");
        assert!(e.contains("no certificate in the file"), "{e}");
        // The certificate where the key should be.
        std::fs::write(&p.files.certificate.path, &p.cert_pem).unwrap();
        std::fs::write(&p.files.key.path, &p.cert_pem).unwrap();
        let e = error(&p.files);
        assert!(e.contains("key `server.tls.key_file`"), "{e}");
        assert!(e.contains("key.pem: no private key in the file"), "{e}");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let p = pair();
        let other = pair();
        std::fs::write(&p.files.key.path, &other.key_pem).unwrap();
        let e = error(&p.files);
        assert!(e.contains("key `server.tls.key_file`"), "{e}");
        assert!(e.contains("does not belong to the certificate"), "{e}");
    }

    #[test]
    fn a_credential_is_named_as_one() {
        let mut p = pair();
        p.files.key.origin = TlsOrigin::Credential("tls_key");
        std::fs::write(&p.files.key.path, "garbage").unwrap();
        let e = error(&p.files);
        assert!(
            e.contains("key.pem: the credential tls_key: no private key"),
            "{e}"
        );
    }

    #[test]
    fn the_slot_serves_the_pair_swapped_in() {
        let a = pair();
        let b = pair();
        let slot = CertificateSlot::new(read_pair(&a.files, "f").unwrap());
        let first = slot.current();
        slot.replace(read_pair(&b.files, "f").unwrap());
        assert_ne!(first.cert, slot.current().cert);
        let config = server_config(slot);
        assert!(
            config.alpn_protocols.is_empty(),
            "actix adds http/1.1 itself"
        );
    }
}
