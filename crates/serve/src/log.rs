//! Log targets of the gateway (leaf module: every other module may log through these).

/// Log target of the gateway's own lines.
pub const LOG_TARGET: &str = "openclaw::gateway";
/// Log target of the access log (one line per request).
pub const ACCESS_TARGET: &str = "openclaw::gateway::access";
