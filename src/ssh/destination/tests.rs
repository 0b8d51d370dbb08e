//! The destination's parser, resolution and endpoint, against what ssh and docker accept.
use super::*;

fn ok(input: &str) -> Destination {
    Destination::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
}

#[test]
fn accepts_every_documented_form() {
    let d = ok("u@h.example:2222");
    assert_eq!(
        (d.user.as_deref(), d.host.as_str(), d.port),
        (Some("u"), "h.example", Some(2222))
    );
    let d = ok("ssh://u@h:22");
    assert_eq!(
        (d.user.as_deref(), d.host.as_str(), d.port),
        (Some("u"), "h", Some(22))
    );
    let d = ok("u@[::1]:2222");
    assert_eq!((d.host.as_str(), d.port), ("::1", Some(2222)));
    let d = ok("ssh://[fe80::1]");
    assert_eq!((d.host.as_str(), d.port), ("fe80::1", None));
    let d = ok("myvm");
    assert_eq!((d.user, d.host.as_str(), d.port), (None, "myvm", None));
    assert_eq!(ok("::1").host, "::1");
}

#[test]
fn refuses_what_could_inject_or_is_malformed() {
    for bad in [
        "",
        " ",
        "u@h x",
        "u@h\n",
        "h\0",
        "-oProxyCommand=touch /tmp/x",
        "-oProxyCommand=x",
        "u@-h",
        "-u@h",
        "h;id",
        "h|id",
        "$(id)",
        "`id`",
        "h'",
        "h\"",
        "h:0",
        "h:65536",
        "h:22x",
        "h:",
        "ssh://u:pw@h",
        "ssh://h/path",
        "ssh://h/",
        "ssh://h?x=1",
        "ssh://h#f",
        "http://h",
        "tcp://h:2375",
        "@h",
        "u@",
        "u@h@i",
        "[::1",
        "[nothost]:22",
        "h:1:2:x",
    ] {
        let err = Destination::parse(bad).expect_err(bad);
        assert!(
            err.to_string().starts_with("invalid destination"),
            "{bad}: {err}"
        );
    }
}

/// What `ssh -G` resolves `u@box:2222` to, with `HostName 10.0.0.5` in ssh_config.
pub(crate) fn resolved_box() -> Resolved {
    use crate::sys::exec::{Reply, Script};
    let exec = Exec::scripted(Script::new().on_prefix(
        &["ssh", "-G"],
        Reply::ok("user u\nhostname 10.0.0.5\nport 2222\n"),
    ));
    resolve(&exec, &ok("u@box:2222")).unwrap()
}

#[test]
fn the_same_login_is_the_same_user_host_and_port_whatever_the_socket() {
    let r = resolved_box();
    for same in [
        "ssh://u@box:2222",
        "ssh://u@10.0.0.5:2222",
        "ssh://box:2222",
        "ssh://u@box:2222/run/user/1000/docker.sock",
        // ssh -G gives it the port it gives this destination.
        "ssh://u@box",
    ] {
        assert!(r.same_login(same), "{same}");
    }
    for other in [
        "ssh://v@box:2222",
        "ssh://u@box:22",
        "ssh://u@other:2222",
        "unix:///var/run/docker.sock",
    ] {
        assert!(!r.same_login(other), "{other}");
    }
    // The endpoint setup writes is the same login, and a socket makes another endpoint.
    assert!(r.same_endpoint("ssh://u@box:2222"));
    assert!(!r.same_endpoint("ssh://u@box:2222/run/user/1000/docker.sock"));
    // What the endpoint leaves out ssh -G fills in; another host is another endpoint.
    assert!(r.same_endpoint("ssh://box"));
    assert!(!r.same_endpoint("ssh://u@other:2222"));
}

