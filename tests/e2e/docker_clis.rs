//! rdock with every docker CLI it meets: Debian 12's 20.10, Debian 13's 26.1 and the newest on the
//! machine (harness::docker_clis). Each CLI gets its own sandbox, in a thread of its own, with that
//! CLI first on the local user's PATH, and goes through two scenes in it:
//! - the whole life of a context: setup from scratch, `docker ps` through it, doctor (text, JSON,
//!   --all), `list --check`, and remove;
//! - a current context whose host accepts TCP and never says a word, as a tcp:// endpoint and
//!   as an ssh:// one (ssh waits for the server's banner): doctor, list and remove of another,
//!   working context must still finish within 15 s, with the right answer.
//!
//! Every case of every CLI runs, whatever failed before it; the test fails at the end with each
//! failed case, the CLI's version and what the run printed.

use std::net::TcpListener;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{docker_clis, DockerCli, Run, Sandbox};

/// The bound on every call while the current context never answers.
const STALLED_LIMIT: Duration = Duration::from_secs(15);
/// The bound on every other call: a hang is a failed case, not a stuck suite.
const LIMIT: Duration = Duration::from_secs(120);

/// What one CLI's cases found, in the order they ran.
struct Cases {
    cli: DockerCli,
    results: Vec<(String, Result<Duration, String>)>,
}

impl Cases {
    /// Record a case: `Ok(())` when `run` gave the right answer, else why not. A run killed at
    /// its time limit always fails.
    fn record(&mut self, case: &str, run: &Run, verdict: Result<(), String>) {
        let verdict = if run.timed_out {
            Err("it did not finish in time".into())
        } else {
            verdict
        };
        let result = verdict
            .map(|()| run.elapsed)
            .map_err(|why| format!("[{}] {case}: {why}\n$ {}\n{run}", self.cli, run.command));
        self.results.push((case.to_string(), result));
    }

    fn failures(&self) -> impl Iterator<Item = &String> {
        self.results.iter().filter_map(|(_, r)| r.as_ref().err())
    }

    /// The CLI, then one line per case: `ok` with its time, or `FAIL`.
    fn table(&self) -> String {
        let mut out = format!("{}\n", self.cli);
        for (case, result) in &self.results {
            match result {
                Ok(took) => out.push_str(&format!("  ok    {case} ({took:.1?})\n")),
                Err(_) => out.push_str(&format!("  FAIL  {case}\n")),
            }
        }
        out
    }
}

/// Ok when `ok`, else the reason.
fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why())
    }
}

fn exit_0(run: &Run) -> Result<(), String> {
    ensure(run.code == Some(0), || {
        format!("exit {:?}, not 0", run.code)
    })
}

/// Exit 0 and no line marked ✗.
fn exit_0_without_failures(run: &Run) -> Result<(), String> {
    exit_0(run)?;
    match run.stdout.lines().find(|l| l.contains('✗')) {
        Some(line) => Err(format!("a check failed: {}", line.trim())),
        None => Ok(()),
    }
}

fn json(run: &Run) -> Result<Value, String> {
    serde_json::from_str(&run.stdout).map_err(|e| format!("stdout is not JSON: {e}"))
}

/// The docker contexts in the local user's context store, read from its files
/// (~/.docker/contexts/meta/*/meta.json), so that no docker CLI is asked.
fn stored_contexts(sb: &Sandbox) -> Vec<String> {
    let meta = sb.local.home.join(".docker/contexts/meta");
    let Ok(dirs) = std::fs::read_dir(meta) else {
        return Vec::new();
    };
    dirs.flatten()
        .filter_map(|d| std::fs::read_to_string(d.path().join("meta.json")).ok())
        .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
        .filter_map(|v| v["Name"].as_str().map(String::from))
        .collect()
}

/// The current context as ~/.docker/config.json names it ("default" when it names none).
fn current_context(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.local.home.join(".docker/config.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v["currentContext"].as_str().map(String::from))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "default".into())
}

/// A TCP port on 127.0.0.1 that accepts every connection and never sends a byte, for as long as
/// this test binary runs.
fn silent_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// Setup from scratch, `docker ps` through the new current context, doctor, doctor --json,
/// list --check, doctor --all and remove, each judged on its own.
fn whole_life(sb: &Sandbox, cases: &mut Cases) {
    let name = sb.context();
    let run = sb.setup_within(LIMIT);
    let verdict = exit_0_without_failures(&run).and_then(|()| {
        ensure(run.stdout.contains("✓ verify"), || {
            "no ✓ verify line".into()
        })
    });
    cases.record("setup", &run, verdict);
    // The cases below judge the context as the current one: when setup did not make it so, the
    // CLI itself does, and each case still fails only for what it checks.
    if current_context(sb) != name {
        let args = ["--context", "default", "context", "use", &name];
        let run = sb.local_within("docker", &args, LIMIT);
        cases.record(
            "make NAME current by hand (setup did not)",
            &run,
            exit_0(&run),
        );
    }

    let run = sb.local_within("docker", &["ps"], LIMIT);
    let verdict = exit_0(&run).and_then(|()| {
        ensure(run.stdout.contains("CONTAINER ID"), || {
            "no CONTAINER ID header".into()
        })
    });
    cases.record("docker ps", &run, verdict);

    let run = sb.rdock_within(&["doctor"], LIMIT);
    cases.record("doctor", &run, exit_0_without_failures(&run));

    let run = sb.rdock_within(&["doctor", "--json"], LIMIT);
    let verdict = json(&run).and_then(|v| {
        ensure(v["target"]["context"] == name.as_str(), || {
            format!("the target is {}, not {name}", v["target"])
        })?;
        let failed: Vec<String> = v["checks"]
            .as_array()
            .ok_or("no checks")?
            .iter()
            .filter(|c| c["status"] == "fail")
            .map(|c| format!("{} failed: {}", c["id"], c["message"]))
            .collect();
        ensure(failed.is_empty(), || failed.join("; "))?;
        exit_0(&run)
    });
    cases.record("doctor --json", &run, verdict);

    let run = sb.rdock_within(&["list", "--check", "--json"], LIMIT);
    let verdict = json(&run).and_then(|rows| {
        let row = rows
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["name"] == name.as_str()))
            .ok_or(format!("{name} is not listed"))?;
        ensure(row["reachable"] == true, || {
            format!("{name} is not reachable: {}", row["error"])
        })?;
        exit_0(&run)
    });
    cases.record("list --check", &run, verdict);

    let run = sb.rdock_within(&["doctor", "--all"], LIMIT);
    let verdict = exit_0_without_failures(&run).and_then(|()| {
        ensure(run.stdout.contains(&name), || {
            format!("{name} is not in the report")
        })
    });
    cases.record("doctor --all", &run, verdict);

    let run = sb.rdock_within(&["remove", &name, "--yes"], LIMIT);
    let verdict = exit_0(&run).and_then(|()| {
        ensure(!stored_contexts(sb).contains(&name), || {
            format!("{name} is still in the context store")
        })?;
        let current = current_context(sb);
        ensure(current == "default", || {
            format!("the current context is {current}, not default")
        })
    });
    cases.record("remove NAME, the current one", &run, verdict);
}

