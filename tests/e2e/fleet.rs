//! Many contexts: `rdock list`, `rdock remove`, `rdock doctor --all`, end to end.

use serde_json::Value;

use crate::harness::{free_port, Sandbox};
use crate::support::snapshot::Transcript;

/// Another context for the sandbox's own sshd, under another name.
pub(crate) fn add_context(sb: &Sandbox, name: &str, port: u16) {
    let host = format!("host=ssh://{}@127.0.0.1:{port}", sb.remote.name);
    let run = sb.local("docker", &["context", "create", name, "--docker", &host]);
    assert_eq!(run.code, Some(0), "{run}");
}

fn json(run: &crate::harness::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("no JSON ({e}):\n{run}"))
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn list_checks_live_and_dead_contexts() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let dead = free_port();
    add_context(&sb, "dead", dead);
    let run = sb.rdock(&["list", "--json", "--check"]);
    // A context that fails its check fails the command.
    assert_eq!(run.code, Some(1), "{run}");
    let rows = json(&run);
    let row = |name: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap()
    };
    let live = row(&sb.context());
    assert_eq!(live["reachable"], true, "{rows:#}");
    assert_eq!(live["managed"], true);
    assert_eq!(live["current"], true);
    assert!(live["server_version"]
        .as_str()
        .is_some_and(|v| !v.is_empty()));
    let gone = row("dead");
    assert_eq!(gone["reachable"], false, "{rows:#}");
    assert_eq!(gone["managed"], false);
    // docker passes on ssh's own reason ("connect to host … port N: Connection refused") most
    // of the time; now and then its ssh helper loses the race and says "broken pipe" instead.
    let error = gone["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("port {dead}")) || error.contains("broken pipe"),
        "{rows:#}"
    );
    // The local-only default context is not listed.
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["name"] != "default"));
    let text = sb.rdock(&["list"]);
    assert!(text.stdout.starts_with("NAME"), "{text}");
    assert!(text.stdout.contains(&sb.context()), "{text}");
    let checked = sb.rdock(&["list", "--check"]);
    Transcript::new(&sb)
        .port(dead, "[DEAD_PORT]")
        .assert("list", &[&text, &checked]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn removing_the_current_context_switches_to_default_and_keeps_keys() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let ssh_before = sb.snapshot(".ssh");
    let refused = sb.rdock(&["remove", &sb.context()]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("--yes"), "{refused}");
    let run = sb.rdock(&["remove", &sb.context(), "--yes"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.contains("switch to context default first"),
        "{run}"
    );
    assert!(
        run.stdout.contains("To revoke the key on the remote"),
        "{run}"
    );
    assert_eq!(
        sb.local("docker", &["context", "show"]).stdout.trim(),
        "default"
    );
    let inspect = sb.local("docker", &["context", "inspect", &sb.context()]);
    assert_ne!(
        inspect.code,
        Some(0),
        "the context is still there: {inspect}"
    );
    assert_eq!(sb.snapshot(".ssh"), ssh_before, "remove touched ~/.ssh");
    assert!(
        !sb.authorized_keys().is_empty(),
        "remove touched the remote"
    );
    Transcript::new(&sb).assert("remove_current_context", &[&refused, &run]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn doctor_all_fails_only_the_dead_context() {
    let sb = Sandbox::start();
    sb.setup_ok();
    add_context(&sb, "second", sb.port);
    add_context(&sb, "third", sb.port);
    add_context(&sb, "dead", free_port());
    let run = sb.rdock(&["doctor", "--all", "--json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let v = json(&run);
    let blocks = v["targets"].as_array().unwrap();
    assert_eq!(blocks.len(), 4, "{v:#}");
    for block in blocks {
        let name = block["target"]["context"].as_str().unwrap();
        let problems = block["summary"]["problems"].as_u64().unwrap();
        if name == "dead" {
            assert_eq!(problems, 1, "{block:#}");
            let conn = block["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == "connection")
                .unwrap();
            assert_eq!(conn["status"], "fail", "{block:#}");
        } else {
            assert_eq!(problems, 0, "{name}: {block:#}");
        }
    }
    assert_eq!(v["summary"]["problems"], 1);
    let text = sb.rdock(&["doctor", "--all"]);
    assert!(text.stdout.contains("4 contexts: 1 problem"), "{text}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn multiplex_writes_its_block_once_and_a_master_socket_appears() {
    let sb = Sandbox::start();
    let dest = sb.dest();
    let args = [
        "setup",
        &dest,
        "--yes",
        "--no-passphrase",
        "--install-key",
        "--accept-host-key",
        "--multiplex",
    ];
    let run = sb.rdock(&args);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("docker commands to 127.0.0.1 now share one connection"),
        "{run}"
    );
    let config = sb.local.home.join(".ssh/config");
    let text = std::fs::read_to_string(&config).unwrap();
    let marker = format!("# >>> rdock managed: multiplex {} >>>", sb.context());
    assert_eq!(text.matches(&marker).count(), 1, "{text}");
    assert!(
        text.contains("ControlMaster auto") && text.contains("ControlPersist 10m"),
        "{text}"
    );
    let again = sb.rdock(&args);
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text,
        "a rerun changed ~/.ssh/config"
    );

    let ps = sb.local("docker", &["--context", &sb.context(), "ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");
    let sockets: Vec<_> = std::fs::read_dir(sb.local.home.join(".ssh"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("rdock-"))
        .collect();
    assert_eq!(
        sockets.len(),
        1,
        "no ControlMaster socket after a docker call"
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(sockets[0].file_type().unwrap().is_socket());
    let doctor = sb.rdock(&["doctor", &sb.context()]);
    assert!(
        doctor.stdout.contains("a master connection is open"),
        "{doctor}"
    );

    // A master that dies leaves its socket behind: the block's own check takes it out of the
    // way before any ssh uses it (doctor's `ssh -O check` too), and docker works.
    let killed = std::process::Command::new("pkill")
        .args(["-KILL", "-u", &sb.local.name, "-f", r"rdock-.*\[mux\]"])
        .status()
        .unwrap();
    assert!(killed.success(), "no master process to kill");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let doctor = sb.rdock(&["doctor", &sb.context()]);
    assert!(
        doctor.stdout.contains("the next connection opens a master"),
        "{doctor}"
    );
    let ps = sb.local("docker", &["--context", &sb.context(), "ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");

    // remove takes the block out again, and nothing else.
    let removed = sb.rdock(&["remove", &sb.context(), "--yes"]);
    assert_eq!(removed.code, Some(0), "{removed}");
    let left = std::fs::read_to_string(&config).unwrap();
    assert!(!left.contains("rdock managed: multiplex"), "{left}");
}