#[test]
fn endpoints_take_a_socket_path_and_nothing_a_shell_would_read() {
    let e = Endpoint::parse("ssh://u@h/run/user/1000/docker.sock").unwrap();
    assert_eq!(
        (e.dest, e.socket.as_deref()),
        (ok("u@h"), Some("/run/user/1000/docker.sock"))
    );
    let e = Endpoint::parse("ssh://u@[::1]:2222").unwrap();
    assert_eq!((e.dest, e.socket), (ok("u@[::1]:2222"), None));
    assert_eq!(Endpoint::parse("ssh://h/").unwrap().socket, None);
    for bad in [
        "tcp://h:2375",
        "ssh://h/run/$(id)",
        "ssh://h/../etc/x",
        "ssh://h/a b",
        "ssh://-oProxyCommand=x/s",
        "ssh://h/a;b",
    ] {
        assert!(Endpoint::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn display_round_trips() {
    for s in ["u@h:2222", "h", "u@[::1]:22", "[::1]", "a.b-c_d"] {
        assert_eq!(ok(s).to_string(), s);
        assert_eq!(ok(&ok(s).to_string()), ok(s));
    }
}

#[test]
fn parses_ssh_g_output() {
    let text = "user alice\nhostname 10.0.0.5\nport 2222\nidentityfile ~/.ssh/id_ed25519\nidentityfile ~/.ssh/id_rsa\nuserknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2\n";
    let cfg = parse_ssh_g(text);
    assert_eq!(get(&cfg, "port").as_deref(), Some("2222"));
    assert_eq!(cfg.iter().filter(|(k, _)| k == "identityfile").count(), 2);
}

/// Each refusal says its own reason, so a check that stopped working is not hidden by a later
/// one refusing the same input with another sentence.
#[test]
fn each_refusal_names_its_own_reason() {
    for (input, reason) in [
        ("h\u{1}x", "control character"),
        ("u@h x", "whitespace"),
        ("u;x@h", "shell metacharacter"),
        ("u@h;x", "shell metacharacter"),
        ("h%x", "not allowed in a host name"),
        ("u%@h", "not allowed in a user name"),
        ("h:22x", "is not a number"),
        ("h:", "is not a number"),
    ] {
        let err = Destination::parse(input).unwrap_err().to_string();
        assert!(err.contains(reason), "{input:?}: {err}");
    }
}

#[test]
fn the_endpoint_and_the_names_for_messages_hold_what_ssh_resolved() {
    let r = resolved_box();
    assert_eq!(r.endpoint(), "ssh://u@box:2222");
    assert_eq!(r.display(), "u@10.0.0.5:2222");
    assert_eq!(r.address(), "10.0.0.5:2222");
    assert_eq!(r.login_args(), "-p 2222 u@box");
}

#[test]
fn only_a_host_without_a_jump_or_a_proxy_command_is_dialed_directly() {
    let mut r = resolved_box();
    assert!(r.direct());
    r.proxy_jump = Some("bastion".into());
    assert!(!r.direct());
    r.proxy_jump = None;
    r.proxy_command = Some("nc %h %p".into());
    assert!(!r.direct());
}

#[test]
fn the_known_hosts_name_is_the_alias_or_the_host_with_a_port_not_22() {
    let mut r = resolved_box();
    assert_eq!(r.known_hosts_name(), "[10.0.0.5]:2222");
    r.host_key_alias = Some("box-alias".into());
    assert_eq!(r.known_hosts_name(), "box-alias");
}

#[test]
fn what_ssh_g_says_about_keys_aliases_and_sharing_is_read() {
    use crate::sys::exec::{Reply, Script};
    let resolve_with = |extra: &str| {
        let exec = Exec::scripted(Script::new().on_prefix(
            &["ssh", "-G"],
            Reply::ok(format!("user u\nhostname h\nport 22\n{extra}")),
        ));
        resolve(&exec, &ok("u@h")).unwrap()
    };
    let r = resolve_with(
        "identitiesonly yes\nhostkeyalias box\ncontrolmaster auto\ncontrolpath ~/.ssh/cm-%C\n",
    );
    assert!(r.identities_only);
    assert_eq!(r.host_key_alias.as_deref(), Some("box"));
    assert_eq!(r.control_master.as_deref(), Some("auto"));
    assert_eq!(r.control_path.as_deref(), Some("~/.ssh/cm-%C"));
    let r =
        resolve_with("identitiesonly no\nhostkeyalias none\ncontrolmaster no\ncontrolpath none\n");
    assert!(!r.identities_only);
    assert_eq!(
        (r.host_key_alias, r.control_master, r.control_path),
        (None, None, None)
    );
    assert_eq!(resolve_with("controlmaster false\n").control_master, None);
}

/// `ssh -G` (and `ssh -G -F FILE`) answers `config`; `ssh -G -F none` (ssh's defaults), `bare`.
fn scripted_g(config: &str, bare: &str) -> Exec {
    use crate::sys::exec::{Reply, Script};
    Exec::scripted(
        Script::new()
            .on_prefix(&["ssh", "-G"], Reply::ok(config))
            .on_prefix(&["ssh", "-G", "-F", "none"], Reply::ok(bare)),
    )
}

const DEFAULTS: &str =
    "user me\nhostname h\nport 22\nidentityfile ~/.ssh/id_rsa\nidentityfile ~/.ssh/id_ed25519\n";

#[test]
fn what_ssh_config_adds_to_ssh_s_defaults_is_told_apart() {
    let resolve_with = |config: &str| resolve(&scripted_g(config, DEFAULTS), &ok("h")).unwrap();
    let r = resolve_with(DEFAULTS);
    assert_eq!(r.user_source, UserSource::LocalName);
    assert!(!r.identity_file_configured);
    assert_eq!(r.identity_files, ["~/.ssh/id_rsa", "~/.ssh/id_ed25519"]);
    assert!(!r.hash_known_hosts);
    assert_eq!((r.proxy_jump, r.proxy_command), (None, None));
    let r = resolve_with(
        "user alice\nhostname h\nport 22\nidentityfile ~/.ssh/work\nidentityfile none\n\
         userknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2\nglobalknownhostsfile none\n\
         hashknownhosts yes\nproxyjump bastion\nproxycommand none\n",
    );
    assert_eq!(r.user_source, UserSource::SshConfig);
    assert!(r.identity_file_configured);
    assert_eq!(r.identity_files, ["~/.ssh/work"]);
    assert_eq!(
        r.user_known_hosts,
        ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"]
    );
    assert!(r.global_known_hosts.is_empty());
    assert!(r.hash_known_hosts);
    assert_eq!(r.proxy_jump.as_deref(), Some("bastion"));
    assert_eq!(r.proxy_command, None);
}

#[test]
fn one_file_s_view_of_a_host_is_what_ssh_g_says_with_that_file_alone() {
    let file = "/home/me/.ssh/config";
    let view = |config: &str| {
        resolve_in_file(&scripted_g(config, DEFAULTS), "box", Path::new(file)).unwrap()
    };
    let v = view(DEFAULTS);
    assert!(!v.identity_file_configured);
    assert_eq!((v.proxy_jump, v.proxy_command), (None, None));
    let v = view("user me\nhostname 10.0.0.5\nport 2222\nidentityfile ~/.ssh/work\nproxyjump none\nproxycommand nc %h %p\n");
    assert_eq!(
        (v.hostname.as_str(), v.port, v.user.as_str()),
        ("10.0.0.5", 2222, "me")
    );
    assert!(v.identity_file_configured);
    assert_eq!(v.identity_files, ["~/.ssh/work"]);
    assert_eq!(
        (v.proxy_jump, v.proxy_command.as_deref()),
        (None, Some("nc %h %p"))
    );
}
