use super::*;

fn fm(id: &str, provider: &str) -> FoundationModel {
    FoundationModel {
        model_id: id.into(),
        model_name: Some(format!("Name of {id}")),
        provider_name: Some(provider.into()),
        input_modalities: vec!["TEXT".into()],
        output_modalities: vec!["TEXT".into()],
        response_streaming_supported: Some(true),
        inference_types_supported: vec!["ON_DEMAND".into()],
        lifecycle_status: Some("ACTIVE".into()),
    }
}

fn profile(id: &str, base: &str) -> InferenceProfile {
    InferenceProfile {
        inference_profile_id: id.into(),
        inference_profile_name: format!("Profile {id}"),
        status: "ACTIVE".into(),
        profile_type: "SYSTEM_DEFINED".into(),
        model_arns: vec![format!(
            "arn:aws:bedrock:us-east-1::foundation-model/{base}"
        )],
        inference_profile_arn: format!(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/{id}"
        ),
    }
}

fn app_profile(id: &str, name: &str, base: &str) -> InferenceProfile {
    InferenceProfile {
        inference_profile_id: id.into(),
        inference_profile_name: name.into(),
        profile_type: "APPLICATION".into(),
        inference_profile_arn: format!(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{id}"
        ),
        ..profile(id, base)
    }
}

