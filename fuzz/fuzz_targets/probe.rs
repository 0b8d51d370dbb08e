//! Fuzz the probe parser, which reads what the remote (and ssh, with the server's banner) printed:
//! it must never panic, whatever bytes arrive, and everything it keeps from that text must be
//! shown by rdock as data: `visible` leaves no control or bidi character in it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdock::ssh::probe::{parse_probe, Connect, Forced, RemoteDocker};
use rdock::sys::term::{needs_escape, visible};

fn shown_as_data(text: &str) {
    let shown = visible(text);
    assert!(
        !shown.chars().any(|c| needs_escape(c) && c != '\n' && c != '\t'),
        "{text:?} shown as {shown:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks ssh's exit code; the rest is stdout, then stderr after a NUL.
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
    // The probe's own begin marker first, half the time, so the report's branch is explored too.
    let marked = format!("rdock-probe-2-begin\n{stdout}");
    for stdout in [stdout, marked.as_str()] {
        let probe = parse_probe(code, stdout, stderr);
        match &probe.connect {
            Connect::Ok => {}
            Connect::AuthRefused(t)
            | Connect::HostKeyChanged(t)
            | Connect::HostKeyUnknown(t)
            | Connect::Unreachable(t)
            | Connect::TooMuch(t) => shown_as_data(t),
        }
        for text in [&probe.docker_path, &probe.shell, &probe.noise]
            .into_iter()
            .flatten()
        {
            shown_as_data(text);
        }
        if let Some(Forced::Other(t)) = &probe.forced {
            shown_as_data(t);
        }
        if let Some(login) = &probe.login {
            shown_as_data(&login.path);
            shown_as_data(&login.shell);
            if let Some(docker) = &login.docker {
                shown_as_data(docker);
                assert!(docker.starts_with('/'), "{docker:?}");
            }
        }
        match &probe.docker {
            Some(RemoteDocker::Server(t))
            | Some(RemoteDocker::PermissionDenied(t))
            | Some(RemoteDocker::DaemonDown(t))
            | Some(RemoteDocker::Other(t)) => shown_as_data(t),
            Some(RemoteDocker::NotOnPath) | Some(RemoteDocker::Hung(_)) | None => {}
        }
    }
});