/// A current context (`scheme`: "tcp" or "ssh") whose host accepts TCP and never says a word;
/// doctor, list and remove of another, working context must each finish within 15 s, with the
/// right answer.
fn silent_current_context(sb: &Sandbox, cases: &mut Cases, scheme: &str) {
    let other = "other";
    let silent = format!("silent-{scheme}");
    let working = format!("host=ssh://{}@127.0.0.1:{}", sb.remote.name, sb.port);
    let endpoint = match scheme {
        "ssh" => format!("host=ssh://{}@127.0.0.1:{}", sb.remote.name, silent_port()),
        _ => format!("host=tcp://127.0.0.1:{}", silent_port()),
    };
    let when = format!("current {scheme}:// silent");
    // The CLI's own commands, on the local default context, so that none of them dials the
    // silent one.
    let prepare: [(&str, &[&str]); 3] = [
        (
            "create OTHER",
            &["context", "create", other, "--docker", &working],
        ),
        (
            "create the silent context",
            &["context", "create", &silent, "--docker", &endpoint],
        ),
        ("make it current", &["context", "use", &silent]),
    ];
    for (case, args) in prepare {
        let args = [&["--context", "default"], args].concat();
        let run = sb.local_within("docker", &args, STALLED_LIMIT);
        cases.record(&format!("{when}: {case}"), &run, exit_0(&run));
    }

    let run = sb.rdock_within(&["doctor", other], STALLED_LIMIT);
    cases.record(
        &format!("{when}: doctor OTHER"),
        &run,
        exit_0_without_failures(&run),
    );

    let run = sb.rdock_within(&["list"], STALLED_LIMIT);
    let verdict = exit_0(&run).and_then(|()| {
        let row = format!("{other} ");
        ensure(run.stdout.lines().any(|l| l.starts_with(&row)), || {
            format!("{other} is not listed")
        })
    });
    cases.record(&format!("{when}: list"), &run, verdict);

    let run = sb.rdock_within(&["remove", other, "--yes"], STALLED_LIMIT);
    let verdict = exit_0(&run).and_then(|()| {
        ensure(!stored_contexts(sb).iter().any(|c| c == other), || {
            format!("{other} is still in the context store")
        })?;
        let current = current_context(sb);
        ensure(current == silent, || {
            format!("the current context became {current}")
        })
    });
    cases.record(&format!("{when}: remove OTHER"), &run, verdict);
}

/// Every scene for one CLI, in one sandbox: the later ones reuse the key, agent and known_hosts the
/// first one set up.
fn run_cli(cli: DockerCli) -> Cases {
    let sb = Sandbox::start().with_docker(&cli.path);
    let mut cases = Cases {
        cli,
        results: Vec::new(),
    };
    let run = sb.local_within("docker", &["--version"], LIMIT);
    let verdict = ensure(run.stdout.trim() == cases.cli.version, || {
        format!("PATH gives another docker: {:?}", run.stdout.trim())
    });
    cases.record("docker on PATH is this CLI", &run, verdict);
    whole_life(&sb, &mut cases);
    for scheme in ["tcp", "ssh"] {
        silent_current_context(&sb, &mut cases, scheme);
    }
    cases
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn every_docker_cli_sets_up_diagnoses_and_survives_a_silent_current_context() {
    // Named as this test's thread is: the harness logs the names of the tests that ran, and
    // scripts/test.sh counts them against the tests that exist.
    let name = std::thread::current().name().unwrap_or("?").to_string();
    let threads: Vec<_> = docker_clis()
        .into_iter()
        .map(|cli| {
            let thread = std::thread::Builder::new().name(name.clone());
            (cli.to_string(), thread.spawn(move || run_cli(cli)).unwrap())
        })
        .collect();
    let mut tables = String::new();
    let mut failures = Vec::new();
    for (cli, thread) in threads {
        match thread.join() {
            Ok(cases) => {
                tables.push_str(&cases.table());
                failures.extend(cases.failures().cloned());
            }
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                tables.push_str(&format!("{cli}\n  FAIL  the sandbox\n"));
                failures.push(format!("[{cli}] the sandbox failed: {why}"));
            }
        }
    }
    eprintln!("{tables}");
    assert!(
        failures.is_empty(),
        "{} failed case(s):\n{tables}\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
