//! A minimal incremental reader of OpenAI-style Server-Sent Events.
//!
//! Written by hand because the load generator only needs three facts per stream (first content
//! token, usage, terminal `[DONE]` or error) and must stay cheap: the client shares the CPU
//! with the server it measures. Events are split on blank lines; only `data:` lines count.

use serde_json::Value;

/// What the reader learnt from one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A chunk carrying a non-empty `choices[].delta.content` (or reasoning/tool text).
    Token,
    /// A usage chunk with this many completion tokens.
    Usage(u64),
    /// `data: [DONE]`.
    Done,
    /// An error object inside the stream.
    Error(String),
    /// Anything else (role chunk, finish chunk, comments).
    Other,
}

/// Splits a byte stream into SSE events and classifies them.
#[derive(Debug, Default)]
pub struct SseReader {
    buf: Vec<u8>,
    token_seen: bool,
}

impl SseReader {
    /// Feeds received bytes; calls `on` for each complete event.
    pub fn feed(&mut self, bytes: &[u8], mut on: impl FnMut(Seen)) {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(end) = find_event_end(&self.buf[start..]) {
            let (event_len, sep_len) = end;
            let seen = self.classify(start, start + event_len);
            on(seen);
            start += event_len + sep_len;
        }
        self.buf.drain(..start);
    }

    fn classify(&mut self, from: usize, to: usize) -> Seen {
        let event = &self.buf[from..to];
        let mut data: Vec<u8> = Vec::new();
        for line in event.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if let Some(rest) = line.strip_prefix(b"data:") {
                if !data.is_empty() {
                    data.push(b'\n');
                }
                data.extend_from_slice(rest.strip_prefix(b" ").unwrap_or(rest));
            }
        }
        if data.is_empty() {
            return Seen::Other;
        }
        if data == b"[DONE]" {
            return Seen::Done;
        }
        // Cheap pre-checks keep full JSON parsing off most chunks once the first token came.
        let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
        let may_be_token = !self.token_seen;
        let may_be_usage = has(b"\"usage\"") && !has(b"\"usage\":null");
        let may_be_error = has(b"\"error\"");
        if !(may_be_token || may_be_usage || may_be_error) {
            return Seen::Other;
        }
        let Ok(value) = serde_json::from_slice::<Value>(&data) else {
            return Seen::Error("unparsable sse data".to_owned());
        };
        if let Some(err) = value.get("error").filter(|e| !e.is_null()) {
            let kind = err
                .get("type")
                .or_else(|| err.get("code"))
                .and_then(Value::as_str)
                .unwrap_or("error");
            return Seen::Error(format!("stream error {kind}"));
        }
        if may_be_token && has_token(&value) {
            self.token_seen = true;
            return Seen::Token;
        }
        if let Some(n) = value
            .get("usage")
            .and_then(|u| u.get("completion_tokens"))
            .and_then(Value::as_u64)
        {
            return Seen::Usage(n);
        }
        Seen::Other
    }
}

/// Returns (event length, separator length) of the first complete event.
fn find_event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i + 1 < buf.len() {
        if buf[i] == b'\n' {
            if buf[i + 1] == b'\n' {
                return Some((i, 2));
            }
            if buf[i + 1] == b'\r' && buf.get(i + 2) == Some(&b'\n') {
                return Some((i, 3));
            }
        }
        i += 1;
    }
    None
}

fn has_token(chunk: &Value) -> bool {
    let Some(choices) = chunk.get("choices").and_then(Value::as_array) else {
        return false;
    };
    choices.iter().any(|c| {
        let Some(delta) = c.get("delta") else {
            return false;
        };
        let text = |k: &str| {
            delta
                .get(k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        text("content")
            || text("reasoning_content")
            || delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&str]) -> Vec<Seen> {
        let mut reader = SseReader::default();
        let mut out = Vec::new();
        for c in chunks {
            reader.feed(c.as_bytes(), |s| out.push(s));
        }
        out
    }

    #[test]
    fn classifies_an_openai_stream_split_anywhere() {
        let stream = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
            ": keep-alive\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\r\n\r\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":200}}\n\n",
            "data: [DONE]\n\n",
        );
        let expected = vec![
            Seen::Other,
            Seen::Other,
            Seen::Token,
            Seen::Other,
            Seen::Other,
            Seen::Usage(200),
            Seen::Done,
        ];
        assert_eq!(all(&[stream]), expected);
        // Byte by byte gives the same events.
        let bytes: Vec<String> = stream.chars().map(String::from).collect();
        let refs: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(all(&refs), expected);
    }

    #[test]
    fn errors_and_tool_calls() {
        let got = all(&[
            "data: {\"error\":{\"message\":\"boom\",\"type\":\"upstream_error\"}}\n\n",
            "data: not json\n\n",
            "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0}]}}]}\n\n",
            // After the first token, chunks without usage or error are not parsed at all.
            "data: not json either\n\n",
        ]);
        assert_eq!(
            got,
            vec![
                Seen::Error("stream error upstream_error".to_owned()),
                Seen::Error("unparsable sse data".to_owned()),
                Seen::Token,
                Seen::Other,
            ]
        );
    }

    #[test]
    fn incomplete_events_wait_for_more_bytes() {
        let mut reader = SseReader::default();
        let mut out = Vec::new();
        reader.feed(b"data: [DO", |s| out.push(s));
        assert!(out.is_empty());
        reader.feed(b"NE]\n\n", |s| out.push(s));
        assert_eq!(out, vec![Seen::Done]);
    }
}
