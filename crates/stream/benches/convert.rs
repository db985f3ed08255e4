//! Event-conversion throughput: a recorded Converse stream of 10,000 text deltas (plus a
//! thinking block and a tool call streamed in 200 pieces) through [`Converter`].
//!
//! Run: `cargo bench -p openclaw-stream --bench convert -- --quick`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockDeltaEvent, ContentBlockStart, ContentBlockStartEvent,
    ContentBlockStopEvent, ConversationRole, ConverseStreamMetadataEvent, ConverseStreamOutput,
    MessageStartEvent, MessageStopEvent, ReasoningContentBlockDelta, StopReason, TokenUsage,
    ToolUseBlockDelta, ToolUseBlockStart,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use openclaw_config::ModelDefinition;
use openclaw_stream::converse::Converter;

fn delta(i: i32, d: ContentBlockDelta) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockDelta(
        ContentBlockDeltaEvent::builder()
            .content_block_index(i)
            .delta(d)
            .build()
            .unwrap(),
    )
}

fn stop(i: i32) -> ConverseStreamOutput {
    ConverseStreamOutput::ContentBlockStop(
        ContentBlockStopEvent::builder()
            .content_block_index(i)
            .build()
            .unwrap(),
    )
}

fn recorded_stream(text_deltas: usize, tool_pieces: usize) -> Vec<ConverseStreamOutput> {
    let mut items = vec![ConverseStreamOutput::MessageStart(
        MessageStartEvent::builder()
            .role(ConversationRole::Assistant)
            .build()
            .unwrap(),
    )];
    for _ in 0..100 {
        let r = ReasoningContentBlockDelta::Text("thinking about it ".into());
        items.push(delta(0, ContentBlockDelta::ReasoningContent(r)));
    }
    let sig = ReasoningContentBlockDelta::Signature("EqQBCkgIARABGAIiQL".into());
    items.push(delta(0, ContentBlockDelta::ReasoningContent(sig)));
    items.push(stop(0));
    for i in 0..text_deltas {
        items.push(delta(
            1,
            ContentBlockDelta::Text(format!("token{} ", i % 97)),
        ));
    }
    items.push(stop(1));
    let start = ToolUseBlockStart::builder()
        .tool_use_id("tooluse_1")
        .name("write_file")
        .build();
    items.push(ConverseStreamOutput::ContentBlockStart(
        ContentBlockStartEvent::builder()
            .content_block_index(2)
            .start(ContentBlockStart::ToolUse(start.unwrap()))
            .build()
            .unwrap(),
    ));
    let args = format!(
        r#"{{"path": "/tmp/out.txt", "content": "{}"}}"#,
        "abcdefgh ".repeat(tool_pieces)
    );
    let piece = args.len().div_ceil(tool_pieces);
    for chunk in args.as_bytes().chunks(piece) {
        let input = String::from_utf8(chunk.to_vec()).unwrap();
        let d = ToolUseBlockDelta::builder().input(input).build().unwrap();
        items.push(delta(2, ContentBlockDelta::ToolUse(d)));
    }
    items.push(stop(2));
    items.push(ConverseStreamOutput::MessageStop(
        MessageStopEvent::builder()
            .stop_reason(StopReason::ToolUse)
            .build()
            .unwrap(),
    ));
    let usage = TokenUsage::builder()
        .input_tokens(1000)
        .output_tokens(12000)
        .total_tokens(13000);
    items.push(ConverseStreamOutput::Metadata(
        ConverseStreamMetadataEvent::builder()
            .usage(usage.build().unwrap())
            .build(),
    ));
    items
}

fn bench(c: &mut Criterion) {
    let model = ModelDefinition::new("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Sonnet 4.5");
    let items = recorded_stream(10_000, 200);
    let mut group = c.benchmark_group("convert");
    group.throughput(Throughput::Elements(items.len() as u64));
    group.bench_function("10k_text_deltas_plus_tool_call", |b| {
        b.iter_batched(
            || items.clone(),
            |items| {
                let mut conv = Converter::new(&model);
                let mut out = Vec::with_capacity(items.len() + 16);
                for item in items {
                    conv.push(item, &mut out);
                }
                assert!(conv.is_finished());
                out
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
