//! The crate's error type (leaf module).

/// What can go wrong while serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server loop failed (accepting connections).
    #[error("gateway server failed: {0}")]
    Serve(#[source] std::io::Error),
}
