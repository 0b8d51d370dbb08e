//! Marked known_hosts lines, end to end: a host certificate signed by a CA the local user trusts
//! with `@cert-authority` (setup and doctor need no key of the host's own, and the docker CLI
//! connects), and a host key marked `@revoked` (ssh refuses it; doctor says so; setup never adds
//! or accepts it, `--accept-host-key` or not). A real sshd, ssh, ssh-keygen and dockerd.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::doctor::check;
use crate::harness::{assert_nothing_changed, setup_args, Run, Sandbox};
use crate::support::snapshot::Transcript;

/// The unattended flags of [`crate::harness::ALL_YES`] but `--accept-host-key`: whatever trusts
/// the host must be in known_hosts already.
const NO_TOFU: [&str; 3] = ["--yes", "--no-passphrase", "--install-key"];

fn root(program: &str, args: &[&str]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `type blob` of a .pub file.
fn key_of(pub_file: &PathBuf) -> String {
    let line = std::fs::read_to_string(pub_file).unwrap();
    line.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server's host key, as `type blob`.
fn host_key(sb: &Sandbox) -> String {
    key_of(&sb.dir.join("hostkey.pub"))
}

/// A CA key made with ssh-keygen, the sandbox sshd's host key signed by it as a host certificate
/// for 127.0.0.1 (`ssh-keygen -s CA -I id -h -n 127.0.0.1`), and sshd restarted to present it.
/// Returns the CA's public key, as `type blob`.
fn serve_a_host_certificate(sb: &mut Sandbox) -> String {
    let ca = sb.dir.join("host-ca");
    let hostkey_pub = sb.dir.join("hostkey.pub");
    root(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "host-ca",
            "-f",
            ca.to_str().unwrap(),
        ],
    );
    root(
        "ssh-keygen",
        &[
            "-q",
            "-s",
            ca.to_str().unwrap(),
            "-I",
            "rdock-e2e-host",
            "-h",
            "-n",
            "127.0.0.1",
            hostkey_pub.to_str().unwrap(),
        ],
    );
    let cert = sb.dir.join("hostkey-cert.pub");
    assert!(cert.is_file(), "ssh-keygen -s made no {}", cert.display());
    sb.restart_sshd_with(&[&format!("HostCertificate {}", cert.display())]);
    key_of(&sb.dir.join("host-ca.pub"))
}

fn doctor_json(sb: &Sandbox) -> (Run, Value) {
    let run = sb.rdock(&["doctor", "--json", &sb.dest()]);
    let v = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}):\n{run}"));
    (run, v)
}

/// ssh as the docker CLI runs it (no terminal, no askpass, the user's known_hosts), running
/// `true` on the server.
fn plain_ssh(sb: &Sandbox) -> Run {
    let port = sb.port.to_string();
    sb.local(
        "env",
        &[
            "-u",
            "SSH_ASKPASS",
            "-u",
            "SSH_ASKPASS_REQUIRE",
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "ControlPath=none",
            "-l",
            &sb.remote.name,
            "-p",
            &port,
            "--",
            "127.0.0.1",
            "true",
        ],
    )
}

/// `@cert-authority PATTERN CA` alone in known_hosts: setup (no `--accept-host-key`) works and
/// writes no key of the host's own, doctor's host-key check names the CA, `docker --context ps`
/// works with no askpass, and setup again changes nothing.
fn a_cert_authority_vouches(pattern: &str) {
    a_cert_authority_line_vouches(pattern, |pattern| pattern.to_string());
}

/// [`a_cert_authority_vouches`], the pattern given to `written` first (which returns what the line holds instead).
fn a_cert_authority_line_vouches(pattern: &str, written: fn(&str) -> String) {
    let mut sb = Sandbox::start();
    let ca = serve_a_host_certificate(&mut sb);
    let known_hosts = format!("@cert-authority {} {ca} host-ca\n", written(pattern));
    let file = sb.write_local(".ssh/known_hosts", &known_hosts);
    let dest = sb.dest();
    let unchanged = |sb: &Sandbox, after: &str| {
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            known_hosts,
            "known_hosts changed after {after}\n--- sshd.log\n{}",
            sb.sshd_log()
        );
    };

    let args: Vec<&str> = ["setup", dest.as_str()]
        .into_iter()
        .chain(NO_TOFU)
        .collect();
    let setup = sb.rdock_within(&args, Duration::from_secs(120));
    assert!(
        setup.code == Some(0) && !setup.timed_out,
        "setup with a @cert-authority {pattern} line failed:\n{setup}\n--- sshd.log\n{}",
        sb.sshd_log()
    );
    unchanged(&sb, "setup");
    let (run, v) = doctor_json(&sb);
    assert_eq!(run.code, Some(0), "{run}");
    let hk = check(&v, "host-key");
    assert_eq!(hk["status"], "ok", "{v:#}");
    assert!(
        hk["message"]
            .as_str()
            .unwrap()
            .contains("trusted through a @cert-authority in ~/.ssh/known_hosts"),
        "{v:#}"
    );
    unchanged(&sb, "doctor");

    sb.no_askpass();
    let ps = sb.local("docker", &["--context", &sb.context(), "ps"]);
    assert_eq!(ps.code, Some(0), "docker --context ps:\n{ps}");
    assert!(ps.stdout.contains("CONTAINER ID"), "{ps}");
    unchanged(&sb, "docker ps");

    let again = sb.rdock_within(&args, Duration::from_secs(120));
    assert_eq!(again.code, Some(0), "{again}");
    assert_nothing_changed(&again);
    unchanged(&sb, "a second setup");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_cert_authority_for_every_port_of_the_host_vouches_for_it() {
    a_cert_authority_vouches("[127.0.0.1]:*");
}

