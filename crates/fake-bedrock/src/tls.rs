//! HTTPS: a self-signed certificate made at start and the rustls server configuration.
//!
//! Rules: the crypto provider is aws-lc-rs, passed explicitly (never a process-wide default,
//! which a test process may have set to something else or not at all); the server offers ALPN
//! `h2` then `http/1.1`, as Bedrock's endpoints do, so a client offering both gets HTTP/2.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::Error;

/// The names the certificate is valid for: every way a loopback client may address the fake.
const SUBJECT_ALT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// ALPN protocol id of HTTP/2.
pub(crate) const ALPN_H2: &[u8] = b"h2";
/// ALPN protocol id of HTTP/1.1.
pub(crate) const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A server identity made at start: the certificate a client must trust (PEM) and the rustls
/// configuration that presents it.
pub(crate) struct Identity {
    /// The self-signed certificate, PEM-encoded.
    pub certificate_pem: String,
    /// The server configuration (ALPN `h2`, `http/1.1`).
    pub config: Arc<rustls::ServerConfig>,
}

fn tls_error(context: &str, err: impl std::fmt::Display) -> Error {
    Error::Tls {
        context: context.to_owned(),
        message: err.to_string(),
    }
}

/// Makes a fresh key pair and a self-signed certificate for `localhost`, `127.0.0.1` and
/// `::1`, and the server configuration presenting them.
pub(crate) fn identity() -> Result<Identity, Error> {
    let key = rcgen::KeyPair::generate()
        .map_err(|err| tls_error("generating the certificate's key pair", err))?;
    let names: Vec<String> = SUBJECT_ALT_NAMES.iter().map(|&n| n.to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names)
        .map_err(|err| tls_error("preparing the self-signed certificate", err))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "fake-bedrock");
    let certificate = params
        .self_signed(&key)
        .map_err(|err| tls_error("signing the self-signed certificate", err))?;
    let chain = vec![CertificateDer::from(certificate.der().to_vec())];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| tls_error("choosing the TLS versions", err))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|err| tls_error("loading the certificate into rustls", err))?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(Identity {
        certificate_pem: certificate.pem(),
        config: Arc::new(config),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_is_pem_and_alpn_prefers_h2() {
        let identity = identity().expect("identity");
        assert!(
            identity
                .certificate_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(
            identity.config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        // Two identities are two different certificates (a fresh key each start).
        assert_ne!(
            identity.certificate_pem,
            super::identity().expect("identity").certificate_pem
        );
    }
}
