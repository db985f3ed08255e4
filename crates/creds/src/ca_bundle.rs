//! Extra CA certificates to trust for HTTPS to AWS: `AWS_CA_BUNDLE`, else the selected profile's
//! `ca_bundle`, as every other AWS SDK and the AWS CLI read them.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_smithy_http_client::tls::{TlsContext, TrustStore};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

use crate::{Env, Error};

/// The environment variable naming a CA bundle file: `AWS_CA_BUNDLE`.
pub const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";

/// The largest CA bundle file read, 16 MiB (the system bundles are a few hundred KiB); a larger
/// file, or a device that never ends, is refused instead of being read into memory.
pub const CA_BUNDLE_MAX_BYTES: u64 = 16 * 1024 * 1024;

/// Where a CA bundle path came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaBundleSource {
    /// The `AWS_CA_BUNDLE` environment variable.
    EnvVar,
    /// The `ca_bundle` key of a profile in the shared config file.
    Profile {
        /// The profile (`AWS_PROFILE`, else `default`).
        profile: String,
        /// The config file (`AWS_CONFIG_FILE`, else `~/.aws/config`, home expanded).
        file: String,
    },
}

impl fmt::Display for CaBundleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaBundleSource::EnvVar => f.write_str(CA_BUNDLE_VAR),
            CaBundleSource::Profile { profile, file } => {
                write!(f, "`ca_bundle` in profile `{profile}` of {file}")
            }
        }
    }
}

/// Why a CA bundle file cannot be used ([`Error::InvalidCaBundle`]). The messages never quote
/// the file's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaBundleProblem {
    /// The file cannot be read (missing, a directory, no permission); the I/O error's text.
    Unreadable(String),
    /// The file is larger than [`CA_BUNDLE_MAX_BYTES`].
    TooLarge,
    /// A PEM block is malformed; what is wrong, and how many certificates came before it.
    InvalidPem {
        /// What is wrong with the block.
        reason: &'static str,
        /// The certificates read before it.
        after: usize,
    },
    /// The file holds no `CERTIFICATE` PEM block.
    NoCertificate,
    /// A certificate block does not hold a certificate usable as a trust anchor.
    InvalidCertificate {
        /// Its position in the file, from 1.
        index: usize,
        /// Why the TLS library refused it.
        reason: String,
    },
}

impl fmt::Display for CaBundleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaBundleProblem::Unreadable(err) => write!(f, "cannot read it ({err})"),
            CaBundleProblem::TooLarge => {
                write!(f, "it is larger than {} MiB", CA_BUNDLE_MAX_BYTES >> 20)
            }
            CaBundleProblem::InvalidPem { reason, after } => {
                let plural = if *after == 1 { "" } else { "s" };
                write!(f, "{reason} (after {after} certificate{plural})")
            }
            CaBundleProblem::NoCertificate => f.write_str("it holds no PEM certificate"),
            CaBundleProblem::InvalidCertificate { index, reason } => {
                write!(
                    f,
                    "certificate {index} is not a usable CA certificate ({reason})"
                )
            }
        }
    }
}

/// A CA bundle read and checked: PEM certificates that HTTPS connections to AWS trust in
/// addition to the system's roots (they never replace them).
///
/// Read once, when the settings are built ([`CaBundle::from_env`]): a bad file is a
/// configuration error at startup, not a failure of the first request. `Debug` shows the path,
/// where it came from and the number of certificates.
#[derive(Clone)]
pub struct CaBundle {
    path: PathBuf,
    source: CaBundleSource,
    pem: Arc<[u8]>,
    certificates: usize,
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.path)
            .field("source", &self.source)
            .field("certificates", &self.certificates)
            .finish_non_exhaustive()
    }
}

impl PartialEq for CaBundle {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.source == other.source && self.pem == other.pem
    }
}

impl Eq for CaBundle {}

