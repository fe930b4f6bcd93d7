//! Opaque page tokens: hex of a small JSON value, so they travel in URLs unescaped.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// Encodes a position as a token.
pub(crate) fn encode<T: Serialize>(position: &T) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    json.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a token made by [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(token: &str) -> Result<T> {
    let invalid = || Error::InvalidPageToken { token: token.chars().take(80).collect() };
    if !token.len().is_multiple_of(2) || !token.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trips_and_garbage_is_rejected() {
        let token = encode(&("arn:aws:s3:::b", 3));
        assert_eq!(decode::<(String, u32)>(&token).unwrap(), ("arn:aws:s3:::b".to_owned(), 3));
        assert!(matches!(decode::<String>("zz"), Err(Error::InvalidPageToken { .. })));
        assert!(matches!(decode::<String>("abc"), Err(Error::InvalidPageToken { .. })));
    }
}
