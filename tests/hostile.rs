//! Hostile input: a destination, user, host, context name or path that could inject an
//! option or a shell command is refused with exit 2 and a sentence that says what is wrong, and
//! nothing is run or written; a legitimate but strange one reaches each tool as exactly one argv
//! element, after `--`.
//!
//! No sandbox: rdock runs with HOME and every XDG directory pointed into a fresh, empty temp dir
//! (which must stay empty), and with PATH holding only fake `ssh`, `ssh-keygen`, `ssh-add`,
//! `ssh-keyscan`, `docker`, `sh` and `bash` that record their argv (and what `ssh` got on stdin)
//! before answering just enough for setup to go through (tests/support/fake_tools.rs). A call
//! recorded is a command rdock ran.
//!
//! A NUL cannot be passed in argv at all; the parser's refusal of it is tested in
//! tests/destination_props.rs.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rdock::ssh::probe::{INSTALL_KEY_SCRIPT, PROBE_SCRIPT};

use crate::harness::{run_bounded, Run};
use crate::support::fake_tools::{FakeTools, BLOB};

const RDOCK: &str = env!("CARGO_BIN_EXE_rdock");

/// A fresh world for one run of rdock: an empty HOME, fake tools, their log and state, and an
/// empty working directory.
struct World {
    root: tempfile::TempDir,
    fakes: FakeTools,
}

impl World {
    fn new() -> World {
        let root = tempfile::Builder::new()
            .prefix("rdock-hostile-")
            .tempdir()
            .unwrap();
        let dir = |rel: &str| root.path().join(rel);
        for rel in ["home", "cwd"] {
            fs::create_dir(dir(rel)).unwrap();
        }
        let fakes = FakeTools::install(dir("bin"), dir("calls"), dir("state"));
        World { root, fakes }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn home(&self) -> PathBuf {
        self.path("home")
    }

    /// rdock with only this world in its environment, bounded to 60 s.
    fn rdock<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        let home = self.home();
        let mut cmd = Command::new(RDOCK);
        cmd.args(args)
            .env_clear()
            .env("HOME", &home)
            .env("USER", "rdock-hostile")
            .env("LOGNAME", "rdock-hostile")
            .env("LANG", "C.UTF-8")
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_RUNTIME_DIR", home.join(".run"))
            .env("SSH_AUTH_SOCK", self.path("agent.sock"));
        self.fakes
            .env(&mut cmd)
            .current_dir(self.path("cwd"))
            .stdin(std::process::Stdio::null());
        run_bounded(cmd, Duration::from_secs(60))
    }

    /// Every path under a directory, relative to it.
    fn listing(&self, rel: &str) -> Vec<String> {
        let mut out = Vec::new();
        list_into(&self.path(rel), &self.path(rel), &mut out);
        out.sort();
        out
    }
}

fn list_into(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        out.push(path.strip_prefix(base).unwrap().display().to_string());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            list_into(&path, base, out);
        }
    }
}

