//! Fuzz the probe parser, which reads what the remote (and ssh, with the server's banner) printed.
//!
//! The oracle: what is parsed is what was framed. The fuzzer's bytes give the values the remote
//! would print (the login shell, where docker is, docker's exit code and output, a rootless
//! socket, the PATH and login shell when docker is not found, a startup file's noise before and
//! after the report); they are framed as `src/ssh/scripts/probe.sh` frames them, parsed, and
//! every field must come back as the value that went in, by a model written here, not read off
//! the parser. Values are taken as the script can carry them: one line each (docker's output and
//! the noise may span lines), trimmed, and none holds the report's markers.
//!
//! Besides, the raw bytes (an exit code, stdout, stderr) go to the parser as they are: it never
//! panics, whatever arrives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdock::ssh::connect::Connect;
use rdock::ssh::probe::{parse_probe, Login, Probe, RemoteDocker, DOCKER_TIMEOUT};

const BEGIN: &str = "rdock-probe-2-begin";
const END: &str = "rdock-probe-2-end";

/// A field the script prints on one line: no line break, and the parser trims it.
fn one_line(s: &str) -> String {
    s.replace('\n', "").trim().to_string()
}

/// The first non-empty line of `text`, trimmed, at most 200 characters (the noise rdock names).
fn first_line(text: &str) -> Option<String> {
    text.split('\n')
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(200).collect())
}

/// The last non-empty line of `text`, trimmed (docker's message).
fn last_line(text: &str) -> String {
    text.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .last()
        .unwrap_or("")
        .to_string()
}

/// What `docker version --format {{.Server.Version}}` printed and exited with means.
fn docker_verdict(exit: i32, out: &str) -> RemoteDocker {
    let lower = out.to_ascii_lowercase();
    match exit {
        0 => RemoteDocker::Server(out.split('\n').next_back().unwrap_or("").trim().to_string()),
        124 => RemoteDocker::Hung(DOCKER_TIMEOUT),
        _ if lower.contains("permission denied") => RemoteDocker::PermissionDenied(last_line(out)),
        _ if lower.contains("cannot connect to the docker daemon")
            || lower.contains("is the docker daemon running") =>
        {
            RemoteDocker::DaemonDown(last_line(out))
        }
        _ => RemoteDocker::Other(last_line(out)),
    }
}

/// Frame a report from the fuzzer's values, as probe.sh prints it, and say what it must parse to.
fn framed(data: &[u8]) -> Option<(String, Probe)> {
    let text = String::from_utf8_lossy(data);
    if text.contains("rdock-probe-2") {
        return None;
    }
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or("").to_string();
    let pick = next();
    let (shell, path, socket, version) = (next(), next(), next(), next());
    let (out, login_path, login_shell, login_docker) = (next(), next(), next(), next());
    let (before, after) = (next(), next());
    let (shell, path, socket, version) = (
        one_line(&shell),
        one_line(&path),
        one_line(&socket),
        one_line(&version),
    );
    // docker's output as $(…) keeps it: without trailing line breaks, and lines without a `\r`
    // at their end (str::lines reads "\r\n" as a line end, as a terminal does).
    let out = out.replace('\r', "");
    let out = out.trim_end_matches('\n').to_string();
    let found = pick.bytes().next().unwrap_or(0) % 5 != 4;
    let mut report = format!("{BEGIN}\nshell={shell}\n");
    let expected = if found {
        let exit = [0, 1, 124, 2][usize::from(pick.bytes().next().unwrap_or(0) % 5)];
        report.push_str(&format!(
            "docker-path={path}\ndocker-exit={exit}\nrdock-socket={socket}\nrdock-socket-version={version}\n{out}\n"
        ));
        Probe {
            connect: Connect::Ok,
            docker_path: Some(path).filter(|p| !p.is_empty()),
            docker: Some(docker_verdict(exit, out.trim())),
            other_socket: (socket.starts_with('/') && !version.is_empty())
                .then(|| (socket, version)),
            shell: Some(shell).filter(|s| !s.is_empty()),
            noise: None,
            forced: None,
            login: None,
            limits: Vec::new(),
        }
    } else {
        let (login_path, login_shell, login_docker) = (
            one_line(&login_path),
            one_line(&login_shell),
            one_line(&login_docker),
        );
        report.push_str(&format!(
            "docker-path=\ndocker-exit=127\npath={login_path}\nlogin-shell={login_shell}\nlogin-docker={login_docker}\n"
        ));
        Probe {
            connect: Connect::Ok,
            docker_path: None,
            docker: Some(RemoteDocker::NotOnPath),
            other_socket: None,
            shell: Some(shell).filter(|s| !s.is_empty()),
            noise: None,
            forced: None,
            login: Some(Login {
                path: login_path,
                shell: login_shell,
                docker: Some(login_docker).filter(|d| d.starts_with('/')),
            }),
            limits: Vec::new(),
        }
    };
    report.push_str(END);
    let stdout = format!("{before}\n{report}\n{after}");
    let noise = first_line(&before).or_else(|| first_line(&after));
    Some((stdout, Probe { noise, ..expected }))
}

fuzz_target!(|data: &[u8]| {
    if let Some((stdout, expected)) = framed(data) {
        let parsed = parse_probe(Some(0), &stdout, "");
        assert_eq!(parsed, expected, "framed as:\n{stdout:?}");
    }

    // The raw bytes: the first picks ssh's exit code; the rest is stdout, then stderr after a NUL.
    let Some((&code, rest)) = data.split_first() else {
        return;
    };
    let code = match code {
        0..=127 => Some(i32::from(code)),
        128..=254 => Some(255),
        255 => None,
    };
    let text = String::from_utf8_lossy(rest);
    let (stdout, stderr) = text.split_once('\0').unwrap_or((&text, ""));
    // The begin marker first too, so the report's branch sees arbitrary lines.
    let marked = format!("{BEGIN}\n{stdout}");
    for stdout in [stdout, marked.as_str()] {
        let _ = parse_probe(code, stdout, stderr);
    }
});
