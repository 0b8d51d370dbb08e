//! Property tests of the destination parser and of docker context names: every valid
//! form parses to what was meant and survives the Display round trip; a forbidden character or
//! pattern put anywhere into a valid destination makes it an error, never a panic; and no string
//! at all makes the parser panic or accept something unsafe to hand to ssh.
//!
//! A NUL can never reach rdock through argv (the OS cannot pass it), so it is tested here, at the
//! parser, with the other control characters.

use std::net::Ipv6Addr;

use proptest::prelude::*;
use rdock::docker::{default_context_name, validate_name};
use rdock::ssh::destination::Destination;

/// Characters that would let a value act as something else (a shell would act on them, or they
/// split or end an argument, or they are a path). None may ever be in an accepted user or host.
const FORBIDDEN: &str = ";|&$`'\"\\<>(){}*?!#~^,=/ \t\n\r\0";

fn name_part() -> impl Strategy<Value = String> {
    // What a user or host name may hold: letters, digits, '.', '_', '+', and '-' (not first).
    "[a-zA-Z0-9._+][a-zA-Z0-9._+-]{0,20}"
}

fn ipv6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u16; 8]>().prop_map(|s| Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]))
}

/// A valid destination, as the user would type it, and the value it must parse to.
fn valid() -> impl Strategy<Value = (String, Destination)> {
    let user = proptest::option::of(name_part());
    let port = proptest::option::of(1u16..=65535);
    let host = prop_oneof![
        3 => name_part().prop_map(|h| (h.clone(), h)),
        1 => ipv6().prop_map(|ip| (ip.to_string(), ip.to_string())),
    ];
    (user, host, port, any::<bool>(), any::<bool>()).prop_map(
        |(user, (host, parsed_host), port, url, brackets)| {
            let ip = host.contains(':');
            let mut text = String::new();
            if url {
                text.push_str("ssh://");
            }
            if let Some(u) = &user {
                text.push_str(u);
                text.push('@');
            }
            // A port after an IPv6 address needs brackets; without a port, brackets are optional.
            let port = if ip && !brackets { None } else { port };
            if ip && (brackets || port.is_some()) {
                text.push_str(&format!("[{host}]"));
            } else {
                text.push_str(&host);
            }
            if let Some(p) = port {
                text.push_str(&format!(":{p}"));
            }
            let dest = Destination {
                user,
                host: parsed_host,
                port,
            };
            (text, dest)
        },
    )
}

/// Something that must make any destination invalid, wherever it is put.
fn poison() -> impl Strategy<Value = String> {
    let single = proptest::sample::select(
        ";|&$`'\"\\<>(){}*?!#~^,=/ \t\n\r\0\u{7}\u{1b}\u{7f}\u{85}\u{a0}\u{2028}\u{3000}"
            .chars()
            .collect::<Vec<_>>(),
    )
    .prop_map(String::from);
    let pattern = proptest::sample::select(vec![
        "$(id)",
        "`id`",
        "; rm -rf ~",
        "| nc h 1",
        "&& id",
        "' -oProxyCommand='x",
        "\" -o x",
        "\n-oProxyCommand=x",
        "${IFS}",
        "\0x",
    ])
    .prop_map(String::from);
    prop_oneof![single, pattern]
}

/// Valid destinations with something that makes them invalid.
fn invalid() -> impl Strategy<Value = String> {
    let injected =
        (valid(), poison(), any::<prop::sample::Index>()).prop_map(|((text, _), p, at)| {
            let positions: Vec<usize> = (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .collect();
            let at = positions[at.index(positions.len())];
            format!("{}{p}{}", &text[..at], &text[at..])
        });
    let dash_user = (name_part(), name_part(), any::<bool>())
        .prop_map(|(u, h, url)| format!("{}-{u}@{h}", if url { "ssh://" } else { "" }));
    let dash_host = (
        proptest::option::of(name_part()),
        name_part(),
        any::<bool>(),
    )
        .prop_map(|(u, h, url)| {
            let user = u.map(|u| format!("{u}@")).unwrap_or_default();
            format!("{}{user}-{h}", if url { "ssh://" } else { "" })
        });
    let bad_port = (
        name_part(),
        prop_oneof![
            Just("0".to_string()),
            (65536u64..=u64::MAX).prop_map(|p| p.to_string()),
            "[0-9]{0,4}[a-zA-Z+-][0-9a-z]{0,3}",
            Just(String::new()),
            "0{1,5}",
        ],
    )
        .prop_map(|(h, p)| format!("{h}:{p}"));
    let bad_v6_port = (
        ipv6(),
        prop_oneof![Just("0".to_string()), "[a-z]{1,3}", Just(String::new())],
    )
        .prop_map(|(ip, p)| format!("[{ip}]:{p}"));
    let url_extra = (
        valid(),
        prop_oneof!["/[a-z~]{0,8}", "\\?[a-z=]{0,8}", "#[a-z]{0,8}",],
    )
        .prop_map(|((text, _), extra)| {
            let rest = text.strip_prefix("ssh://").unwrap_or(&text);
            format!("ssh://{rest}{extra}")
        });
    let password = (name_part(), "[a-zA-Z0-9]{0,8}", name_part())
        .prop_map(|(u, pw, h)| format!("ssh://{u}:{pw}@{h}"));
    let scheme = ("[a-z][a-z0-9+.-]{0,8}", valid())
        .prop_filter("not ssh", |(s, _)| !s.eq_ignore_ascii_case("ssh"))
        .prop_map(|(s, (text, _))| {
            let rest = text.strip_prefix("ssh://").unwrap_or(&text);
            format!("{s}://{rest}")
        });
    prop_oneof![
        4 => injected,
        1 => dash_user,
        1 => dash_host,
        1 => valid().prop_map(|(text, _)| format!("-{text}")),
        1 => bad_port,
        1 => bad_v6_port,
        1 => url_extra,
        1 => password,
        1 => scheme,
    ]
}

/// What must hold of anything the parser accepts.
fn assert_safe(input: &str, d: &Destination) -> Result<(), TestCaseError> {
    let mut parts = vec![("host", d.host.as_str())];
    if let Some(u) = &d.user {
        parts.push(("user", u.as_str()));
        prop_assert!(!u.contains([':', '@']), "user {:?} from {:?}", u, input);
    }
    for (what, part) in parts {
        prop_assert!(!part.is_empty(), "empty {} from {:?}", what, input);
        prop_assert!(
            !part.starts_with('-'),
            "{} {:?} from {:?}",
            what,
            part,
            input
        );
        prop_assert!(
            !part
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || FORBIDDEN.contains(c)),
            "{} {:?} from {:?}",
            what,
            part,
            input
        );
    }
    if d.host.contains(':') {
        prop_assert!(
            d.host.parse::<Ipv6Addr>().is_ok(),
            "{:?} from {:?}",
            d.host,
            input
        );
    }
    prop_assert_ne!(d.port, Some(0));
    let shown = d.to_string();
    let again = Destination::parse(&shown);
    prop_assert_eq!(again.as_ref(), Ok(d), "{:?} shown as {:?}", input, shown);
    Ok(())
}

