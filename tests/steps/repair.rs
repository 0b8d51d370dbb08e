//! The remote repairs setup makes with consent: a user outside group docker is added through sudo
//! (at a terminal over `ssh -t`, where sudo asks for its own password; without one, `--yes` and
//! `sudo -n`), and docker that only the login shell finds gets its folder on the PATH of ssh
//! commands, in the startup file of the user's shell, or a link into /usr/local/bin.

use rdock::ssh::probe::PROBE_SCRIPT;
use rdock::ssh::repair::{
    LINK_NO_PASSWORD_SCRIPT, READ_RC_SCRIPT, USERMOD_NO_PASSWORD_SCRIPT, USERMOD_SCRIPT,
    WRITE_RC_SCRIPT,
};
use rdock::steps::plan::Purpose;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::exec::{quote, Reply};
use rdock::sys::term::Term;

use super::recorded::*;
use super::{no_consent, options, yes, Done, Rig};

/// The remote checks a repair touches, after the destination they need.
const SLICE: [&str; 3] = ["destination", "remote-path", "remote-daemon"];

/// The last line of the usermod fix's preview.
const AGAIN: &str =
    "then would check again over a new ssh connection (a shared one keeps the old groups)";

/// The line rdock writes for /opt/docker/bin in bash's or zsh's language.
const LINE: &str =
    "export PATH=\"$PATH:/opt/docker/bin\"  # added by rdock: docker for ssh commands";
/// Where the line goes.
const PLACE: &str = "above its interactive check (or at its end when it has none)";

/// ssh's options for a command with no terminal, as every rdock ssh has them.
const COMMON: &str =
    "-o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10";

/// `ssh` with these options, to `target`, running `script`.
fn ssh(options: &str, target: &str, script: &str) -> Vec<String> {
    std::iter::once("ssh")
        .chain(options.split(' '))
        .chain(target.split(' '))
        .map(str::to_string)
        .chain([script.to_string()])
        .collect()
}

/// The plain destination's target arguments.
const PLAIN_TARGET: &str = "-l u -p 2222 -- 127.0.0.1";

/// The commands, without the `-o IdentitiesOnly=yes -i KEY` the probe adds for the key ssh
/// offers (tests/steps/key.rs and remote.rs pin that part).
fn without_identity(ran: impl IntoIterator<Item = String>) -> Vec<String> {
    ran.into_iter()
        .map(|c| match c.find(" -o IdentitiesOnly=yes -i ") {
            Some(at) => {
                let rest = &c[at + " -o IdentitiesOnly=yes -i ".len()..];
                let after = rest.find(' ').map_or("", |i| &rest[i..]);
                format!("{}{after}", &c[..at])
            }
            None => c,
        })
        .collect()
}

/// A script run with no terminal, as the probe runs: BatchMode, -T.
fn batch(target: &str, script: &str) -> Vec<String> {
    ssh(&format!("-o BatchMode=yes {COMMON} -T"), target, script)
}

/// A script run over `ssh -t`, for sudo to ask on the terminal.
fn terminal(target: &str, script: &str) -> Vec<String> {
    let options = format!("-o BatchMode=yes -o LogLevel=ERROR {COMMON} -t");
    ssh(&options, target, script)
}

/// The probe over a connection of its own.
fn own_probe(target: &str) -> Vec<String> {
    let options = format!("-o BatchMode=yes -o ControlMaster=no -o ControlPath=none {COMMON} -T");
    ssh(&options, target, PROBE_SCRIPT)
}

fn words(argv: &[String]) -> Vec<&str> {
    argv.iter().map(String::as_str).collect()
}

