//! What the documentation tells a user to write or run works as written: every `json5` block of
//! the READMEs is a valid configuration, and the command walkthroughs of the README and of
//! `openclaw demo`'s closing advice succeed in order against the fake.

use std::path::{Path, PathBuf};

use openclaw_e2e::{FakeProcess, Sandbox, static_keys, workspace_root};

/// `README.md` and every `crates/*/README.md`.
fn readmes() -> Vec<PathBuf> {
    let root = workspace_root();
    let mut files = vec![root.join("README.md")];
    let crates = std::fs::read_dir(root.join("crates")).unwrap();
    for entry in crates {
        let readme = entry.unwrap().path().join("README.md");
        if readme.is_file() {
            files.push(readme);
        }
    }
    files.sort();
    files
}

/// The fenced blocks of `lang` in `text`, each with the line of its opening fence.
fn blocks(text: &str, lang: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match &mut current {
            None if fence.starts_with("```") && fence[3..].trim() == lang => {
                current = Some((i + 1, String::new()));
            }
            Some(_) if fence.starts_with("```") => found.extend(current.take()),
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed ```{lang} block");
    found
}

#[test]
fn every_json5_example_of_the_readmes_is_a_valid_configuration() {
    let sandbox = Sandbox::new(None);
    let mut checked = 0;
    for readme in readmes() {
        let text = std::fs::read_to_string(&readme).unwrap();
        for (line, block) in blocks(&text, "json5") {
            sandbox.write_config(&block);
            let out = sandbox.run(&["config", "validate"], &[], None);
            assert_eq!(
                out.code,
                Some(0),
                "{}:{line}: the json5 example is not a valid configuration:\n{}",
                readme.display(),
                out.stderr
            );
            checked += 1;
        }
    }
    // The README's examples: the discovery block, the ARN, the guardrail and the failover one.
    assert!(checked >= 4, "only {checked} json5 blocks found");
}

/// `text` split into words as a shell would: double or single quotes keep spaces.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in {text:?}");
    words.extend(word);
    words
}

/// One command line of a walkthrough: `openclaw ...`, or `echo "..." | openclaw ...` (the
/// echoed text on stdin). A trailing `# comment` is left out.
struct Step {
    args: Vec<String>,
    stdin: Option<String>,
}

fn step(line: &str) -> Option<Step> {
    let line = line.split(" #").next().unwrap_or(line).trim();
    let (stdin, command) = match line.split_once(" | ") {
        Some((echo, command)) => {
            let echoed = shell_words(echo.strip_prefix("echo ")?).join(" ");
            (Some(format!("{echoed}\n")), command.trim())
        }
        None => (None, line),
    };
    let mut words = shell_words(command);
    if words.first().map(String::as_str) != Some("openclaw") {
        return None;
    }
    words.remove(0);
    Some(Step { args: words, stdin })
}

/// Runs the steps in order in one sandbox against the fake, with AWS credentials; `openclaw
/// gateway` is left out (it serves until stopped; its own tests start it). Returns the last
/// step's stdout.
fn walk(steps: &[Step], origin: &Path) -> String {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    let mut last = String::new();
    let mut ran = 0;
    for step in steps {
        if step.args.first().map(String::as_str) == Some("gateway") {
            continue;
        }
        let args: Vec<&str> = step.args.iter().map(String::as_str).collect();
        let out = sandbox.run(&args, &static_keys(), step.stdin.as_deref());
        assert_eq!(
            out.code,
            Some(0),
            "{}: `openclaw {}` failed:\n{}",
            origin.display(),
            args.join(" "),
            out.stderr
        );
        last = out.stdout;
        ran += 1;
    }
    assert!(ran >= 3, "{}: only {ran} steps", origin.display());
    last
}

#[test]
fn the_readme_command_walkthrough_succeeds_in_order() {
    let readme = workspace_root().join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    let (_, section) = text.split_once("## The `openclaw` command").unwrap();
    let (_, block) = blocks(section, "bash").into_iter().next().unwrap();
    let steps: Vec<Step> = block.lines().filter_map(step).collect();
    let chats = steps
        .iter()
        .filter(|s| s.args.first().map(String::as_str) == Some("chat"))
        .count();
    assert!(chats >= 2, "{block}");
    let last = walk(&steps, &readme);
    assert!(last.contains("\"type\":\"done\""), "{last}");
}

#[test]
fn the_demo_closing_advice_succeeds_in_order() {
    let sandbox = Sandbox::new(None);
    let demo = sandbox.run(&["demo", "--pace-ms", "0"], &[], None);
    let text = demo.ok();
    let (_, advice) = text
        .split_once("Against real Bedrock")
        .unwrap_or_else(|| panic!("no closing advice:\n{text}"));
    let steps: Vec<Step> = advice.lines().filter_map(step).collect();
    assert!(
        steps.iter().any(|s| s.args == ["chat", "hi"]),
        "the advice ends with no chat:\n{advice}"
    );
    let last = walk(&steps, Path::new("openclaw demo"));
    assert!(last.contains("Echo: hi"), "{last}");
}