/// Destinations that must be refused, and a part of the reason rdock must give.
const DESTINATIONS: &[(&str, &str)] = &[
    // an option for ssh
    (
        "-oProxyCommand=touch pwned",
        "starts with '-', so ssh would read it as an option",
    ),
    ("-oProxyCommand=x", "starts with '-'"),
    ("-u@h", "starts with '-'"),
    ("u@-h", "a host may not start with '-'"),
    ("u@-oProxyCommand", "a host may not start with '-'"),
    ("ssh://-u@h", "a user may not start with '-'"),
    ("ssh://-oProxyCommand", "a host may not start with '-'"),
    // a shell's metacharacters
    ("h;id", "';' is not allowed"),
    ("u@h|id", "'|' is not allowed"),
    ("$(id)", "'$' is not allowed"),
    ("u@h$(id)", "'$' is not allowed"),
    ("`id`", "'`' is not allowed"),
    ("h'id", "is not allowed"),
    ("h\"id", "'\"' is not allowed"),
    ("h&id", "'&' is not allowed"),
    ("h>out", "'>' is not allowed"),
    ("h<in", "'<' is not allowed"),
    ("h\\x", "is not allowed"),
    ("h*", "'*' is not allowed"),
    ("u@h{a,b}", "'{' is not allowed"),
    ("h~x", "'~' is not allowed"),
    ("ssh://u@h;id", "';' is not allowed"),
    // whitespace, line breaks and other control characters
    ("u@h x", "whitespace or a control character (' ')"),
    ("u@h\tx", "whitespace or a control character ('\\t')"),
    ("u@h\nid", "whitespace or a control character ('\\n')"),
    ("h\r", "whitespace or a control character ('\\r')"),
    ("h\u{1b}[31m", "control character"),
    ("h\u{2028}x", "whitespace"),
    (" h", "whitespace"),
    ("h\u{202e}x", "is not allowed in a host name"),
    ("u\u{7f}@h", "control character"),
    ("", "it is empty"),
    // ports
    ("h:0", "the port 0 is not from 1 to 65535"),
    ("h:65536", "the port 65536 is not from 1 to 65535"),
    ("h:4294967296", "is not from 1 to 65535"),
    ("h:99999999999999999999999", "is not from 1 to 65535"),
    ("u@[::1]:0", "the port 0 is not from 1 to 65535"),
    ("h:22x", "is not a number"),
    ("h:", "is not a number"),
    ("h:-1", "is not a number"),
    ("h:+22", "is not a number"),
    ("h:0x16", "is not a number"),
    ("h:\u{0662}\u{0662}", "is not a number"),
    // URLs rdock does not take
    ("ssh://u:pw@h", "never put a password in the URL"),
    ("ssh://u:@h", "never put a password in the URL"),
    ("ssh://h/path", "takes no path"),
    ("ssh://h/", "takes no path"),
    ("ssh://u@h:22/~/x", "takes no path"),
    ("ssh://h?x=1", "takes no query"),
    ("ssh://h#frag", "takes no fragment"),
    ("http://h", "only ssh:// is supported, not http://"),
    ("tcp://h:2375", "only ssh:// is supported, not tcp://"),
    ("unix:///var/run/docker.sock", "only ssh:// is supported"),
    ("file:///etc/passwd", "only ssh:// is supported"),
    ("sftp://u@h", "only ssh:// is supported"),
    ("git+ssh://h", "only ssh:// is supported"),
    // malformed
    ("u@h@i", "more than one '@'"),
    ("@h", "the user before @ is empty"),
    ("u@", "the host is empty"),
    ("[::1", "no closing ']'"),
    ("[nothost]:22", "brackets hold an IPv6 address"),
    ("h:1:2:x", "put an IPv6 address in brackets"),
    ("../x", "'/' is not allowed"),
];

/// Context names `--name` must refuse, and a part of the reason.
const NAMES: &[(&str, &str)] = &[
    ("../x", "invalid context name \"../x\""),
    ("x/y", "invalid context name"),
    ("default", "the context name \"default\" is docker's own"),
    ("a", "invalid context name \"a\""),
    ("-x", "invalid context name \"-x\""),
    ("--force", "invalid context name"),
    ("", "invalid context name \"\""),
    (".hidden", "invalid context name"),
    ("_x", "invalid context name"),
    ("x;y", "invalid context name"),
    ("x y", "invalid context name"),
    ("x\ny", "invalid context name"),
    ("$(id)", "invalid context name"),
    ("`id`", "invalid context name"),
    ("x'y", "invalid context name"),
    ("\u{e9}1", "invalid context name"),
    ("x\u{1b}", "invalid context name"),
];

/// The ways each hostile input is run: as is, with --dry-run, and with --verbose (which would
/// echo any command run).
const VARIANTS: [&[&str]; 3] = [&[], &["--dry-run"], &["--verbose"]];