fn ids(models: &[ModelDefinition]) -> Vec<&str> {
    models.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn keep_rules() {
    let mut no_stream = fm("a.nostream", "A");
    no_stream.response_streaming_supported = Some(false);
    let mut unknown_stream = fm("a.unknownstream", "A");
    unknown_stream.response_streaming_supported = None;
    let mut image_out = fm("a.image", "A");
    image_out.output_modalities = vec!["IMAGE".into()];
    let mut legacy = fm("a.legacy", "A");
    legacy.lifecycle_status = Some("LEGACY".into());
    let empty = fm("  ", "A");
    let listing = Listing {
        foundation_models: vec![
            fm("a.ok", "A"),
            no_stream,
            unknown_stream,
            image_out,
            legacy,
            empty,
        ],
        inference_profiles: vec![],
        ..Listing::default()
    };
    let models = build_models(&listing, &MappingOptions::default());
    assert_eq!(ids(&models), ["a.ok"]);
}

#[test]
fn profile_only_models_are_listed_through_profiles_only() {
    let mut only = fm("anthropic.only", "Anthropic");
    only.inference_types_supported = vec!["INFERENCE_PROFILE".into()];
    let listing = Listing {
        foundation_models: vec![only],
        inference_profiles: vec![
            profile("us.anthropic.only", "anthropic.only"),
            profile("global.anthropic.only", "anthropic.only"),
        ],
        ..Listing::default()
    };
    let models = build_models(&listing, &MappingOptions::default());
    assert_eq!(ids(&models), ["global.anthropic.only", "us.anthropic.only"]);
    assert_eq!(models[0].name, "Name of anthropic.only (Global)");
    assert_eq!(models[1].name, "Name of anthropic.only (US)");
}

#[test]
fn profiles_inherit_and_are_filtered_by_base_provider() {
    let mut base = fm("anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic");
    base.input_modalities = vec!["TEXT".into(), "IMAGE".into()];
    base.model_name = Some("Claude Sonnet 4".into());
    let listing = Listing {
        foundation_models: vec![base, fm("meta.llama", "Meta")],
        inference_profiles: vec![
            profile(
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-sonnet-4-20250514-v1:0",
            ),
            profile("us.meta.llama", "meta.llama"),
            // Base not listed: skipped.
            profile("us.gone.model", "gone.model"),
        ],
        ..Listing::default()
    };
    let options = MappingOptions::new(ProviderFilter::new(["anthropic"]), 0, 0);
    let models = build_models(&listing, &options);
    assert_eq!(
        ids(&models),
        [
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0"
        ]
    );
    let p = &models[1];
    assert_eq!(p.name, "Claude Sonnet 4 (US)");
    assert_eq!(p.input, [InputModality::Text, InputModality::Image]);
    assert!(p.reasoning);
    assert_eq!((p.context_window, p.max_tokens), (200_000, 64_000));
}

#[test]
fn inactive_profiles_are_skipped() {
    let mut inactive = profile("us.a.x", "a.x");
    inactive.status = "CREATING".into();
    let mut app = app_profile("abcdef123", "team-a", "a.x");
    app.status = "CREATING".into();
    let listing = Listing {
        foundation_models: vec![fm("a.x", "A")],
        inference_profiles: vec![inactive, app],
        ..Listing::default()
    };
    assert_eq!(
        ids(&build_models(&listing, &MappingOptions::default())),
        ["a.x"]
    );
}

#[test]
fn application_profiles_are_listed_by_arn_with_their_name_and_the_base_models_traits() {
    let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
    let mut base = fm(haiku, "Anthropic");
    base.input_modalities = vec!["TEXT".into(), "IMAGE".into()];
    let mut app = app_profile("abc123", "team-support", haiku);
    // A profile copied from a cross-region profile names the model in several regions.
    app.model_arns.push(format!(
        "arn:aws:bedrock:us-west-2::foundation-model/{haiku}"
    ));
    let listing = Listing {
        foundation_models: vec![base, fm("meta.llama", "Meta")],
        inference_profiles: vec![app, app_profile("def456", "team-llama", "meta.llama")],
        ..Listing::default()
    };
    let options = MappingOptions::new(ProviderFilter::new(["anthropic"]), 0, 0);
    let models = build_models(&listing, &options);
    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
    assert_eq!(
        ids(&models),
        [haiku, arn],
        "filtered by the base model's provider"
    );
    let app = &models[1];
    let plain = &models[0];
    assert_eq!(app.name, "team-support");
    assert_eq!(app.base_model.as_deref(), Some(haiku));
    assert_eq!(app.input, plain.input);
    assert_eq!(
        (app.context_window, app.max_tokens, app.reasoning),
        (plain.context_window, plain.max_tokens, plain.reasoning)
    );
    assert_eq!(app.cost, plain.cost);
    assert!(app.cost.input > 0.0, "list prices from the known table");
}

#[test]
fn defaults_are_floored_and_used_for_unknown_models() {
    let listing = Listing {
        foundation_models: vec![fm("x.unknown", "X")],
        inference_profiles: vec![],
        ..Listing::default()
    };
    let m = &build_models(&listing, &MappingOptions::default())[0];
    assert_eq!(
        (m.context_window, m.max_tokens, m.reasoning),
        (32_000, 4_096, false)
    );
    let options = MappingOptions::new(ProviderFilter::default(), 100_000, 2_000);
    let m = &build_models(&listing, &options)[0];
    assert_eq!((m.context_window, m.max_tokens), (100_000, 2_000));
    assert_eq!(m.cost, ModelCost::default(), "unknown models have no price");
}

#[test]
fn input_defaults_to_text_and_drops_other_modalities() {
    let mut odd = fm("x.odd", "X");
    odd.input_modalities = vec!["EMBEDDING".into()];
    let mut img = fm("x.img", "X");
    img.input_modalities = vec!["IMAGE".into(), "TEXT".into(), "IMAGE".into()];
    let listing = Listing {
        foundation_models: vec![odd, img],
        inference_profiles: vec![],
        ..Listing::default()
    };
    let models = build_models(&listing, &MappingOptions::default());
    let by_id = |id: &str| models.iter().find(|m| m.id == id).unwrap();
    assert_eq!(by_id("x.odd").input, [InputModality::Text]);
    assert_eq!(
        by_id("x.img").input,
        [InputModality::Text, InputModality::Image]
    );
}

#[test]
fn ids_are_deduplicated_case_insensitively_and_sorted_by_name_then_id() {
    let mut a = fm("z.same", "Z");
    a.model_name = Some("Same".into());
    let mut b = fm("a.same", "A");
    b.model_name = Some("Same".into());
    let mut dup = fm("Z.SAME", "Z");
    dup.model_name = Some("Another".into());
    let mut c = fm("m.first", "M");
    c.model_name = Some("alpha".into());
    let mut nameless = fm("b.nameless", "B");
    nameless.model_name = Some("  ".into());
    let listing = Listing {
        foundation_models: vec![a, b, dup, c, nameless],
        inference_profiles: vec![],
        ..Listing::default()
    };
    let models = build_models(&listing, &MappingOptions::default());
    assert_eq!(ids(&models), ["m.first", "b.nameless", "a.same", "z.same"]);
    assert_eq!(models[1].name, "b.nameless");
}

#[test]
fn known_table_applies_to_bare_ids() {
    let listing = Listing {
        foundation_models: vec![fm("deepseek.r1-v1:0", "DeepSeek")],
        inference_profiles: vec![],
        ..Listing::default()
    };
    let m = &build_models(&listing, &MappingOptions::default())[0];
    assert!(m.reasoning);
    assert_eq!((m.context_window, m.max_tokens), (128_000, 32_768));
}

#[test]
fn base_model_id_parses_the_first_arn() {
    let p = profile("us.a.b", "a.b:0");
    assert_eq!(p.base_model_id(), Some("a.b:0"));
    let mut odd = p.clone();
    odd.model_arns = vec!["arn:aws:bedrock:us-east-1:1:inference-profile/x".into()];
    assert_eq!(odd.base_model_id(), None);
    odd.model_arns.clear();
    assert_eq!(odd.base_model_id(), None);
}