/// As a person would type it.
fn typed(argv: &[String]) -> String {
    argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// u@127.0.0.1:2222 whose probe answers `first`, then (after a fix) as a server that works.
fn plain(first: &str) -> Rig {
    Rig::plain()
        .probe(Reply::ok(first))
        .probe(Reply::ok(PROBE_SERVER))
}

/// The fix of `id` ran and said `sentence`.
fn did(done: &Done, id: &str, sentence: &str) {
    let want = Outcome::Done(sentence.to_string());
    assert_eq!(done.outcome(id), Some(&want), "{id}");
}

/// Setup without a terminal and without --yes changes nothing and stops at `id`, naming --yes;
/// then setup with --yes.
fn declined_then_yes(rig: &Rig, id: &str) -> Done {
    let declined = rig.run(Mode::Setup, &options(), &SLICE);
    assert_eq!(declined.outcome(id), Some(&no_consent("--yes")), "{id}");
    assert!(declined.changes().is_empty(), "{:?}", declined.changes());
    assert!(declined.report.stopped, "{id}");
    rig.run(Mode::Setup, &yes(), &SLICE)
}

#[test]
fn a_user_outside_group_docker_is_added_with_sudo_n_under_yes_and_never_without_consent() {
    let usermod = batch(PLAIN_TARGET, USERMOD_NO_PASSWORD_SCRIPT);
    let rig = plain(PROBE_SOCKET_DENIED).on(&words(&usermod), Reply::ok(""));

    let doctor = rig.run(Mode::Doctor, &yes(), &SLICE);
    assert!(doctor.find("remote-daemon").fixable);
    insta::assert_snapshot!(doctor.render("remote-daemon"), @r#"
    remote-daemon fail: u may not use the docker socket (permission denied while trying to connect to the Docker daemon socket at unix:///tmp/rec-dockerd/docker.sock: Get "http://%2Ftmp%2Frec-dockerd%2Fdocker.sock/v1.50/version": dial unix /tmp/rec-dockerd/docker.sock: connect: permission denied)
    fix: on 127.0.0.1: sudo usermod -aG docker u (then log in again)
    "#);

    let dry = rig.run(Mode::DryRun, &yes(), &SLICE);
    let first = "would run on 127.0.0.1 with sudo -n (no terminal: only where sudo needs no password): sudo usermod -aG docker u";
    let want = format!("{first}\nwould run: {}\n{AGAIN}", typed(&usermod));
    assert_eq!(dry.would("remote-daemon"), want);
    let dry = rig.run(Mode::DryRun, &options(), &SLICE);
    let first = "would stop without a terminal unless --yes is given; then it runs on 127.0.0.1 with sudo -n: sudo usermod -aG docker u\n";
    assert!(dry.would("remote-daemon").starts_with(first));

    let done = declined_then_yes(&rig, "remote-daemon");
    insta::assert_snapshot!(done.render("remote-daemon"), @"remote-daemon ok: docker daemon 20.10.24+dfsg1 answers u on 127.0.0.1");
    let added = "added u to group docker on 127.0.0.1";
    did(&done, "remote-daemon", added);
    let ran = done.the(&words(&usermod));
    assert!(!ran.interactive && !ran.shown && ran.stdin.is_none());
    // The check after it logs in anew: never through a shared connection.
    let probes: Vec<String> = without_identity(done.ran().into_iter().skip(2));
    let first_probe = typed(&batch(PLAIN_TARGET, PROBE_SCRIPT));
    let want = [
        first_probe,
        typed(&usermod),
        typed(&own_probe(PLAIN_TARGET)),
    ];
    assert_eq!(probes, want, "no ControlPath: no master to stop");
}

#[test]
fn sudo_that_needs_a_password_without_a_terminal_fails_naming_what_to_run() {
    let usermod = batch(PLAIN_TARGET, USERMOD_NO_PASSWORD_SCRIPT);
    let rig = plain(PROBE_SOCKET_DENIED).on(&words(&usermod), Reply::fail(1, SUDO_N_PASSWORD));
    let done = rig.run(Mode::Setup, &yes(), &SLICE);
    insta::assert_snapshot!(done.render("remote-daemon"), @r"
    remote-daemon fail: `sudo -n` on 127.0.0.1 did not run `sudo usermod -aG docker u` (sudo: a password is required): sudo there needs a password, and without a terminal rdock has nowhere for it to ask; run rdock setup at a terminal, or `ssh -t -p 2222 u@127.0.0.1 sudo usermod -aG docker u`
    fix: on 127.0.0.1: sudo usermod -aG docker u (then log in again)
    ");
    assert!(done.report.stopped);
}

#[test]
fn at_a_terminal_sudo_asks_over_ssh_t_and_the_shared_connection_stops() {
    // box: alice@10.0.0.5:2222 with ControlMaster auto, so a master may hold the old groups.
    let target = "-l alice -p 2222 -- box";
    let usermod = terminal(target, USERMOD_SCRIPT);
    let stop: Vec<&str> = "ssh -O stop -l alice -p 2222 -- box".split(' ').collect();
    let prompt = Reply::ok("[sudo] password for alice: \r\n");
    let stopped = Reply::exit(Some(0), "", "Stop listening request sent.\r\n");
    let rig = Rig::alias()
        .probe(Reply::ok(PROBE_SOCKET_DENIED))
        .probe(Reply::ok(PROBE_SERVER))
        .on(&words(&usermod), prompt)
        .on(&stop, stopped);
    let at_terminal = |mode: Mode, yes: bool| {
        let mut s = rig.session(mode);
        s.term = Term::answering(yes);
        let kinds = ["destination", "remote-daemon"];
        let mut steps = rig.steps(Purpose::Setup, &options(), &kinds);
        rig.run_in(s, mode, &mut steps)
    };

    let dry = at_terminal(Mode::DryRun, true);
    let first = "would run on 10.0.0.5 over ssh with a terminal, where sudo asks for its password: sudo usermod -aG docker alice";
    let want = format!("{first}\nwould run: {}\n{AGAIN}", typed(&usermod));
    assert_eq!(dry.would("remote-daemon"), want);

    let no = at_terminal(Mode::Setup, false);
    let said_no = Outcome::Declined("you said no".into());
    assert_eq!(no.outcome("remote-daemon"), Some(&said_no));
    assert!(no.changes().is_empty());

    let done = at_terminal(Mode::Setup, true);
    assert_eq!(done.find("remote-daemon").status, Status::Ok);
    let added = "added alice to group docker on 10.0.0.5; the shared ssh connection, which kept the old groups, takes no new sessions";
    did(&done, "remote-daemon", added);
    let ran = done.the(&words(&usermod));
    assert!(ran.interactive && ran.shown, "sudo asks on the terminal");
    assert_eq!(ran.stdin, None, "the terminal is ssh's stdin");
    // After `ssh -G` with and without the config: usermod, the master stops, then the probe over
    // a connection of its own.
    let order: Vec<String> = without_identity(done.ran().into_iter().skip(2));
    let first_probe = typed(&batch(target, PROBE_SCRIPT));
    let want = [
        first_probe,
        typed(&usermod),
        stop.join(" "),
        typed(&own_probe(target)),
    ];
    assert_eq!(order, want);
}

#[test]
fn docker_found_by_a_bash_login_shell_gets_a_line_above_the_bashrc_check() {
    let read = batch(PLAIN_TARGET, READ_RC_SCRIPT);
    let write = batch(PLAIN_TARGET, WRITE_RC_SCRIPT);
    let rig = plain(PROBE_LOGIN_BASH)
        .on(&words(&read), Reply::ok(RC_READ_BASHRC))
        .on(&words(&write), Reply::ok(RC_WRITTEN));

    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(doctor.render("remote-path"), @r#"
    remote-path fail: docker is not on the non-interactive PATH of u@127.0.0.1:2222 (exit 127); the login shell (bash) finds it at /opt/docker/bin/docker
    fix: add this line to ~/.bashrc on 127.0.0.1, above its interactive check (or at its end when it has none):
         export PATH="$PATH:/opt/docker/bin"  # added by rdock: docker for ssh commands
         or link it: ssh -t -p 2222 u@127.0.0.1 sudo ln -sn /opt/docker/bin/docker /usr/local/bin/docker
    "#);
    assert!(doctor.find("remote-path").fixable);
    assert_eq!(
        doctor.ran().len(),
        3,
        "doctor reads no file: ssh -G (with and without the config), probe"
    );

    let dry = rig.run(Mode::DryRun, &yes(), &SLICE);
    let head = format!("would add this line to ~/.bashrc on 127.0.0.1, {PLACE}:\n  {LINE}");
    let commands = format!("would run: {}\nwould run: {}", typed(&read), typed(&write));
    assert_eq!(dry.would("remote-path"), format!("{head}\n{commands}"));

    let done = declined_then_yes(&rig, "remote-path");
    insta::assert_snapshot!(done.render("remote-path"), @"remote-path ok: docker is on the non-interactive PATH of 127.0.0.1 (/usr/local/bin/docker)");
    let added = format!("added `{LINE}` to ~/.bashrc on 127.0.0.1");
    did(&done, "remote-path", &added);
    assert_eq!(done.find("remote-daemon").status, Status::Ok);
    assert_eq!(done.the(&words(&read)).stdin, Some(b".bashrc\n".to_vec()));
    // The new text: the stamp read, then the file with the line above the check's comment, and
    // every other byte as it was.
    let bashrc = RC_READ_BASHRC.split_once('\n').unwrap().1;
    let (above, below) = bashrc.split_at(bashrc.find("# If not running").unwrap());
    let sent = String::from_utf8(done.the(&words(&write)).stdin.unwrap()).unwrap();
    let want = format!(".bashrc\n2809121674 3526\n{above}{LINE}\n{below}");
    assert_eq!(sent, want);
}

#[test]
fn zsh_gets_the_line_in_zshenv_and_a_file_changed_meanwhile_is_not_written() {
    let read = batch(PLAIN_TARGET, READ_RC_SCRIPT);
    let write = batch(PLAIN_TARGET, WRITE_RC_SCRIPT);
    let rig = |written: Reply| {
        plain(PROBE_LOGIN_ZSH)
            .on(&words(&read), Reply::ok(RC_READ_MISSING))
            .on(&words(&write), written)
    };
    let done = rig(Reply::ok(RC_WRITTEN)).run(Mode::Setup, &yes(), &SLICE);
    let added = format!("added `{LINE}` to ~/.zshenv on 127.0.0.1");
    did(&done, "remote-path", &added);
    assert_eq!(done.the(&words(&read)).stdin, Some(b".zshenv\n".to_vec()));
    let sent = done.the(&words(&write)).stdin;
    assert_eq!(
        sent,
        Some(format!(".zshenv\nmissing\n{LINE}\n").into_bytes())
    );

    let raced = rig(Reply::fail(4, RC_WRITE_CHANGED)).run(Mode::Setup, &yes(), &SLICE);
    insta::assert_snapshot!(raced.render("remote-path"), @r#"
    remote-path fail: could not write ~/.zshenv on 127.0.0.1: rdock: ~/.zshenv changed since rdock read it; nothing was written
    fix: add this line to ~/.zshenv on 127.0.0.1, above its interactive check (or at its end when it has none):
         export PATH="$PATH:/opt/docker/bin"  # added by rdock: docker for ssh commands
         or link it: ssh -t -p 2222 u@127.0.0.1 sudo ln -sn /opt/docker/bin/docker /usr/local/bin/docker
    "#);
}

#[test]
fn a_startup_file_that_is_not_utf8_is_never_written() {
    let read = batch(PLAIN_TARGET, READ_RC_SCRIPT);
    // "h\xe9llo\n" (Latin-1) as the lossy decoding of ssh's output shows it, with its real cksum.
    let text = String::from_utf8_lossy(b"h\xe9llo\n");
    let latin1 = format!("rdock-rc 2744504162 6\n{text}");
    let rig = plain(PROBE_LOGIN_BASH).on(&words(&read), Reply::ok(latin1));
    let done = rig.run(Mode::Setup, &yes(), &SLICE);
    insta::assert_snapshot!(done.render("remote-path"), @r#"
    remote-path fail: ~/.bashrc on 127.0.0.1 is not UTF-8 text; rdock leaves it as it is
    fix: add this line to ~/.bashrc on 127.0.0.1, above its interactive check (or at its end when it has none):
         export PATH="$PATH:/opt/docker/bin"  # added by rdock: docker for ssh commands
         or link it: ssh -t -p 2222 u@127.0.0.1 sudo ln -sn /opt/docker/bin/docker /usr/local/bin/docker
    "#);
    assert!(done.changes().is_empty(), "{:?}", done.ran());
}

#[test]
fn a_login_shell_that_reads_no_startup_file_gets_a_link_through_sudo() {
    let link = batch(PLAIN_TARGET, LINK_NO_PASSWORD_SCRIPT);
    let rig = plain(PROBE_LOGIN_SH).on(&words(&link), Reply::ok(""));
    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(doctor.render("remote-path"), @r"
    remote-path fail: docker is not on the non-interactive PATH of u@127.0.0.1:2222 (exit 127); the login shell (sh) finds it at /opt/docker/bin/docker
    fix: on 127.0.0.1: sudo ln -sn /opt/docker/bin/docker /usr/local/bin/docker (sh reads no startup file for ssh commands)
    ");

    let done = declined_then_yes(&rig, "remote-path");
    let linked = "linked /opt/docker/bin/docker into /usr/local/bin on 127.0.0.1";
    did(&done, "remote-path", linked);
    assert_eq!(done.changes(), [typed(&link)]);
}

#[test]
fn a_link_refused_over_an_existing_file_is_said_as_it_is_not_as_a_password() {
    let link = batch(PLAIN_TARGET, LINK_NO_PASSWORD_SCRIPT);
    // What the script printed on the remote (tests/e2e/repair.rs stages it).
    let exists = "rdock: /usr/local/bin/docker exists already, and rdock never replaces it\n";
    let rig = plain(PROBE_LOGIN_SH).on(&words(&link), Reply::fail(5, exists));
    let done = rig.run(Mode::Setup, &yes(), &SLICE);
    assert_eq!(done.find("remote-path").status, Status::Fail);
    insta::assert_snapshot!(done.render("remote-path"), @r"
    remote-path fail: `sudo ln -sn /opt/docker/bin/docker /usr/local/bin/docker` failed on 127.0.0.1: rdock: /usr/local/bin/docker exists already, and rdock never replaces it
    fix: on 127.0.0.1: sudo ln -sn /opt/docker/bin/docker /usr/local/bin/docker (sh reads no startup file for ssh commands)
    ");
    assert!(done.report.stopped);
}

#[test]
fn docker_the_login_shell_does_not_find_either_keeps_the_install_advice() {
    let done = plain(PROBE_LOGIN_NONE).run(Mode::Setup, &yes(), &SLICE);
    insta::assert_snapshot!(done.render("remote-path"), @r"
    remote-path fail: docker is not on the non-interactive PATH of u@127.0.0.1:2222 (exit 127)
    fix: install docker on 127.0.0.1, or put its directory on PATH for non-interactive shells (e.g. in ~/.bashrc above the interactive check); `ssh -p 2222 u@127.0.0.1 command -v docker` must print a path
    ");
    let f = done.find("remote-path");
    assert!(!f.fixable && f.outcome.is_none());
    assert!(done.changes().is_empty());
}