/// Run one refused command in a fresh world and check everything: exit 2, the reason, no file,
/// no context, no panic, and nothing run (not even a read-only docker call: contexts are read
/// from docker's store).
fn assert_refused(args: &[&str], why: &str) {
    for variant in VARIANTS {
        // doctor changes nothing: --dry-run is a usage error of its own there (tests/help.rs).
        if args.first() == Some(&"doctor") && variant == ["--dry-run"] {
            continue;
        }
        let w = World::new();
        let argv: Vec<&str> = variant.iter().chain(args).copied().collect();
        let run = w.rdock(&argv);
        let shown = format!("rdock {argv:?}:\n{run}");
        assert_eq!(run.code, Some(2), "{shown}");
        if argv.contains(&"--json") {
            // With --json the usage error is the one JSON document on stdout.
            let v: serde_json::Value = serde_json::from_str(&run.stdout).expect(&shown);
            assert_eq!(v["error"]["kind"], "usage", "{shown}");
            let message = v["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(why), "expected {why:?} in {shown}");
        } else {
            assert!(run.stderr.contains(why), "expected {why:?} in {shown}");
            assert!(
                run.stderr.lines().any(|l| l.starts_with("error: ")),
                "{shown}"
            );
        }
        assert!(!run.all().contains("panicked"), "{shown}");
        let echoed: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("$ ")).collect();
        assert!(echoed.is_empty(), "commands were echoed: {shown}");
        assert_eq!(w.listing("home"), Vec::<String>::new(), "{shown}");
        assert!(!w.home().join(".docker").exists(), "{shown}");
        assert_eq!(w.listing("cwd"), Vec::<String>::new(), "{shown}");
        assert_eq!(w.listing("state"), Vec::<String>::new(), "{shown}");
        let stray = w.fakes.calls();
        assert!(stray.is_empty(), "ran {stray:?} for {shown}");
    }
}

#[test]
fn setup_refuses_every_hostile_destination_and_runs_nothing() {
    for (dest, why) in DESTINATIONS {
        assert_refused(&["setup", dest], why);
        assert_refused(&["setup", dest, "--yes", "--name", "fine"], why);
    }
}

#[test]
fn setup_refuses_every_bad_context_name_and_runs_nothing() {
    for (name, why) in NAMES {
        let flag = format!("--name={name}");
        assert_refused(&["setup", &flag, "box.example"], why);
        assert_refused(&["setup", "u@box.example:2222", &flag, "--yes"], why);
    }
    // A name that looks like a flag, given as a separate word, is refused by the parser of
    // flags: exit 2 all the same, and nothing runs.
    assert_refused(&["setup", "--name", "--force", "h"], "--name <NAME>");
}

#[test]
fn doctor_refuses_every_hostile_target_and_writes_nothing() {
    for (dest, why) in DESTINATIONS {
        assert_refused(&["doctor", dest], why);
        assert_refused(&["doctor", "--json", dest], why);
    }
}

/// The issue asks that nothing at all runs for a refused input; doctor still asks docker for its
/// contexts first, because the target might be a context name. A target that is neither a
/// context name by docker's rule nor a destination cannot be either.
#[test]
fn doctor_runs_nothing_for_a_hostile_target() {
    for (dest, why) in DESTINATIONS {
        assert_refused(&["doctor", dest], why);
    }
}

