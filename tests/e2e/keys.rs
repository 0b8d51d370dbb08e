//! Keys rdock is pointed at: one that is not a key, armoured garbage others can read, and
//! --verbose never printing private key material.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::{setup_args, Run, Sandbox};

use super::faults::no_panic;

/// A key path rdock must refuse: how to make it (a shell script run as the local user, with
/// `$P` the path), and what rdock must say.
const NOT_KEYS: &[(&str, &str, &str)] = &[
    (
        "text",
        "printf 'not a key\\n' > \"$P\" && chmod 600 \"$P\"",
        "is not a private key",
    ),
    (
        "binary",
        "head -c 600 /dev/urandom > \"$P\" && chmod 600 \"$P\"",
        "is not a private key",
    ),
    ("empty", ": > \"$P\" && chmod 600 \"$P\"", "is not a private key"),
    (
        "a public key",
        "ssh-keygen -q -t ed25519 -N '' -f \"$P.src\" && mv \"$P.src.pub\" \"$P\"",
        // Its private key would have to be in the agent, and the sandbox's agent is empty.
        "is a public key, so ssh must get its private key from the agent, and the agent at",
    ),
    (
        "a text file others can read",
        "printf 'hello\\n' > \"$P\" && chmod 644 \"$P\"",
        "is not a private key",
    ),
    ("a directory", "mkdir \"$P\"", "is a directory, not a key"),
    (
        "unreadable",
        "printf 'secret' > \"$P\" && chmod 000 \"$P\"",
        "Permission denied",
    ),
    (
        "armoured garbage",
        "printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\\ngarbage\\n-----END OPENSSH PRIVATE KEY-----\\n' > \"$P\" && chmod 600 \"$P\"",
        "is not a valid private key",
    ),
    (
        "a public half without its private key",
        "ssh-keygen -q -t ed25519 -N '' -f \"$P\" && rm \"$P\"",
        "exists but its private key",
    ),
    (
        "a public half of another key",
        "ssh-keygen -q -t ed25519 -N '' -f \"$P\" && ssh-keygen -q -t ed25519 -N '' -f \"$P.other\" && mv \"$P.other.pub\" \"$P.pub\"",
        "does not belong to",
    ),
];

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_key_path_that_is_not_a_key_is_refused_and_left_alone() {
    let sb = Sandbox::start();
    let dest = sb.dest();
    for (i, (what, make, why)) in NOT_KEYS.iter().enumerate() {
        let dir = format!("keys{i}");
        let path = sb.local.home.join(&dir).join("id");
        let made = sb.local(
            "sh",
            &[
                "-c",
                &format!("mkdir -m 700 ~/{dir} && P=\"$1\" && {make}"),
                "sh",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(made.code, Some(0), "{what}: {made}");
        let before = sb.snapshot(&dir);
        let identity = path.to_str().unwrap();
        for args in [
            setup_args(&dest, &["--identity", identity]),
            vec!["doctor", &dest, "--identity", identity],
        ] {
            let run = sb.rdock(&args);
            no_panic(&run);
            assert_eq!(run.code, Some(1), "{what}: {args:?}: {run}");
            let key_line = run
                .stdout
                .lines()
                .map(str::trim_start)
                .find(|l| l.starts_with("✗ key"))
                .unwrap_or_else(|| panic!("{what}: no failed key line: {run}"));
            assert!(key_line.contains(why), "{what}: {key_line:?}\n{run}");
            assert!(
                run.stdout.contains("--identity"),
                "{what}: no fix named: {run}"
            );
            assert_eq!(
                sb.snapshot(&dir),
                before,
                "{what}: {args:?} changed the key's directory: {run}"
            );
        }
    }
    // Setup stopped at the key every time: nothing reached the remote.
    assert_eq!(sb.authorized_keys(), "");
    assert!(!sb.local.home.join(".ssh/id_ed25519").exists());
}

/// A file with a private key's armour but not a key, readable by others: rdock must say it is not
/// a key and leave it as it is, mode included, as for any other file that is not a key.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn armoured_garbage_others_can_read_is_not_made_0600() {
    let sb = Sandbox::start();
    let path = sb.local.home.join("fake-key");
    let made = sb.local(
        "sh",
        &[
            "-c",
            "printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\\ngarbage\\n-----END OPENSSH PRIVATE KEY-----\\n' > \"$1\" && chmod 644 \"$1\"",
            "sh",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let run = sb.rdock(&setup_args(
        &sb.dest(),
        &["--identity", path.to_str().unwrap()],
    ));
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("not a valid private key"), "{run}");
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o644,
        "rdock changed the mode of a file that is not a key: {run}"
    );
}

/// The base64 lines of a private key file: what must never be printed.
fn private_lines(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .map(str::to_string)
        .collect();
    assert!(!lines.is_empty(), "{text}");
    lines
}

fn assert_no_private_material(run: &Run, secret: &[String], what: &str) {
    let out = run.all();
    assert!(!out.contains("PRIVATE KEY-----"), "{what}: {run}");
    for line in secret {
        // The last line can be short; any 16 characters of a line are unique enough.
        let probe = &line[..line.len().min(16)];
        assert!(
            !out.contains(probe),
            "{what} printed private key material {probe:?}: {run}"
        );
    }
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn verbose_never_prints_private_key_material() {
    let sb = Sandbox::start();
    let dest = sb.dest();
    let first = sb.rdock(&setup_args(&dest, &["--verbose"]));
    assert_eq!(first.code, Some(0), "{first}");
    assert!(
        first.stderr.contains("$ ssh"),
        "--verbose echoed nothing: {first}"
    );
    let key = sb.local.home.join(".ssh/id_ed25519");
    let secret = private_lines(&key);
    assert_no_private_material(&first, &secret, "setup --verbose (new key)");
    // The public half derived again from the private key, then every read-only path.
    fs::remove_file(key.with_extension("pub")).unwrap();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (
            "setup --verbose (derive .pub)",
            setup_args(&dest, &["--verbose"]),
        ),
        (
            "setup --verbose --dry-run",
            setup_args(&dest, &["--verbose", "--dry-run"]),
        ),
        ("doctor --verbose", vec!["doctor", "--verbose"]),
        (
            "doctor --verbose --json",
            vec!["doctor", "--verbose", "--json", &dest],
        ),
        (
            "doctor --all --verbose",
            vec!["doctor", "--all", "--verbose"],
        ),
    ];
    for (what, args) in runs {
        let run = sb.rdock(&args);
        assert!(run.code.is_some(), "{what}: {run}");
        no_panic(&run);
        assert_no_private_material(&run, &secret, what);
    }
    // A key with a passphrase, checked by doctor --verbose.
    let locked = sb.local.home.join(".ssh/locked");
    let made = sb.local(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "a passphrase",
            "-f",
            locked.to_str().unwrap(),
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let run = sb.rdock(&[
        "doctor",
        "--verbose",
        &dest,
        "--identity",
        locked.to_str().unwrap(),
    ]);
    no_panic(&run);
    assert!(run.stdout.contains("with a passphrase"), "{run}");
    assert_no_private_material(
        &run,
        &private_lines(&locked),
        "doctor --verbose (passphrase)",
    );
    assert!(!run.all().contains("a passphrase\n"), "{run}");
}
