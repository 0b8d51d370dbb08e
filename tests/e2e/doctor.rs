//! `rdock doctor` end to end: healthy is green; each documented fault, injected for real, fails
//! the right check with the right fix while the others stay ok or skip.

use serde_json::Value;

use crate::harness::{free_port, Run, Sandbox};
use crate::support::snapshot::Transcript;

/// Run doctor with --json and return the parsed object.
fn doctor_json(sb: &Sandbox, args: &[&str]) -> (Run, Value) {
    let run = sb.rdock(&[&["doctor", "--json"], args].concat());
    let value: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}):\n{run}"));
    (run, value)
}

fn statuses(v: &Value) -> Vec<(String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(crate) fn check<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {v:#}"))
}

/// `failing` fails with a fix containing `fix`; every check in `skipped` is skip; the rest ok.
fn assert_only(v: &Value, failing: &str, fix: &str, skipped: &[&str]) {
    let f = check(v, failing);
    assert_eq!(f["status"], "fail", "{failing} should fail: {v:#}");
    assert!(
        f["fix"].as_str().unwrap_or("").contains(fix),
        "fix of {failing} should name {fix:?}: {v:#}"
    );
    for (id, status) in statuses(v) {
        if id == failing {
            continue;
        }
        let client_skipped = CLIENT_NEEDS
            .iter()
            .any(|need| *need == failing || skipped.contains(need));
        let want = if client_skipped && CLIENTS.contains(&id.as_str()) {
            "skip"
        } else {
            expected(&id, skipped)
        };
        assert_eq!(status, want, "check {id}: {v:#}");
    }
}

/// doctor's clients group, and every check one of them needs: when one of those did not pass,
/// the clients are skipped with it.
const CLIENTS: [&str; 4] = ["docker-cli", "vscode-client", "dockerode", "docker-py"];
const CLIENT_NEEDS: [&str; 6] = [
    "key",
    "identity",
    "host-key",
    "auth",
    "remote-daemon",
    "context",
];

/// What a check that is not the failing one should say: skip for those that depend on it, for
/// "vscode", the one finding for "no editor installed", and for "vscode-client", with no Docker
/// extension installed; ok for the rest.
fn expected(id: &str, skipped: &[&str]) -> &'static str {
    if skipped.contains(&id) || id == "vscode" || id == "vscode-client" {
        "skip"
    } else {
        "ok"
    }
}

/// Every check ok, but the "no editor installed" skip.
fn assert_only_ok(v: &Value) {
    for (id, status) in statuses(v) {
        assert_eq!(status, expected(&id, &[]), "{id}: {v:#}");
    }
}