#[test]
fn proxycommand_as_destination_is_refused_and_never_runs() {
    let w = World::new();
    let pwned = w.path("pwned");
    let dest = format!("-oProxyCommand=touch {}", pwned.display());
    for args in [
        vec!["setup", dest.as_str()],
        vec!["setup", dest.as_str(), "--yes", "--accept-host-key"],
        vec!["setup", "--", dest.as_str()],
        vec!["doctor", dest.as_str()],
    ] {
        let run = w.rdock(&args);
        assert_eq!(run.code, Some(2), "{args:?}: {run}");
        assert!(
            run.stderr.contains(&format!(
                "invalid destination {dest:?}: it starts with '-', so ssh would read it as an option"
            )),
            "{args:?}: {run}"
        );
        assert!(!pwned.exists(), "{args:?} ran the ProxyCommand: {run}");
        assert!(
            !w.fakes.calls().iter().any(|c| c[0].starts_with("ssh")),
            "{run}"
        );
    }
    assert_eq!(w.listing("home"), Vec::<String>::new());
}

#[test]
fn arguments_that_are_not_utf8_are_refused_without_a_panic() {
    for args in [
        vec![OsString::from("setup"), OsStr::from_bytes(b"h\xff").into()],
        vec![
            OsString::from("setup"),
            OsString::from("--name"),
            OsStr::from_bytes(b"x\xffy").into(),
            OsString::from("h"),
        ],
        vec![
            OsString::from("doctor"),
            OsStr::from_bytes(b"\xfe\xff").into(),
        ],
    ] {
        let w = World::new();
        let run = w.rdock(&args);
        assert_eq!(run.code, Some(2), "{args:?}: {run}");
        assert!(run.stderr.contains("UTF-8"), "{args:?}: {run}");
        assert!(!run.all().contains("panicked"), "{run}");
        assert_eq!(w.listing("home"), Vec::<String>::new());
        assert!(w.fakes.calls().is_empty(), "{:?}", w.fakes.calls());
    }
}

