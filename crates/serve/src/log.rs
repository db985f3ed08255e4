//! Log targets of the gateway (leaf module: every other module may log through these).

/// Log target of the gateway's own lines.
pub const LOG_TARGET: &str = "openclaw::gateway";
/// Log target of the access log (one line per request).
pub const ACCESS_TARGET: &str = "openclaw::gateway::access";

/// A client-supplied value made safe for a log line: control characters (a newline would
/// forge a whole line) are escaped as `\n`, `\u{0}`, ...
pub(crate) fn escape(value: &str) -> std::borrow::Cow<'_, str> {
    if value.chars().any(char::is_control) {
        value.escape_debug().to_string().into()
    } else {
        value.into()
    }
}
