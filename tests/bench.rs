//! Benchmarks, not timed tests: nothing here asserts a wall time. `scripts/bench.sh` runs them
//! (release build, one at a time) and prints a table of medians over alternated runs.
//!
//! Each measured command is timed inside the local user's session ([`timed`]), not with the
//! `runuser … env -i` around it. `RDOCK_BENCH_BIN=/path/to/rdock` measures another rdock binary
//! with the same harness; the setups that make the state measured are done by the rdock under
//! test, so both binaries are measured on the same state.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::e2e::sharing::{docker, fresh_login, ms, Forwarder};
use crate::harness::{docker_clis, run_bounded, setup_args, Run, Sandbox};

const ROUNDS: usize = 15;

/// What a timed run prints last on stderr: bash's clock before and after the command.
const TIMES: &str = "rdock-bench-times";

/// Run `program` as the local user, timed inside: bash reads its clock ($EPOCHREALTIME, in
/// microseconds) right before it starts the command and right after the command ends, so
/// `elapsed` is the command's own time, without runuser's PAM session and `env -i`.
fn timed(sb: &Sandbox, program: &str, args: &[&str]) -> Run {
    let mut cmd = sb.as_local("bash");
    let script = format!(
        r#"s=$EPOCHREALTIME; "$@"; rc=$?; e=$EPOCHREALTIME; printf '\n{TIMES} %s %s\n' "$s" "$e" >&2; exit $rc"#
    );
    cmd.args(["-c", &script, "bench", program]).args(args);
    let mut run = run_bounded(cmd, Duration::from_secs(120));
    let at = run
        .stderr
        .rfind(&format!("\n{TIMES} "))
        .unwrap_or_else(|| panic!("no times on stderr:\n{run}"));
    let times: Vec<f64> = run.stderr[at..]
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().expect("bash's $EPOCHREALTIME"))
        .collect();
    run.elapsed = Duration::from_secs_f64(times[1] - times[0]);
    run.stderr.truncate(at);
    run
}

/// The rdock the bench measures: `RDOCK_BENCH_BIN` (an older build, say, to compare with the same
/// harness), copied where the local user may run it; else the one under test.
fn rdock_bin(sb: &Sandbox) -> String {
    let Some(bin) = std::env::var_os("RDOCK_BENCH_BIN") else {
        return sb.shared.rdock.display().to_string();
    };
    let copy: PathBuf = sb.shared.dir.join("rdock-bench");
    std::fs::copy(&bin, &copy).unwrap_or_else(|e| panic!("RDOCK_BENCH_BIN {bin:?}: {e}"));
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    println!("\nmeasuring RDOCK_BENCH_BIN={}", bin.to_string_lossy());
    copy.display().to_string()
}

pub(crate) fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Run `a` and `b` alternately, ROUNDS times each, after one warm-up of each; return medians.
pub(crate) fn alternate(
    mut a: impl FnMut() -> Run,
    mut b: impl FnMut() -> Run,
) -> (Duration, Duration) {
    let ok = |r: Run| {
        assert_eq!(r.code, Some(0), "a benchmarked command failed:\n{r}");
        r.elapsed
    };
    ok(a());
    ok(b());
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ta.push(ok(a()));
        tb.push(ok(b()));
    }
    (median(ta), median(tb))
}

fn row(what: &str, a: &str, b: &str, (ta, tb): (Duration, Duration)) {
    println!(
        "| {what} | {a}: {:.0} ms | {b}: {:.0} ms | {:.2}× |",
        ta.as_secs_f64() * 1000.0,
        tb.as_secs_f64() * 1000.0,
        ta.as_secs_f64() / tb.as_secs_f64()
    );
}