proptest! {
    // No regression files in the tree: a failure prints its minimal input instead.
    #![proptest_config(ProptestConfig {
        cases: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn valid_destinations_parse_to_what_was_meant_and_round_trip((text, want) in valid()) {
        let got = Destination::parse(&text);
        prop_assert_eq!(got.as_ref(), Ok(&want), "{:?}", text);
        let shown = want.to_string();
        prop_assert_eq!(Destination::parse(&shown), Ok(want.clone()), "shown as {:?}", shown);
        assert_safe(&text, &want)?;
    }

    #[test]
    fn a_forbidden_character_or_pattern_makes_it_invalid(text in invalid()) {
        let err = Destination::parse(&text);
        prop_assert!(err.is_err(), "{:?} was accepted as {:?}", text, err);
        let message = err.unwrap_err().to_string();
        prop_assert!(message.starts_with("invalid destination "), "{}", message);
        // Every refusal says what to write instead.
        prop_assert!(message.contains("Expected [user@]host[:port]"), "{}", message);
    }

    #[test]
    fn no_string_makes_the_parser_panic_or_accept_something_unsafe(text in any::<String>()) {
        if let Ok(d) = Destination::parse(&text) {
            assert_safe(&text, &d)?;
        }
    }

    #[test]
    fn strings_near_a_destination_never_panic(text in "(ssh://)?[a-z@:\\[\\]0-9.%/?#-]{0,24}") {
        if let Ok(d) = Destination::parse(&text) {
            assert_safe(&text, &d)?;
        }
    }

    #[test]
    fn accepted_context_names_follow_dockers_rule(name in any::<String>()) {
        if validate_name(&name).is_ok() {
            let mut chars = name.chars();
            prop_assert!(chars.next().is_some_and(|c| c.is_ascii_alphanumeric()), "{:?}", name);
            prop_assert!(name.len() >= 2, "{:?}", name);
            prop_assert!(
                chars.all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c)),
                "{:?}",
                name
            );
            prop_assert_ne!(name.as_str(), "default");
        }
    }

    #[test]
    fn names_by_dockers_rule_are_accepted(name in "[a-zA-Z0-9][a-zA-Z0-9_.+-]{1,30}") {
        prop_assert_eq!(validate_name(&name).is_ok(), name != "default", "{:?}", name);
    }

    /// `rdock setup DEST` without --name must not refuse a valid destination because of the name
    /// it derives itself.
    #[test]
    fn every_valid_destination_gets_a_valid_default_context_name((_text, dest) in valid()) {
        let name = default_context_name(&dest);
        prop_assert!(validate_name(&name).is_ok(), "{:?} -> {:?}", dest, name);
    }
}

#[test]
fn nul_and_other_control_characters_are_refused_by_the_parser() {
    for bad in [
        "h\0",
        "\0h",
        "u\0@h",
        "u@h\0:22",
        "ssh://h\0",
        "h:2\x002",
        "[::1\0]",
        "h\x07",
        "h\x1b",
        "h\x7f",
        "h\u{85}",
    ] {
        let err = Destination::parse(bad).expect_err(bad);
        assert!(
            err.to_string().contains("control character"),
            "{bad:?}: {err}"
        );
    }
    for bad in ["a\0b", "\0", "ab\0", "a\nb"] {
        assert!(validate_name(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn derived_context_names_of_ordinary_destinations_are_valid() {
    for (dest, name) in [
        ("u@127.0.0.1:2222", "127.0.0.1-2222"),
        ("box", "box"),
        ("u@[::1]:22", "ssh---1"),
        ("ssh://me@build-box.example:22", "build-box.example"),
        ("u@h\u{e9}te", "h-te"),
        ("_x", "ssh-_x"),
    ] {
        let d = Destination::parse(dest).unwrap();
        assert_eq!(default_context_name(&d), name, "{dest}");
        assert!(validate_name(name).is_ok(), "{dest} -> {name}");
    }
}
