//! `rdock vscode --workspace` and doctor inside a workspace, end to end: two contexts to the
//! sandbox's sshd, two workspace folders each pinned to one, and the docker CLI going through the
//! context a folder's settings name.

use std::fs;

use crate::harness::{setup_args, Sandbox};
use crate::support::snapshot::Transcript;

/// Folder a: comments, trailing commas, another variable in containers.environment.
const A_BEFORE: &str = r#"{
  // formatting
  "editor.tabSize": 2,
  "containers.environment": {
    "DOCKER_CERT_PATH": "/home/me/certs" // TLS
  },
  /* files */
  "files.exclude": { "**/.git": true },
}
"#;

const A_AFTER: &str = r#"{
  // formatting
  "editor.tabSize": 2,
  "containers.environment": {
    "DOCKER_CERT_PATH": "/home/me/certs", // TLS
    "DOCKER_CONTEXT": "one"
  },
  /* files */
  "files.exclude": { "**/.git": true },
  "docker.environment": {
    "DOCKER_CONTEXT": "one"
  },
}
"#;

/// Folder b: tabs, a pin of the other context, an empty object.
const B_BEFORE: &str = "{\n\t\"docker.environment\": { \"DOCKER_CONTEXT\": \"one\" }, // was one\n\t// Container Tools\n\t\"containers.environment\": {}\n}\n";

const B_AFTER: &str = "{\n\t\"docker.environment\": { \"DOCKER_CONTEXT\": \"two\" }, // was one\n\t// Container Tools\n\t\"containers.environment\": {\n\t\t\"DOCKER_CONTEXT\": \"two\"\n\t}\n}\n";

/// The DOCKER_CONTEXT both environment settings of a settings.json name, read by jsonc-parser
/// itself, not by rdock.
fn pinned(text: &str) -> String {
    let options = rdock::vscode::settings::parse_options();
    let value = jsonc_parser::parse_to_value(text, &options)
        .unwrap()
        .unwrap();
    let jsonc_parser::JsonValue::Object(top) = value else {
        panic!("not an object: {text}")
    };
    let names: Vec<String> = ["docker.environment", "containers.environment"]
        .iter()
        .map(|setting| {
            match top
                .get_object(setting)
                .and_then(|o| o.get_string("DOCKER_CONTEXT"))
            {
                Some(name) => name.to_string(),
                None => panic!("{setting} pins nothing in {text}"),
            }
        })
        .collect();
    assert_eq!(names[0], names[1], "{text}");
    names[0].clone()
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn two_workspaces_pinned_to_two_contexts() {
    let mut sb = Sandbox::start();
    let dest = sb.dest();
    for extra in [&["--name", "one"][..], &["--name", "two", "--no-use"]] {
        let run = sb.rdock(&setup_args(&dest, extra));
        assert_eq!(run.code, Some(0), "{run}");
    }
    // The folders are the local user's; their settings files are 0600 in a 0700 .vscode.
    let (a_dir, b_dir) = (sb.local.home.join("a"), sb.local.home.join("b"));
    let a_arg = a_dir.to_str().unwrap().to_string();
    let made = sb.local(
        "mkdir",
        &["-p", &format!("{a_arg}/src"), b_dir.to_str().unwrap()],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let a = sb.write_local("a/.vscode/settings.json", A_BEFORE);
    let b = sb.write_local("b/.vscode/settings.json", B_BEFORE);

    // A context docker does not have is refused, and nothing is written.
    let nope = sb.rdock(&["vscode", "--workspace", &a_arg, "--context", "nope"]);
    assert_eq!(nope.code, Some(2), "{nope}");
    assert!(
        nope.stderr.contains("no docker context is named \"nope\""),
        "{nope}"
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), A_BEFORE);

    // a by its absolute path; b by a path relative to the current directory.
    let pin_a = sb.rdock(&["vscode", "--workspace", &a_arg, "--context", "one"]);
    sb.cwd = Some(sb.local.home.clone());
    let pin_b = sb.rdock(&["vscode", "--workspace", "b", "--context", "two"]);
    for (run, file, after) in [(&pin_a, &a, A_AFTER), (&pin_b, &b, B_AFTER)] {
        assert_eq!(run.code, Some(0), "{run}");
        assert_eq!(fs::read_to_string(file).unwrap(), after, "{run}");
        assert!(run.stdout.ends_with("1 settings file changed\n"), "{run}");
    }
    // Again: nothing to do, and no byte moves.
    let again_a = sb.rdock(&["vscode", "--workspace", &a_arg, "--context", "one"]);
    let again_b = sb.rdock(&["vscode", "--workspace", "b", "--context", "two"]);
    for (run, file, after) in [(&again_a, &a, A_AFTER), (&again_b, &b, B_AFTER)] {
        assert_eq!(run.code, Some(0), "{run}");
        assert!(run.stdout.ends_with("nothing changed\n"), "{run}");
        assert_eq!(fs::read_to_string(file).unwrap(), after);
    }

    // Doctor from a folder inside a checks the context a pins (the current one too).
    sb.cwd = Some(a_dir.join("src"));
    let doctor_a = sb.rdock(&["doctor"]);
    assert_eq!(doctor_a.code, Some(0), "{doctor_a}");
    let title = format!(
        "rdock doctor: context one → ssh://{}@127.0.0.1:{} (pinned by the workspace ~/a)\n",
        sb.remote.name, sb.port
    );
    assert!(doctor_a.stdout.starts_with(&title), "{doctor_a}");
    assert!(
        doctor_a.stdout.contains(
            "✓ workspace      this workspace (~/a) uses context one through docker.environment and containers.environment"
        ),
        "{doctor_a}"
    );
    // From b, the context b pins, which is not the current one.
    sb.cwd = Some(b_dir);
    let doctor_b = sb.rdock(&["doctor"]);
    assert_eq!(doctor_b.code, Some(0), "{doctor_b}");
    let transcript = Transcript::new(&sb);
    transcript.assert("workspace_pins", &[&pin_a, &pin_b, &again_b, &doctor_b]);

    // The docker CLI, given the DOCKER_CONTEXT each file names, goes through that context.
    for (file, name) in [(&a, "one"), (&b, "two")] {
        let context = pinned(&fs::read_to_string(file).unwrap());
        assert_eq!(context, name);
        sb.env.insert("DOCKER_CONTEXT".into(), context);
        let which = sb.local("docker", &["context", "inspect", "--format", "{{.Name}}"]);
        assert_eq!(which.stdout.trim(), name, "{which}");
        let ps = sb.local("docker", &["ps"]);
        assert_eq!(ps.code, Some(0), "docker ps through {name} failed:\n{ps}");
        assert!(ps.stdout.contains("CONTAINER ID"), "{ps}");
    }
}