impl CaBundle {
    /// The bundle `env` names, as the AWS CLI finds it: `AWS_CA_BUNDLE`, else the `ca_bundle`
    /// of the selected profile (`AWS_PROFILE`, else `default`) in the shared config file
    /// (`AWS_CONFIG_FILE`, else `~/.aws/config`). Blank values count as unset; a relative path is
    /// relative to the working directory. `Ok(None)` when neither is set.
    ///
    /// Fails with [`Error::InvalidCaBundle`] when the file named cannot be read or holds no
    /// usable PEM certificate; a bad `AWS_CA_BUNDLE` is reported, not skipped for the profile's.
    pub fn from_env(env: &Env) -> Result<Option<Self>, Error> {
        if let Some(path) = env.get_nonempty(CA_BUNDLE_VAR) {
            return Self::from_file(path, CaBundleSource::EnvVar).map(Some);
        }
        match crate::shared_config::ca_bundle(env) {
            Some(setting) => Self::from_file(
                &setting.path,
                CaBundleSource::Profile {
                    profile: setting.profile,
                    file: setting.file,
                },
            )
            .map(Some),
            None => Ok(None),
        }
    }

    /// Reads and checks the PEM file at `path`: at least one `CERTIFICATE` block, every one of
    /// them a certificate the TLS library accepts as a trust anchor, every PEM block well formed.
    /// Other PEM blocks are ignored. `source` is named in errors.
    pub fn from_file(path: impl AsRef<Path>, source: CaBundleSource) -> Result<Self, Error> {
        let path = path.as_ref();
        let invalid = |problem| Error::InvalidCaBundle {
            path: path.display().to_string(),
            origin: source.clone(),
            problem,
        };
        let pem = read_limited(path).map_err(invalid)?;
        let certificates = check(&pem).map_err(invalid)?;
        Ok(Self {
            path: path.to_path_buf(),
            source,
            pem: pem.into(),
            certificates,
        })
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the path came from.
    pub fn source(&self) -> &CaBundleSource {
        &self.source
    }

    /// The number of certificates in the file.
    pub fn certificates(&self) -> usize {
        self.certificates
    }

    /// The TLS context of the SDK's HTTP client: the system's roots and these certificates.
    pub(crate) fn tls_context(&self) -> TlsContext {
        TlsContext::builder()
            .with_trust_store(TrustStore::default().with_pem_certificate(self.pem.to_vec()))
            .build()
            .unwrap_or_default()
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, CaBundleProblem> {
    let unreadable = |err: std::io::Error| CaBundleProblem::Unreadable(err.to_string());
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut pem = Vec::new();
    file.take(CA_BUNDLE_MAX_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(unreadable)?;
    if pem.len() as u64 > CA_BUNDLE_MAX_BYTES {
        return Err(CaBundleProblem::TooLarge);
    }
    Ok(pem)
}

/// Checks `pem` the way the SDK's rustls client loads it, so that loading cannot fail later
/// (it panics there): every block parsed by `CertificateDer::pem_slice_iter`, every certificate
/// added to a `RootCertStore`. Returns the number of certificates.
fn check(pem: &[u8]) -> Result<usize, CaBundleProblem> {
    let mut roots = rustls::RootCertStore::empty();
    for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|err| CaBundleProblem::InvalidPem {
            reason: pem_problem(&err),
            after: i,
        })?;
        roots
            .add(cert)
            .map_err(|err| CaBundleProblem::InvalidCertificate {
                index: i + 1,
                reason: err.to_string(),
            })?;
    }
    match roots.len() {
        0 => Err(CaBundleProblem::NoCertificate),
        n => Ok(n),
    }
}

/// What is wrong with a PEM block, without quoting it (rustls's messages quote the line).
fn pem_problem(err: &pem::Error) -> &'static str {
    match err {
        pem::Error::MissingSectionEnd { .. } => "a PEM block has no `-----END` line",
        pem::Error::IllegalSectionStart { .. } => "a `-----BEGIN` line is malformed",
        pem::Error::Base64Decode(_) => "a PEM block is not valid base64",
        pem::Error::SectionTooLarge => "a PEM block is too large",
        _ => "the file is not valid PEM",
    }
}

/// What to do about a certificate [`is_untrusted_certificate`] finds, for the end of an error
/// message (after `: `).
pub const UNTRUSTED_CERTIFICATE_HINT: &str = "the endpoint's TLS certificate is not signed by a \
     trusted CA; behind a TLS-inspecting proxy or for a private CA, set AWS_CA_BUNDLE (or \
     `ca_bundle` in the AWS profile) to a PEM file of that CA";

/// Whether `err`'s cause chain holds a TLS handshake refusal because the server's certificate
/// chains to no trusted root (rustls's `UnknownIssuer`): a TLS-inspecting proxy, a private CA or
/// a self-signed certificate that `AWS_CA_BUNDLE` / `ca_bundle` does not name.
///
/// Walks `source()` and the payload of each `std::io::Error` (whose `source()` skips it: the
/// TLS error sits inside two of them).
pub fn is_untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> bool {
    use rustls::{CertificateError, Error as TlsError};
    let mut stack = vec![err];
    while let Some(e) = stack.pop() {
        if let Some(TlsError::InvalidCertificate(cert)) = e.downcast_ref::<TlsError>() {
            return matches!(cert, CertificateError::UnknownIssuer);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            stack.push(inner as &(dyn std::error::Error + 'static));
        }
        if let Some(next) = e.source() {
            stack.push(next);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AwsSettings, ConnectionPool, ResolvedRegion};

    /// A self-signed CA certificate (P-256, valid until 2126); only parsed, never served.
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjDCCATOgAwIBAgIUZLwpJe4sGfV+fy5rWnCNz5yddS0wCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQb3BlbmNsYXcgdGVzdCBDQTAgFw0yNjExMzAwODAwMDdaGA8y
MTI2MTEwNjA4MDAwN1owGzEZMBcGA1UEAwwQb3BlbmNsYXcgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABHV0YLA0wGWw3hfvkatWHMBACHemxiw81uNk
PZWh+COVHT3eiPvwGVHCF0xd2IEADpQvAxfjReBQkR4FR+EqoHmjUzBRMB0GA1Ud
DgQWBBSm2ZMFYOKuoLjaTqq3jN0X7y6M/zAfBgNVHSMEGDAWgBSm2ZMFYOKuoLja
Tqq3jN0X7y6M/zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCICW/
TEhG+3leuz8aLqfS+pVzOQV6bFNafigrWp28KSslAiAwblyL//GAPwTAspujuZ+r
HYGsnbXWLxkoIjieyuEOzw==
-----END CERTIFICATE-----
";

    /// A temporary `HOME` (so the machine's `~/.aws` never leaks in) and files under it.
    struct Home(tempfile::TempDir);

    impl Home {
        fn new() -> Self {
            Self(tempfile::tempdir().unwrap())
        }

        fn path(&self, relative: &str) -> String {
            self.0.path().join(relative).to_str().unwrap().to_string()
        }

        fn write(&self, relative: &str, contents: &str) -> String {
            let path = self.0.path().join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, contents).unwrap();
            path.to_str().unwrap().to_string()
        }

        fn env(&self, pairs: &[(&str, &str)]) -> Env {
            Env::from_pairs(pairs.iter().copied()).with("HOME", self.path(""))
        }
    }

    fn message(result: Result<Option<CaBundle>, Error>) -> String {
        let err = result.unwrap_err();
        assert!(matches!(err, Error::InvalidCaBundle { .. }), "{err:?}");
        err.to_string()
    }

    const EXPECTED: &str = "expected a readable file of PEM-encoded CA certificates (`-----BEGIN CERTIFICATE-----` blocks)";

    #[test]
    fn the_variable_beats_the_profile_and_blank_is_unset() {
        let home = Home::new();
        let env_pem = home.write("env.pem", TEST_CA);
        let profile_pem = home.write("profile.pem", &format!("{TEST_CA}{TEST_CA}"));
        home.write(
            ".aws/config",
            &format!("[default]\nca_bundle = {profile_pem}\n[profile work]\nregion = eu-west-1\n"),
        );

        let bundle = CaBundle::from_env(&home.env(&[(CA_BUNDLE_VAR, &env_pem)]))
            .unwrap()
            .unwrap();
        assert_eq!(bundle.source(), &CaBundleSource::EnvVar);
        assert_eq!(bundle.path(), Path::new(&env_pem));
        assert_eq!(bundle.certificates(), 1);

        for blank in ["", "  "] {
            let bundle = CaBundle::from_env(&home.env(&[(CA_BUNDLE_VAR, blank)]))
                .unwrap()
                .unwrap();
            assert_eq!(
                bundle.source(),
                &CaBundleSource::Profile {
                    profile: "default".into(),
                    file: home.path(".aws/config"),
                },
                "a blank variable falls through to the profile"
            );
            assert_eq!(bundle.path(), Path::new(&profile_pem));
            assert_eq!(bundle.certificates(), 2);
        }

        // The selected profile is the credentials' one: `work` sets none.
        let env = home.env(&[("AWS_PROFILE", "work")]);
        assert_eq!(CaBundle::from_env(&env).unwrap(), None);
        assert_eq!(CaBundle::from_env(&Home::new().env(&[])).unwrap(), None);
    }

    #[test]
    fn the_profile_key_is_read_from_the_config_file_only() {
        let home = Home::new();
        let pem = home.write("ca.pem", TEST_CA);
        let config = home.write(
            "elsewhere/config",
            &format!("[profile work]\nca_bundle = {pem}\n"),
        );
        let env = home.env(&[("AWS_PROFILE", "work"), ("AWS_CONFIG_FILE", &config)]);
        let bundle = CaBundle::from_env(&env).unwrap().unwrap();
        assert_eq!(
            bundle.source(),
            &CaBundleSource::Profile {
                profile: "work".into(),
                file: config.clone(),
            }
        );
        assert_eq!(
            bundle.source().to_string(),
            format!("`ca_bundle` in profile `work` of {config}")
        );

        // `~` in AWS_CONFIG_FILE is the home directory, as aws-config reads it.
        home.write(
            ".aws/other",
            &format!("[profile work]\nca_bundle = {pem}\n"),
        );
        let env = home.env(&[("AWS_PROFILE", "work"), ("AWS_CONFIG_FILE", "~/.aws/other")]);
        let bundle = CaBundle::from_env(&env).unwrap().unwrap();
        assert_eq!(
            bundle.source(),
            &CaBundleSource::Profile {
                profile: "work".into(),
                file: home.path(".aws/other"),
            }
        );

        // The AWS CLI does not read `ca_bundle` from the credentials file; neither do we.
        let home = Home::new();
        let pem = home.write("ca.pem", TEST_CA);
        home.write(
            ".aws/credentials",
            &format!("[default]\nca_bundle = {pem}\n"),
        );
        assert_eq!(CaBundle::from_env(&home.env(&[])).unwrap(), None);
    }

    #[test]
    fn errors_name_the_path_and_where_it_came_from() {
        let home = Home::new();
        let missing = home.path("missing.pem");
        let msg = message(CaBundle::from_env(&home.env(&[(CA_BUNDLE_VAR, &missing)])));
        assert_eq!(
            msg,
            format!(
                "invalid CA bundle `{missing}` from AWS_CA_BUNDLE: cannot read it (No such file \
                 or directory (os error 2)); {EXPECTED}"
            )
        );

        // A bad variable is reported, not skipped for a good profile setting.
        let good = home.write("good.pem", TEST_CA);
        let config = home.write(
            ".aws/config",
            &format!("[profile work]\nca_bundle = {missing}\n[default]\nca_bundle = {good}\n"),
        );
        let msg = message(CaBundle::from_env(&home.env(&[(CA_BUNDLE_VAR, &missing)])));
        assert!(msg.contains("from AWS_CA_BUNDLE"), "{msg}");

        let msg = message(CaBundle::from_env(&home.env(&[("AWS_PROFILE", "work")])));
        assert_eq!(
            msg,
            format!(
                "invalid CA bundle `{missing}` from `ca_bundle` in profile `work` of {config}: \
                 cannot read it (No such file or directory (os error 2)); {EXPECTED}"
            )
        );

        let dir = home.path(".aws");
        let msg = message(CaBundle::from_env(&home.env(&[(CA_BUNDLE_VAR, &dir)])));
        assert!(msg.contains("cannot read it (Is a directory"), "{msg}");
    }

    #[test]
    fn a_file_without_a_usable_certificate_is_refused_without_quoting_it() {
        let home = Home::new();
        let private =
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n";
        let cases = [
            (
                "empty.pem",
                String::new(),
                "it holds no PEM certificate".to_string(),
            ),
            (
                "text.pem",
                "not a certificate at all\n".into(),
                "it holds no PEM certificate".into(),
            ),
            (
                "key.pem",
                private.into(),
                "it holds no PEM certificate".into(),
            ),
            (
                "unterminated.pem",
                format!("{TEST_CA}-----BEGIN CERTIFICATE-----\nc2VjcmV0LWtleS1ieXRlcw==\n"),
                "a PEM block has no `-----END` line (after 1 certificate)".into(),
            ),
            (
                "base64.pem",
                "-----BEGIN CERTIFICATE-----\n!!secret-looking!!\n-----END CERTIFICATE-----\n"
                    .into(),
                "a PEM block is not valid base64 (after 0 certificates)".into(),
            ),
            (
                "garbage.pem",
                format!(
                    "{TEST_CA}-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"
                ),
                "certificate 2 is not a usable CA certificate (".into(),
            ),
        ];
        for (name, contents, problem) in cases {
            let path = home.write(name, &contents);
            let msg = message(CaBundle::from_env(&home.env(&[(CA_BUNDLE_VAR, &path)])));
            assert!(
                msg.starts_with(&format!(
                    "invalid CA bundle `{path}` from AWS_CA_BUNDLE: {problem}"
                )),
                "{name}: {msg}"
            );
            assert!(msg.ends_with(EXPECTED), "{name}: {msg}");
            for secret in ["c2VjcmV0", "secret", "aGVsbG8"] {
                assert!(!msg.contains(secret), "{name} quotes the file: {msg}");
            }
        }

        // Other blocks beside a certificate are ignored, as the SDK's loader ignores them.
        let path = home.write("mixed.pem", &format!("{private}{TEST_CA}"));
        let bundle = CaBundle::from_file(&path, CaBundleSource::EnvVar).unwrap();
        assert_eq!(bundle.certificates(), 1);
    }

    #[test]
    fn settings_read_the_bundle_when_built_and_show_only_its_path() {
        let home = Home::new();
        let region = ResolvedRegion::new("us-east-1", crate::RegionSource::Default).unwrap();
        let pem = home.write("ca.pem", TEST_CA);
        let env = home.env(&[
            (CA_BUNDLE_VAR, pem.as_str()),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret-key"),
        ]);
        let settings = AwsSettings::from_env(&env, &region, None).unwrap();
        assert_eq!(
            settings.ca_bundle().map(CaBundle::path),
            Some(Path::new(&pem))
        );
        let debug = format!("{settings:?}");
        assert!(debug.contains(&pem), "{debug}");
        assert!(!debug.contains("MIIB"), "no certificate in Debug: {debug}");
        assert!(!debug.contains("very-secret-key"), "{debug}");

        let pooled = settings.clone().with_connection_pool(ConnectionPool {
            idle_timeout: std::time::Duration::ZERO,
            max_idle_per_host: 0,
        });
        assert_eq!(
            pooled.ca_bundle(),
            settings.ca_bundle(),
            "a new pool keeps the bundle"
        );

        // Checked when the settings are built, not at the first request.
        let missing = home.path("missing.pem");
        let err =
            AwsSettings::from_env(&env.with(CA_BUNDLE_VAR, &missing), &region, None).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidCaBundle { path, origin: CaBundleSource::EnvVar, .. } if *path == missing),
            "{err:?}"
        );
        let no_bundle = AwsSettings::from_env(&home.env(&[]), &region, None).unwrap();
        assert!(no_bundle.ca_bundle().is_none());
    }

    #[test]
    fn an_unknown_issuer_is_found_inside_io_errors() {
        use rustls::{CertificateError, Error as TlsError};
        // hyper-rustls nests the rustls error in two `io::Error`s, whose `source()` skips it.
        let nested = |err: TlsError| {
            std::io::Error::other(std::io::Error::new(std::io::ErrorKind::InvalidData, err))
        };
        let unknown = nested(TlsError::InvalidCertificate(
            CertificateError::UnknownIssuer,
        ));
        assert!(is_untrusted_certificate(&unknown));
        let name = nested(TlsError::InvalidCertificate(
            CertificateError::NotValidForName,
        ));
        assert!(
            !is_untrusted_certificate(&name),
            "a name mismatch is another problem"
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!is_untrusted_certificate(&refused));
    }
}