/// A legitimate destination, context name and key path full of characters a shell would act on:
/// setup goes all the way through (against the fake tools), and every one of them reaches its
/// tool as exactly one argv element; ssh gets `--` right before the host; the
/// remote command is one of rdock's fixed scripts; the key travels on stdin.
#[test]
fn every_value_reaches_its_tool_as_one_argv_element() {
    let w = World::new();
    let user = "o.brien_2+x";
    let host = "host-name.example";
    let name = "ctx.name_1+a";
    // A directory name a shell would run commands from, if it ever saw it.
    let dir = w
        .path("cwd")
        .join("key dir;$(touch pwned)`touch pwned2`'\"|&");
    fs::create_dir(&dir).unwrap();
    let key = dir.join("id key");
    let key_s = key.to_str().unwrap();
    let dest = format!("{user}@{host}:2222");
    let run = w.rdock(&[
        "setup",
        &dest,
        "--name",
        name,
        "--identity",
        key_s,
        "--no-passphrase",
        "--accept-host-key",
        "--install-key",
    ]);
    assert_eq!(run.code, Some(0), "{run}\ncalls: {:#?}", w.fakes.calls());
    assert!(!run.all().contains("panicked"), "{run}");
    let calls = w.fakes.calls();
    let listing = w.listing("cwd");
    assert!(
        !listing
            .iter()
            .any(|p| p.rsplit('/').next().is_some_and(|f| f.starts_with("pwned"))),
        "a shell ran part of a path: {listing:?}"
    );
    assert!(
        !calls.iter().any(|c| c[0] == "sh" || c[0] == "bash"),
        "rdock ran a shell: {calls:#?}"
    );

    let named =
        |prog: &str| -> Vec<&Vec<String>> { calls.iter().filter(|c| c[0] == prog).collect() };
    // ssh: `-l USER -p PORT -- HOST` and then nothing, or one of the fixed remote scripts.
    let mut remote_commands = Vec::new();
    for call in named("ssh").into_iter().filter(|c| c[1..] != ["-V"]) {
        let dd = call
            .iter()
            .position(|a| a == "--")
            .unwrap_or_else(|| panic!("no -- in {call:?}"));
        assert_eq!(call.get(dd + 1).map(String::as_str), Some(host), "{call:?}");
        assert_eq!(call.iter().filter(|a| *a == "--").count(), 1, "{call:?}");
        let l = call.iter().position(|a| a == "-l").unwrap();
        assert_eq!(call[l + 1], user, "{call:?}");
        assert!(l < dd, "{call:?}");
        let rest = &call[dd + 2..];
        if call.iter().any(|a| a == "-G") {
            assert!(rest.is_empty(), "{call:?}");
        } else if call.iter().any(|a| a == "StrictHostKeyChecking=accept-new") {
            assert_eq!(
                rest,
                ["true"],
                "the host key fetch runs only `true`: {call:?}"
            );
        } else {
            assert_eq!(rest.len(), 1, "{call:?}");
            assert!(
                rest[0] == PROBE_SCRIPT || rest[0] == INSTALL_KEY_SCRIPT,
                "the remote command is not a fixed script: {call:?}"
            );
            remote_commands.push(rest[0].clone());
        }
        // No argument holds the destination as typed; the key path is only ever the one
        // argument after `-i` (the probe logs in with that key alone).
        let after_i = call.iter().position(|a| a == "-i").map(|i| i + 1);
        assert!(
            !call
                .iter()
                .enumerate()
                .any(|(i, a)| a.contains(&dest) || (a.contains(key_s) && Some(i) != after_i)),
            "{call:?}"
        );
        if let Some(i) = after_i {
            assert_eq!(call[i], key_s, "{call:?}");
        }
    }
    assert!(
        remote_commands.iter().any(|c| c == PROBE_SCRIPT),
        "{calls:#?}"
    );
    assert!(
        remote_commands.iter().any(|c| c == INSTALL_KEY_SCRIPT),
        "{calls:#?}"
    );
    for script in [PROBE_SCRIPT, INSTALL_KEY_SCRIPT] {
        for value in [user, host, name, "2222", key_s, BLOB] {
            assert!(!script.contains(value), "{value} in {script}");
        }
    }
    // The key went to authorized_keys on stdin, and only there.
    let stdin = w.fakes.ssh_stdin();
    assert_eq!(stdin, [format!("ssh-ed25519 {BLOB} fake\n")], "{calls:#?}");

    // The host key comes through ssh itself, the host right after `--`.
    let fetch: Vec<&Vec<String>> = named("ssh")
        .into_iter()
        .filter(|c| c.iter().any(|a| a == "StrictHostKeyChecking=accept-new"))
        .collect();
    assert_eq!(fetch.len(), 1, "{calls:#?}");
    assert_eq!(
        fetch[0][fetch[0].len() - 3..],
        ["--", host, "true"],
        "{:?}",
        fetch[0]
    );
    assert!(named("ssh-keyscan").is_empty(), "{calls:#?}");

    // The key path: one element, after -f (ssh-keygen) or as ssh-add's only argument.
    let keygen_paths: Vec<&str> = named("ssh-keygen")
        .iter()
        .filter(|c| !c.contains(&"-F".to_string()) && !c.contains(&"-l".to_string()))
        .map(|c| {
            let f = c.iter().position(|a| a == "-f").unwrap();
            c[f + 1].as_str()
        })
        .collect();
    assert!(keygen_paths.len() >= 2, "{calls:#?}");
    assert!(keygen_paths.iter().all(|p| *p == key_s), "{keygen_paths:?}");
    let adds: Vec<_> = named("ssh-add")
        .into_iter()
        .filter(|c| c[1] != "-l" && c[1] != "-L")
        .collect();
    assert_eq!(adds.len(), 1, "{calls:#?}");
    assert_eq!(
        adds[0].last().map(String::as_str),
        Some(key_s),
        "{:?}",
        adds[0]
    );

    // The context name: after `--`, one element; the endpoint is one `host=` element. Local
    // docker calls run on the default context (`docker --context default context …`).
    let local = |c: &Vec<String>| -> Vec<String> {
        match c.get(1..3) {
            Some([flag, ctx]) if flag == "--context" && ctx == "default" => {
                std::iter::once(c[0].clone())
                    .chain(c[3..].iter().cloned())
                    .collect()
            }
            _ => c.clone(),
        }
    };
    let contexts: Vec<_> = named("docker")
        .into_iter()
        .map(local)
        .filter(|c| c.get(1).map(String::as_str) == Some("context"))
        .filter(|c| ["create", "inspect", "update", "use"].contains(&c[2].as_str()))
        .collect();
    assert!(contexts.len() >= 2, "create and use: {calls:#?}");
    for call in &contexts {
        assert_eq!(call[call.len() - 2..], ["--", name], "{call:?}");
    }
    let create = contexts
        .iter()
        .find(|c| c[2] == "create")
        .expect("a create");
    assert!(
        create.contains(&format!("host=ssh://{user}@{host}:2222")),
        "{create:?}"
    );
    for call in named("docker").into_iter().filter(|c| c[1] == "--context") {
        assert!(call[2] == name || call[2] == "default", "{call:?}");
    }
}