const AFTER_AUTH: [&str; 2] = ["remote-path", "remote-daemon"];

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn healthy_setup_is_green_and_doctor_changes_nothing() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let before = sb.snapshot_home();
    let text = sb.rdock(&["doctor"]);
    assert_eq!(text.code, Some(0), "{text}");
    assert!(text.stdout.contains("no issues found"), "{text}");
    for group in ["Local", "Remote", "Docker context"] {
        assert!(text.stdout.contains(group), "{text}");
    }
    let (run, v) = doctor_json(&sb, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_only_ok(&v);
    assert_eq!(sb.snapshot_home(), before, "doctor changed a file");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn json_output_has_the_documented_schema() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let (_, v) = doctor_json(&sb, &[&sb.context()]);
    let obj = v.as_object().unwrap();
    let mut keys: Vec<_> = obj.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["checks", "schema_version", "summary", "target"]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["target"]["kind"], "context");
    assert_eq!(v["target"]["context"], sb.context());
    assert_eq!(
        v["target"]["endpoint"],
        format!("ssh://{}@127.0.0.1:{}", sb.remote.name, sb.port)
    );
    for c in v["checks"].as_array().unwrap() {
        let mut keys: Vec<_> = c.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["fix", "id", "message", "status"], "{c}");
        assert!(["ok", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap()));
        assert!(c["message"].is_string() && (c["fix"].is_null() || c["fix"].is_string()));
    }
    assert_eq!(v["summary"]["problems"], 0);
    assert_eq!(v["summary"]["warnings"], 0);
    assert!(v["summary"]["text"].is_string());
    // A destination works as a target too.
    let (_, v) = doctor_json(&sb, &[&sb.dest()]);
    assert_eq!(v["target"]["kind"], "destination");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn agent_without_the_identity_names_ssh_add() {
    let mut sb = Sandbox::start();
    sb.setup_ok();
    assert_eq!(sb.local("ssh-add", &["-D"]).code, Some(0));
    let before = sb.snapshot_home();
    let text = sb.rdock(&["doctor"]);
    assert_eq!(text.code, Some(1), "{text}");
    assert!(text.stdout.contains("fix: ssh-add "), "{text}");
    let (_, v) = doctor_json(&sb, &[]);
    // multiplex times a docker command only once the agent holds the key (a login would load it).
    let mut skipped = vec!["auth", "multiplex"];
    skipped.extend(AFTER_AUTH);
    assert_only(&v, "identity", "ssh-add", &skipped);
    assert_eq!(sb.snapshot_home(), before, "doctor changed a file");
    let transcript = Transcript::new(&sb);
    transcript.assert("doctor_identity_not_in_agent", &[&text]);
    // With no agent at all, the agent check fails and names this OS's fix.
    sb.env.insert("SSH_AUTH_SOCK".into(), String::new());
    let (_, v) = doctor_json(&sb, &[&sb.context()]);
    let mut skipped = vec!["identity", "agent-keys", "auth", "multiplex"];
    skipped.extend(AFTER_AUTH);
    assert_only(&v, "agent", "ssh-agent", &skipped);
    transcript.assert("doctor_no_agent", &[&sb.rdock(&["doctor", &sb.context()])]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn empty_known_hosts_fails_the_host_key_check() {
    let sb = Sandbox::start();
    sb.setup_ok();
    std::fs::write(sb.local.home.join(".ssh/known_hosts"), "").unwrap();
    let (run, v) = doctor_json(&sb, &[]);
    assert_eq!(run.code, Some(1), "{run}");
    let mut skipped = vec!["auth"];
    skipped.extend(AFTER_AUTH);
    assert_only(&v, "host-key", "--accept-host-key", &skipped);
    assert!(check(&v, "host-key")["message"]
        .as_str()
        .unwrap()
        .contains("not in known_hosts"));
    assert_eq!(
        std::fs::read(sb.local.home.join(".ssh/known_hosts")).unwrap(),
        b"",
        "doctor added a host key"
    );
    Transcript::new(&sb).assert("doctor_host_key_unknown", &[&sb.rdock(&["doctor"])]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn remote_user_outside_group_docker_gets_the_usermod_fix() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let out = std::process::Command::new("gpasswd")
        .args(["-d", &sb.remote.name, "docker"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, v) = doctor_json(&sb, &[]);
    assert_only(
        &v,
        "remote-daemon",
        &format!("usermod -aG docker {}", sb.remote.name),
        &[],
    );
    Transcript::new(&sb).assert(
        "doctor_remote_user_not_in_group_docker",
        &[&sb.rdock(&["doctor"])],
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn docker_missing_from_the_remote_path_is_told_apart() {
    let mut sb = Sandbox::start();
    sb.setup_ok();
    sb.restart_sshd_with(&["SetEnv PATH=/nonexistent"]);
    let (_, v) = doctor_json(&sb, &[]);
    assert_only(&v, "remote-path", "command -v docker", &["remote-daemon"]);
    assert!(check(&v, "remote-path")["message"]
        .as_str()
        .unwrap()
        .contains("exit 127"));
    Transcript::new(&sb).assert(
        "doctor_docker_not_on_remote_path",
        &[&sb.rdock(&["doctor"])],
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn docker_host_in_the_environment_is_reported() {
    let mut sb = Sandbox::start();
    sb.setup_ok();
    sb.env
        .insert("DOCKER_HOST".into(), "tcp://127.0.0.1:1".into());
    let (run, v) = doctor_json(&sb, &[&sb.context()]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_only(&v, "environment", "unset DOCKER_HOST", &[]);
    let text = sb.rdock(&["doctor", &sb.context()]);
    Transcript::new(&sb).assert("doctor_docker_host_set", &[&text]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_context_on_a_dead_port_fails_the_connection_check() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let dead = free_port();
    let endpoint = format!("host=ssh://{}@127.0.0.1:{dead}", sb.remote.name);
    assert_eq!(
        sb.local(
            "docker",
            &["context", "create", "dead", "--docker", &endpoint]
        )
        .code,
        Some(0)
    );
    let (run, v) = doctor_json(&sb, &["dead"]);
    assert_eq!(run.code, Some(1), "{run}");
    let f = check(&v, "connection");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{dead}")),
        "{v:#}"
    );
    // The context is not the current one: that is a warning, not a failure.
    let mut skipped = vec!["host-key", "auth"];
    skipped.extend(AFTER_AUTH);
    let v_no_use = {
        let mut v = v.clone();
        v["checks"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["id"] != "use");
        v
    };
    assert_only(&v_no_use, "connection", &format!("port {dead}"), &skipped);
    assert_eq!(check(&v, "use")["status"], "warn");
    assert!(run.elapsed.as_secs() < 20, "took {:?}", run.elapsed);
    Transcript::new(&sb)
        .port(dead, "[DEAD_PORT]")
        .assert("doctor_dead_port", &[&sb.rdock(&["doctor", "dead"])]);
}

/// Before setup (no ssh:// context), doctor checks this machine and names the next command:
/// exit 1 while something local is wrong (no key yet), 0 once nothing is.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn without_a_target_and_no_ssh_context_doctor_checks_this_machine() {
    let sb = Sandbox::start();
    let before = sb.rdock(&["doctor"]);
    assert_eq!(before.code, Some(1), "{before}");
    assert!(
        before.stdout.contains("no key at ~/.ssh/id_ed25519"),
        "{before}"
    );
    assert!(
        before.stdout.ends_with("  rdock setup user@host\n"),
        "{before}"
    );
    assert!(!before.stdout.contains("Remote"), "{before}");
    sb.setup_ok();
    let removed = sb.local("docker", &["context", "rm", "--force", &sb.context()]);
    assert_eq!(removed.code, Some(0), "{removed}");
    let after = sb.rdock(&["doctor"]);
    assert_eq!(after.code, Some(0), "{after}");
    assert!(
        after.stdout.contains("no issues found on this machine"),
        "{after}"
    );
    Transcript::new(&sb).assert("doctor_no_target", &[&before, &after]);
}

/// What a user reads from doctor after setup, as text and as JSON, pinned in tests/snapshots/.
/// (Each fault's transcript is pinned by the test that injects it.)
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_green_doctor_reads_as_pinned() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let transcript = Transcript::new(&sb);
    transcript.assert("doctor_green", &[&sb.rdock(&["doctor"])]);
    transcript.assert("doctor_green_json", &[&sb.rdock(&["doctor", "--json"])]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_settings_json_at_1000_fails_its_editor_check() {
    let sb = Sandbox::start();
    let user = sb.local.home.join(".config/Code/User");
    assert_eq!(
        sb.local("mkdir", &["-p", user.to_str().unwrap()]).code,
        Some(0)
    );
    sb.setup_ok();
    let settings = user.join("settings.json");
    let text = "{\n  // slow\n  \"docker.explorerRefreshInterval\": 1000\n}\n";
    std::fs::write(&settings, text).unwrap();
    let (run, v) = doctor_json(&sb, &[]);
    assert_eq!(run.code, Some(1), "{run}");
    let retain = |v: &Value| {
        let mut v = v.clone();
        v["checks"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["id"] != "vscode-ext");
        v
    };
    assert_only(&retain(&v), "vscode:Code", "3000", &[]);
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        text,
        "doctor changed settings.json"
    );
    Transcript::new(&sb).assert("doctor_vscode_interval_too_low", &[&sb.rdock(&["doctor"])]);
}