/// OpenSSH looks a host certificate's CA up under the bare host name too ("checking without
/// port identifier"), so a line written for port 22 vouches for every port.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_cert_authority_for_the_bare_host_name_vouches_for_another_port() {
    a_cert_authority_vouches("127.0.0.1");
}

/// `name` hashed as `ssh-keygen -H` hashes a host name (`|1|salt|hash`). ssh-keygen -H leaves
/// `@cert-authority` lines as they are, but ssh and `ssh-keygen -F` match a hashed one.
fn hashed(name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("known_hosts");
    std::fs::write(&file, format!("{name} ssh-ed25519 AAAA\n")).unwrap();
    root("ssh-keygen", &["-q", "-H", "-f", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    let hashed = text.split_whitespace().next().unwrap().to_string();
    assert!(hashed.starts_with("|1|"), "ssh-keygen -H wrote {text:?}");
    hashed
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_hashed_cert_authority_line_for_the_bare_host_name_vouches_too() {
    a_cert_authority_line_vouches("127.0.0.1", hashed);
}

/// known_hosts holds `lines(name, key)` (of the name ssh looks the host up by and the server's
/// real key, which they mark `@revoked`): ssh refuses the server; setup stops with known_hosts
/// byte for byte as it was, with `--accept-host-key` and without it; doctor fails host-key as
/// revoked with a fix that trusts nothing. `snapshot`: pin the unattended setup's and doctor's
/// text under that name.
fn a_revoked_host_key_is_refused(lines: fn(&str, &str) -> String, snapshot: Option<&str>) {
    let sb = Sandbox::start();
    let name = format!("[127.0.0.1]:{}", sb.port);
    let file = sb.write_local(".ssh/known_hosts", &lines(&name, &host_key(&sb)));
    let before = std::fs::read(&file).unwrap();
    let unchanged = |after: &str| {
        assert_eq!(
            std::fs::read(&file).unwrap(),
            before,
            "known_hosts changed after {after}"
        );
    };

    // Reality first: ssh itself refuses the revoked key.
    let ssh = plain_ssh(&sb);
    assert_eq!(ssh.code, Some(255), "{ssh}");
    assert!(ssh.stderr.contains("REVOKED HOST KEY DETECTED"), "{ssh}");
    assert!(
        ssh.stderr.contains("Host key verification failed."),
        "{ssh}"
    );
    unchanged("ssh");

    let dest = sb.dest();
    let no_tofu: Vec<&str> = ["setup", dest.as_str()]
        .into_iter()
        .chain(NO_TOFU)
        .collect();
    let mut last = None;
    for args in [no_tofu, setup_args(&dest, &[])] {
        let setup = sb.rdock_within(&args, Duration::from_secs(120));
        assert!(!setup.timed_out, "{setup}");
        assert_eq!(
            setup.code,
            Some(1),
            "setup went on past a revoked key:\n{setup}"
        );
        assert!(
            setup
                .all()
                .contains("is marked @revoked in ~/.ssh/known_hosts"),
            "{setup}"
        );
        assert!(
            !setup.all().contains("added the host key"),
            "setup added the revoked key:\n{setup}"
        );
        unchanged(&setup.command);
        assert!(
            sb.context_endpoint(&sb.context()).is_none(),
            "setup made a context for a host it cannot trust:\n{setup}"
        );
        last = Some(setup);
    }

    let (run, v) = doctor_json(&sb);
    assert_eq!(run.code, Some(1), "{run}");
    let hk = check(&v, "host-key");
    assert_eq!(hk["status"], "fail", "{v:#}");
    assert_eq!(
        hk["message"],
        format!("the host key of {name} is marked @revoked in ~/.ssh/known_hosts: ssh refuses it"),
        "{v:#}"
    );
    let fix = hk["fix"].as_str().unwrap();
    assert!(fix.contains("must replace its revoked host key"), "{v:#}");
    for trusting in ["accept", "ssh-keygen -R", "StrictHostKeyChecking"] {
        assert!(!fix.contains(trusting), "the fix says {trusting:?}: {v:#}");
    }
    assert_eq!(check(&v, "auth")["status"], "skip", "{v:#}");
    unchanged("doctor");

    if let Some(name) = snapshot {
        let text = sb.rdock(&["doctor", &dest]);
        assert_eq!(text.code, Some(1), "{text}");
        Transcript::new(&sb).assert(name, &[&last.unwrap(), &text]);
    }
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_revoked_host_key_beside_the_same_key_is_refused_and_never_added() {
    a_revoked_host_key_is_refused(
        |name, key| format!("{name} {key}\n@revoked {name} {key}\n"),
        Some("setup_host_key_revoked"),
    );
}

/// With no line that trusts it, a revoked key is still not "unknown": nothing offers to add it.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_revoked_host_key_alone_is_refused_and_never_added() {
    a_revoked_host_key_is_refused(|_, key| format!("@revoked * {key}\n"), None);
}