/// A key path that starts with '-' must not become an option of ssh-add (`-D` would empty the
/// agent, `-d` remove keys): rdock must pass `--` before it, or make it `./-D`.
#[test]
fn a_key_path_starting_with_a_dash_is_not_an_option() {
    let w = World::new();
    let run = w.rdock(&[
        "setup",
        "u@box.example",
        "--identity=-D",
        "--no-passphrase",
        "--accept-host-key",
        "--install-key",
    ]);
    assert!(!run.all().contains("panicked"), "{run}");
    for call in w.fakes.calls() {
        let Some(at) = call.iter().position(|a| a == "-D") else {
            continue;
        };
        let as_value = at > 0 && ["-f", "--"].contains(&call[at - 1].as_str());
        assert!(
            as_value,
            "the key path -D was read as an option: {call:?}\n{run}"
        );
    }
}

/// doctor --all checks every other context whatever one of them holds: the one it cannot check
/// gets its own ✗, and the others their whole report, with ssh run for them alone.
#[test]
fn doctor_all_checks_every_other_context_when_one_cannot_be_checked() {
    let w = World::new();
    w.fakes
        .plant_context("evil", "ssh://-oProxyCommand=touch", true);
    w.fakes
        .plant_context("fine", "ssh://u@box.example:2222", false);
    let run = w.rdock(&["doctor", "--all"]);
    assert_eq!(run.code, Some(1), "{run}");
    let out = run.all();
    assert!(
        out.contains("context evil has an endpoint rdock cannot check"),
        "{run}"
    );
    assert!(
        out.contains("rdock doctor: context fine → ssh://u@box.example:2222"),
        "{run}"
    );
    assert!(out.contains("2 contexts: "), "{run}");
    let ssh: Vec<Vec<String>> = w
        .fakes
        .calls()
        .into_iter()
        .filter(|c| c[0] == "ssh" && c.iter().any(|a| a == "--"))
        .collect();
    assert!(!ssh.is_empty(), "the good context was checked: {run}");
    assert!(
        ssh.iter().all(|c| c.iter().any(|a| a == "box.example")),
        "ssh ran only for the good context: {ssh:?}"
    );
}