#[test]
#[ignore = "a benchmark: run scripts/bench.sh"]
fn bench_table() {
    let listen: Vec<String> = (2..=10)
        .map(|i| format!("ListenAddress 127.0.0.{i}"))
        .collect();
    let listen: Vec<&str> = listen.iter().map(String::as_str).collect();
    let sb = Sandbox::start_with(&listen);
    sb.setup_ok();
    let ctx = sb.context();
    let rdock_bin = rdock_bin(&sb);
    let rdock = |args: &[&str]| timed(&sb, &rdock_bin, args);
    let local = |program: &str, args: &[&str]| timed(&sb, program, args);
    println!("\n| what | measured | against | ratio |\n| --- | --- | --- | --- |");
    row(
        "doctor of one context",
        &format!("rdock doctor {ctx}"),
        &format!("docker --context {ctx} version"),
        alternate(
            || rdock(&["doctor", &ctx]),
            || local("docker", &["--context", &ctx, "version"]),
        ),
    );
    // Ten distinct hosts (127.0.0.1 to .10, one sshd listening on all), each set up by rdock:
    // every context gets its own ssh round trip, as a real fleet would.
    for i in 2..=10 {
        let dest = format!("{}@127.0.0.{i}:{}", sb.remote.name, sb.port);
        let run = sb.rdock(&[
            "setup",
            &dest,
            "--yes",
            "--no-passphrase",
            "--accept-host-key",
            "--no-use",
        ]);
        assert_eq!(run.code, Some(0), "{run}");
    }
    row(
        "doctor --all of 10 contexts",
        "rdock doctor --all (10)",
        "rdock doctor (1)",
        alternate(|| rdock(&["doctor", "--all"]), || rdock(&["doctor", &ctx])),
    );
    // The floor on this machine: the same ten round trips with nothing but ssh and the remote
    // docker version, in parallel, against one. On loopback every remote side shares our cores.
    let remote = "docker version --format {{.Server.Version}}";
    let ssh_one = |host: &str| {
        format!(
            "ssh -o BatchMode=yes -T -p {} -l {} -- {host} '{remote}' >/dev/null",
            sb.port, sb.remote.name
        )
    };
    let ten: String = (1..=10)
        .map(|i| format!("{} & ", ssh_one(&format!("127.0.0.{i}"))))
        .collect::<String>()
        + "wait";
    let one = ssh_one("127.0.0.1");
    row(
        "the floor here: bare ssh + remote docker version",
        "10 in parallel",
        "1",
        alternate(|| local("sh", &["-c", &ten]), || local("sh", &["-c", &one])),
    );
    let dest = sb.dest();
    let setup = setup_args(&dest, &[]);
    let ssh_port = sb.port.to_string();
    row(
        "no-op rerun of setup",
        "rdock setup (nothing to do)",
        "one ssh round trip (ssh host true)",
        alternate(
            || rdock(&setup),
            || {
                local(
                    "ssh",
                    &[
                        "-p",
                        &ssh_port,
                        "-l",
                        &sb.remote.name,
                        "--",
                        "127.0.0.1",
                        "true",
                    ],
                )
            },
        ),
    );
    // Multiplexing for 127.0.0.1 only; 127.0.0.2 is the same sshd without it.
    let multiplexed = sb.rdock(&[&setup[..], &["--multiplex"]].concat());
    assert_eq!(multiplexed.code, Some(0), "{multiplexed}");
    let plain = format!("127.0.0.2-{}", sb.port);
    row(
        "docker ps, multiplexed or not",
        "with ControlMaster",
        "without",
        alternate(
            || local("docker", &["--context", &ctx, "ps"]),
            || local("docker", &["--context", &plain, "ps"]),
        ),
    );
    println!(
        "\n{ROUNDS} alternated rounds after one warm-up each; medians; {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .unwrap_or("unknown CPU")
            .trim()
    );
}

