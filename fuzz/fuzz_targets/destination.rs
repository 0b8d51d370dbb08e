//! Fuzz `Destination::parse`: it must never panic, and whatever it accepts must be safe to hand to
//! ssh as one argv element and must survive the Display round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdock::ssh::destination::Destination;

/// What no accepted user or host may hold: a shell would act on it, or ssh would read an option.
const FORBIDDEN: &str = ";|&$`'\"\\<>(){}*?!#~^,=/ ";

fn check_part(what: &str, part: &str, input: &str) {
    assert!(!part.is_empty(), "{what} empty for {input:?}");
    assert!(
        !part.starts_with('-'),
        "{what} {part:?} starts with '-' for {input:?}"
    );
    assert!(
        !part
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || FORBIDDEN.contains(c)),
        "{what} {part:?} holds a forbidden character for {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    // Arguments arrive as OS strings; the CLI hands the parser UTF-8 text.
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(dest) = Destination::parse(input) else {
        return;
    };
    check_part("host", &dest.host, input);
    if let Some(user) = &dest.user {
        check_part("user", user, input);
        assert!(!user.contains([':', '@']), "user {user:?} for {input:?}");
    }
    assert_ne!(dest.port, Some(0), "port 0 accepted in {input:?}");
    if dest.host.contains(':') {
        assert!(
            dest.host.parse::<std::net::Ipv6Addr>().is_ok(),
            "host {:?} has ':' but is no IPv6 address ({input:?})",
            dest.host
        );
    }
    // Display round trip: what rdock prints (and passes on) parses back to the same value.
    let shown = dest.to_string();
    let again = Destination::parse(&shown)
        .unwrap_or_else(|e| panic!("{input:?} parsed to {dest:?}, shown as {shown:?}: {e}"));
    assert_eq!(again, dest, "{input:?} -> {shown:?}");
    assert_eq!(again.to_string(), shown);
    // The name rdock derives never panics either.
    let _ = rdock::docker::default_context_name(&dest);
});