/// A docker context someone else made, whose endpoint would inject an option into ssh: doctor
/// refuses to check it and never starts ssh for it.
#[test]
fn a_context_with_a_hostile_endpoint_is_never_connected_to() {
    for endpoint in [
        "ssh://-oProxyCommand=touch",
        "ssh://u@-oProxyCommand",
        "ssh://u@h;touch",
        "ssh://u:pw@h",
    ] {
        for args in [
            vec!["doctor", "evil"],
            vec!["doctor"],
            vec!["doctor", "--all"],
            vec!["doctor", "--json", "evil"],
        ] {
            let w = World::new();
            w.fakes.plant_context("evil", endpoint, true);
            let run = w.rdock(&args);
            let shown = format!("{endpoint}: rdock {args:?}:\n{run}");
            assert_eq!(run.code, Some(1), "{shown}");
            assert!(
                run.all()
                    .contains("context evil has an endpoint rdock cannot check"),
                "{shown}"
            );
            assert!(!run.all().contains("panicked"), "{shown}");
            let ssh: Vec<_> = w
                .fakes
                .calls()
                .into_iter()
                .filter(|c| c[0].starts_with("ssh"))
                .collect();
            assert!(ssh.is_empty(), "{shown}\nran {ssh:?}");
            assert_eq!(w.listing("home"), Vec::<String>::new(), "{shown}");
        }
    }
}

/// A path that names a FIFO or a device, not a file: rdock must say so and stop, not wait for a
/// writer that never comes (a FIFO) or read forever (/dev/zero).
#[test]
fn a_fifo_or_a_device_as_a_path_never_hangs() {
    let w = World::new();
    let fifo = w.path("cwd/fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let fifo_s = fifo.to_str().unwrap();
    // A real-looking private key whose .pub is a FIFO: the .pub is read too.
    let key = w.path("cwd/key");
    fs::write(
        &key,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAfake\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    let pub_fifo = w.path("cwd/key.pub");
    assert!(Command::new("mkfifo")
        .arg(&pub_fifo)
        .status()
        .unwrap()
        .success());
    let (key_s, pub_s) = (key.to_str().unwrap(), pub_fifo.to_str().unwrap());
    // A device that reads as /dev/zero. As root, one made in this test's own folder: an rdock
    // broken on purpose (a cargo-mutants mutant) wrote its settings over the machine's /dev/zero
    // once, renaming a regular file over it. Without root, /dev/zero itself cannot be replaced.
    let made_zero = w.path("cwd/zero");
    let zero = match Command::new("mknod")
        .arg(&made_zero)
        .args(["c", "1", "5"])
        .status()
    {
        Ok(made) if made.success() => made_zero.to_str().unwrap(),
        _ => "/dev/zero",
    };
    for (args, path) in [
        (
            vec!["setup", "u@127.0.0.1:1", "--identity", key_s, "--yes"],
            pub_s,
        ),
        (vec!["doctor", "u@127.0.0.1:1", "--identity", key_s], pub_s),
        (vec!["vscode", "--settings", fifo_s], fifo_s),
        (
            vec!["doctor", "u@127.0.0.1:1", "--identity", fifo_s],
            fifo_s,
        ),
        (
            vec!["setup", "u@127.0.0.1:1", "--identity", fifo_s, "--yes"],
            fifo_s,
        ),
        (vec!["vscode", "--settings", zero], zero),
        (vec!["doctor", "u@127.0.0.1:1", "--identity", zero], zero),
    ] {
        // At most 1 GB of memory, so the zero device cannot take the machine down with it.
        let mut argv = vec!["-c", "ulimit -v 1000000; exec \"$0\" \"$@\"", RDOCK];
        argv.extend(&args);
        let start = std::time::Instant::now();
        let mut cmd = Command::new("/bin/sh");
        cmd.args(&argv)
            .env_clear()
            .env("HOME", w.home())
            .env("SSH_AUTH_SOCK", w.path("agent.sock"));
        w.fakes
            .env(&mut cmd)
            .current_dir(w.path("cwd"))
            .stdin(std::process::Stdio::null());
        let run = run_bounded(cmd, Duration::from_secs(20));
        assert!(start.elapsed() < Duration::from_secs(10), "{args:?}: {run}");
        assert_eq!(run.code, Some(1), "{args:?}: {run}");
        assert!(run.all().contains(path), "{args:?}: {run}");
        assert!(!run.all().contains("out of memory"), "{args:?}: {run}");
        assert!(!run.all().contains("panicked"), "{args:?}: {run}");
    }
}