/// Doctor and a no-op setup with each docker CLI of the matrix, its ssh:// context current (the
/// case where CLIs before 23.0 dial the context on every call).
#[test]
#[ignore = "a benchmark: run scripts/bench.sh"]
fn bench_per_docker_cli() {
    for cli in docker_clis() {
        let sb = Sandbox::start().with_docker(&cli.path);
        sb.setup_ok();
        let ctx = sb.context();
        let rdock_bin = rdock_bin(&sb);
        let rdock = |args: &[&str]| timed(&sb, &rdock_bin, args);
        let local = |program: &str, args: &[&str]| timed(&sb, program, args);
        println!(
            "\n{}\n\n| what | measured | against | ratio |\n| --- | --- | --- | --- |",
            cli.version
        );
        row(
            "doctor of one context",
            &format!("rdock doctor {ctx}"),
            &format!("docker --context {ctx} version"),
            alternate(
                || rdock(&["doctor", &ctx]),
                || local("docker", &["--context", &ctx, "version"]),
            ),
        );
        let dest = sb.dest();
        let setup = setup_args(&dest, &[]);
        let port = sb.port.to_string();
        let ssh_true = [
            "-p",
            &port,
            "-l",
            &sb.remote.name,
            "--",
            "127.0.0.1",
            "true",
        ];
        row(
            "no-op rerun of setup",
            "rdock setup (nothing to do)",
            "one ssh round trip (ssh host true)",
            alternate(|| rdock(&setup), || local("ssh", &ssh_true)),
        );
    }
}

/// The figures in docs/facts.md ("Sharing one connection"): through the forwarder at each delay,
/// `docker ps` through a context that shares its connection (127.0.0.1, rdock's block) and one
/// that does not (localhost, the same sshd, no block), alternated; a no-op setup and doctor of
/// each; one fresh ssh login as the floor.
#[test]
#[ignore = "a benchmark: run scripts/bench.sh"]
fn sharing_through_a_delayed_link() {
    let sb = Sandbox::start();
    let rounds = 7; // fresh logins (docker ps, setup and doctor: bench's 15 alternated rounds)
    println!("\n| one-way delay | docker ps shared | docker ps not shared | no-op setup shared / not | doctor shared / not | one fresh ssh login |\n| --- | --- | --- | --- | --- | --- |");
    for delay in [0, 20, 50] {
        let fwd = Forwarder::start(&sb, delay);
        let shared = format!("{}@127.0.0.1:{}", sb.remote.name, fwd.port);
        let own = format!("{}@localhost:{}", sb.remote.name, fwd.port);
        let limit = Duration::from_secs(180);
        for (dest, flag) in [(&shared, "--multiplex"), (&own, "--no-multiplex")] {
            let run = sb.rdock_within(&setup_args(dest, &[flag, "--no-use"]), limit);
            assert_eq!(run.code, Some(0), "{run}");
        }
        let (a, b) = (
            format!("127.0.0.1-{}", fwd.port),
            format!("localhost-{}", fwd.port),
        );
        let ps = alternate(
            || docker(&sb, &a, &["ps"], limit),
            || docker(&sb, &b, &["ps"], limit),
        );
        let setup = alternate(
            || sb.rdock_within(&setup_args(&shared, &["--multiplex", "--no-use"]), limit),
            || sb.rdock_within(&setup_args(&own, &["--no-multiplex", "--no-use"]), limit),
        );
        let doctor = alternate(
            || sb.rdock_within(&["doctor", &a], limit),
            || sb.rdock_within(&["doctor", &b], limit),
        );
        let login = median((0..rounds).map(|_| fresh_login(&sb, &fwd)).collect());
        // What setup's offer measured (the round trip), on the name without the block; then
        // that name goes back to not sharing.
        let offer = sb.rdock_within(&setup_args(&own, &["--no-use"]), limit);
        let line = offer
            .stdout
            .lines()
            .find(|l| l.contains("multiplex"))
            .unwrap_or("");
        eprintln!("{delay} ms: {line}");
        let back = sb.rdock_within(&setup_args(&own, &["--no-multiplex", "--no-use"]), limit);
        assert_eq!(back.code, Some(0), "{back}");
        println!(
            "| {delay} ms | {} | {} | {} / {} | {} / {} | {} |",
            ms(ps.0),
            ms(ps.1),
            ms(setup.0),
            ms(setup.1),
            ms(doctor.0),
            ms(doctor.1),
            ms(login)
        );
    }
}
