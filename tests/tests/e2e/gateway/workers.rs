//! `--workers` / `OPENCLAW_GATEWAY_WORKERS` / `gateway.workers`: the threads that serve
//! connections (one single-threaded runtime each) are started as set, the gateway answers
//! through them, 0 serves on one shared runtime, and a bad value is refused at start (exit 3).

use super::support::{CONFIG, Gateway, chat, fake};
use super::user;

/// The names of the gateway process's threads that serve connections.
#[cfg(target_os = "linux")]
fn worker_threads(gw: &Gateway) -> Vec<String> {
    let tasks = format!("/proc/{}/task", gw.child.id());
    let mut names: Vec<String> = std::fs::read_dir(tasks)
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name.starts_with("oc-worker"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn connections_are_served_by_the_configured_worker_threads() {
    let fake = fake().await;
    let url = fake.url();
    for (args, config, threads) in [
        (vec!["--workers", "3"], CONFIG.to_string(), 3),
        (
            vec![],
            CONFIG.replacen('{', "{ gateway: { workers: 0 },", 1),
            0,
        ),
    ] {
        let gw = Gateway::start_with_args(&config, &url, &args);
        let resp = chat(&gw.addr, &user("which thread?"), &[]).await;
        assert_eq!(resp.status, 200, "{args:?}");
        assert!(resp.text().await.contains("Echo: which thread?"));
        #[cfg(target_os = "linux")]
        assert_eq!(
            worker_threads(&gw),
            (0..threads)
                .map(|i| format!("oc-worker-{i}"))
                .collect::<Vec<_>>(),
            "{args:?} {config}"
        );
        let _ = threads;
    }
}

#[tokio::test]
async fn a_bad_worker_count_names_its_variable() {
    let fake = fake().await;
    let var = [("OPENCLAW_GATEWAY_WORKERS", "many")];
    let (code, stderr) = Gateway::try_start(&fake.url(), &[], &var, true)
        .err()
        .expect("must refuse");
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("invalid OPENCLAW_GATEWAY_WORKERS `many`"),
        "{stderr}"
    );
}
