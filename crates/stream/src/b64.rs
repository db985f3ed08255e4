//! Serde helpers: byte fields as base64 strings in JSON.
//!
//! Reuses the SDK's base64 codec (`aws_smithy_types::base64`, already a dependency) instead of
//! adding a base64 crate; no AWS type leaks into the public API through this.

use serde::{Deserialize, Deserializer, Serializer};

/// Serialises bytes as a base64 string.
pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&aws_smithy_types::base64::encode(bytes))
}

/// Deserialises a base64 string into bytes.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    aws_smithy_types::base64::decode(&text)
        .map_err(|e| serde::de::Error::custom(format!("expected base64 bytes: {e}")))
}

/// The same for `Option<Vec<u8>>`.
pub(crate) mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises `Some(bytes)` as base64, `None` as null.
    pub(crate) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => super::serialize(b, s),
            None => s.serialize_none(),
        }
    }

    /// Deserialises an optional base64 string.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => aws_smithy_types::base64::decode(&text)
                .map(Some)
                .map_err(|e| serde::de::Error::custom(format!("expected base64 bytes: {e}"))),
            None => Ok(None),
        }
    }
}
