//! Mounts the gateway under `/llm` of an existing axum application, with an in-memory model
//! stream that echoes the last user message.
//!
//! ```sh
//! cargo run -p openclaw-serve --example mount
//! curl -s localhost:3000/llm/v1/chat/completions -H 'content-type: application/json' \
//!   -d '{"model":"echo/echo-1","messages":[{"role":"user","content":"hello"}]}'
//! ```
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::routing::get;
use openclaw_config::{ModelDefinition, ProviderConfig};
use openclaw_serve::{Gateway, ModelSource, ServeOptions};
use openclaw_stream::{
    AssistantContent, AssistantMessage, Content, EventStream, Message, ModelStream, StopReason,
    StreamEvent, StreamOptions, StreamRequest, Usage,
};

/// Answers with the text of the last user message.
struct Echo;

impl ModelStream for Echo {
    fn stream(&self, request: StreamRequest, _: StreamOptions) -> EventStream {
        let text = request
            .messages
            .iter()
            .rev()
            .find_map(|m| match m {
                Message::User(user) => user.content.iter().find_map(|c| match c {
                    Content::Text { text } => Some(text.clone()),
                    _ => None,
                }),
                _ => None,
            })
            .unwrap_or_default();
        let mut message = AssistantMessage::new("echo", "echo", &request.model.id);
        message
            .content
            .push(AssistantContent::Text { text: text.clone() });
        let events = vec![
            StreamEvent::Start {
                model: request.model.id.clone(),
            },
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                delta: text.clone(),
            },
            StreamEvent::TextEnd { index: 0, text },
            StreamEvent::Done {
                stop_reason: StopReason::Stop,
                usage: Usage::default(),
                message: Box::new(message),
            },
        ];
        Box::pin(futures::stream::iter(events))
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut provider = ProviderConfig::default();
    provider.models.push(ModelDefinition::new("echo-1", "Echo"));
    let models = ModelSource::new(
        BTreeMap::from([("echo".to_string(), provider)]),
        "us-east-1",
    )
    .with_stream("echo", Arc::new(Echo));
    let gateway = Gateway::new(models, ServeOptions::default());

    // An existing application with routes of its own; the gateway lives under `/llm`.
    let app = axum::Router::new()
        .route("/", get(|| async { "my application" }))
        .nest("/llm", gateway.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "listening on http://{}/llm/v1/chat/completions",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
