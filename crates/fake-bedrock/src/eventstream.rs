//! `application/vnd.amazon.eventstream` frames.
//!
//! Framing (prelude, header encoding, both CRC32s) is done by `aws-smithy-eventstream`, the
//! maintained implementation of the spec; this module only chooses headers and payloads the way
//! Bedrock does (`:event-type`, `:content-type`, `:message-type`, in that order).

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

use crate::error::Error;

/// Encodes an event frame (`:message-type: event`) with a JSON payload.
pub fn event_frame(event_type: &str, payload: &[u8]) -> Result<Bytes, Error> {
    let message = Message::new(Bytes::copy_from_slice(payload))
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    encode(&message)
}

/// Encodes an exception frame (`:message-type: exception`) with a JSON payload.
pub fn exception_frame(exception_type: &str, payload: &[u8]) -> Result<Bytes, Error> {
    let message = Message::new(Bytes::copy_from_slice(payload))
        .add_header(Header::new(
            ":exception-type",
            HeaderValue::String(exception_type.to_owned().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("exception".into()),
        ));
    encode(&message)
}

/// Flips bits of the message CRC (the last four bytes) so a client must reject the frame.
pub fn corrupt(frame: &Bytes) -> Bytes {
    let mut bytes = frame.to_vec();
    if let Some(last) = bytes.last_mut() {
        *last ^= 0xFF;
    }
    Bytes::from(bytes)
}

fn encode(message: &Message) -> Result<Bytes, Error> {
    let mut buffer = Vec::new();
    write_message_to(message, &mut buffer).map_err(|e| Error::Frame(e.to_string()))?;
    Ok(Bytes::from(buffer))
}
