//! `~/.ssh/config`, edited only inside rdock's named managed blocks:
//!
//! ```text
//! # >>> rdock managed: agent >>>
//! AddKeysToAgent yes
//! # <<< rdock managed: agent <<<
//! ```
//!
//! Every byte outside a block is left alone; a rerun is byte-identical; a CRLF file stays CRLF; a
//! UTF-8 BOM stays first. ssh takes the first value it reads for an option, and a `Host` or `Match`
//! line scopes every line after it, so where a block goes follows from what it holds (see
//! [`Placement`]). rdock's own ssh calls read the file like any other ssh: nothing else to do.
//!
//! The text functions ([`set_block`], [`remove_block`]) are pure; [`write_block`] and
//! [`remove_block_from_file`] write atomically through [`fsutil::write_atomic`] (mode and symlinks
//! kept; a new file is 0600 in a 0700 `~/.ssh`), and refuse a file whose marker lines do not pair
//! up ([`check_markers`]), leaving it byte-identical. The agent settings of this OS live in the block
//! named [`AGENT_BLOCK`].

use std::path::Path;

use anyhow::{bail, Context as _, Result};

use crate::sys::fsutil;
use crate::sys::platform::Platform;

/// The block that holds the agent settings (AddKeysToAgent, UseKeychain, or Pageant's Include).
pub const AGENT_BLOCK: &str = "agent";

const BEGIN: &str = "# >>> rdock managed: ";
const BEGIN_END: &str = " >>>";
const END: &str = "# <<< rdock managed: ";
const END_END: &str = " <<<";
const BOM: char = '\u{feff}';

/// `# >>> rdock managed: NAME >>>`
pub fn begin_marker(name: &str) -> String {
    format!("{BEGIN}{name}{BEGIN_END}")
}

/// `# <<< rdock managed: NAME <<<`
pub fn end_marker(name: &str) -> String {
    format!("{END}{name}{END_END}")
}

/// Where a block belongs. It follows from the block's first directive ([`Placement::of`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Options for every host (`AddKeysToAgent yes`). They must come before the first `Host` or
    /// `Match` line, or that line would scope them; rdock puts them first in the file, so no earlier
    /// line overrides them either.
    Global,
    /// A block that starts with `Host ALIAS` (or `Match`). It goes before the first catch-all
    /// (`Host *`, `Match all`), which would otherwise override its options, or at the end when
    /// there is none; either way the line after it starts a section of its own.
    Host,
}

impl Placement {
    pub fn of(body: &str) -> Placement {
        match body.lines().find_map(directive) {
            Some(d) if d.starts_section() => Placement::Host,
            _ => Placement::Global,
        }
    }
}

/// One configuration line: its keyword (lower case) and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub keyword: String,
    pub args: Vec<String>,
}

impl Directive {
    fn starts_section(&self) -> bool {
        self.keyword == "host" || self.keyword == "match"
    }

    /// `Host *` (any `*` among the patterns) or `Match all`: a section that applies to every host.
    fn is_catch_all(&self) -> bool {
        let all =
            |a: &String| a == "*" || (self.keyword == "match" && a.eq_ignore_ascii_case("all"));
        self.starts_section() && self.args.iter().any(all)
    }
}

/// Does a `Host` line of `text` name `name`: a pattern that matches it (`*` and `?` as ssh reads
/// them), not negated, and not `*` alone (which names every host, so it says nothing of this one)?
/// `Include`d files are not read.
pub fn names_host(text: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    text.lines()
        .filter_map(directive)
        .filter(|d| d.keyword == "host")
        .any(|d| {
            let negated = d.args.iter().any(|p| {
                p.strip_prefix('!')
                    .is_some_and(|p| glob(&p.to_ascii_lowercase(), &name))
            });
            !negated
                && d.args
                    .iter()
                    .any(|p| p != "*" && glob(&p.to_ascii_lowercase(), &name))
        })
}

/// ssh's pattern match: `*` any run of characters, `?` one. A `*` is a wildcard first, even
/// against a `*` in the text (taken as a letter, it would keep no point to come back to).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Parse one line as ssh does: `Keyword value…` or `Keyword=value`, keywords in any case, `"…"`
/// quoting, `#` starting a comment. None for blank lines and comments.
pub fn directive(line: &str) -> Option<Directive> {
    let line = line.trim_start_matches(BOM).trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let split = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..split].to_ascii_lowercase();
    let mut rest = line[split..].trim_start();
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start();
    }
    let mut args = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                word.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        args.push(word);
    }
    Some(Directive { keyword, args })
}

/// The text split into lines, each with its line ending; the BOM, if any, apart.
struct Lines<'a> {
    bom: &'a str,
    lines: Vec<&'a str>,
    eol: &'static str,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let (bom, rest) = match text.strip_prefix(BOM) {
            Some(rest) => (&text[..BOM.len_utf8()], rest),
            None => ("", text),
        };
        Lines {
            bom,
            lines: rest.split_inclusive('\n').collect(),
            eol: if text.contains("\r\n") { "\r\n" } else { "\n" },
        }
    }

    fn content(&self, i: usize) -> &'a str {
        self.lines[i].trim_end_matches(['\n', '\r'])
    }

    /// Every complete block with this name, as (first, last) line indices. A begin marker without
    /// its end marker is read as ordinary text (callers check the markers pair up first).
    fn spans(&self, name: &str) -> Vec<(usize, usize)> {
        let (begin, end) = (begin_marker(name), end_marker(name));
        let mut spans = Vec::new();
        let mut open = None;
        for i in 0..self.lines.len() {
            let line = self.content(i).trim();
            if line == begin {
                open = Some(i);
            } else if line == end {
                if let Some(start) = open.take() {
                    spans.push((start, i));
                }
            }
        }
        spans
    }

    fn directive(&self, i: usize) -> Option<Directive> {
        directive(self.content(i))
    }

    /// Would a block at `at` (an index into `keep`, the lines that stay) be where `placement`
    /// wants it?
    fn in_place(&self, keep: &[usize], at: usize, placement: Placement) -> bool {
        let mut before = keep[..at].iter().filter_map(|&i| self.directive(i));
        match placement {
            Placement::Global => before.all(|d| !d.starts_section()),
            Placement::Host => {
                let next = keep[at..].iter().find_map(|&i| self.directive(i));
                !before.any(|d| d.is_catch_all()) && next.is_none_or(|d| d.starts_section())
            }
        }
    }

    /// Where a new block goes among `keep` (the lines that stay), as an index into `keep`.
    fn insertion(&self, keep: &[usize], placement: Placement) -> usize {
        if placement == Placement::Global {
            return 0;
        }
        let Some(mut at) = keep
            .iter()
            .position(|&i| self.directive(i).is_some_and(|d| d.is_catch_all()))
        else {
            return keep.len();
        };
        // A catch-all inside another rdock block: the new block goes before that whole block.
        let mut open = None;
        for (k, &i) in keep[..=at].iter().enumerate() {
            let line = self.content(i).trim();
            if line.starts_with(BEGIN) {
                open = Some(k);
            } else if line.starts_with(END) {
                open = None;
            }
        }
        at = open.unwrap_or(at);
        // Comments right above the catch-all describe it: keep them with it.
        while at > 0 {
            let line = self.content(keep[at - 1]).trim();
            if line.starts_with('#') && !line.starts_with(END) && !line.starts_with(BEGIN) {
                at -= 1;
            } else {
                break;
            }
        }
        at
    }
}

/// The block's lines, markers included, each ending with `eol`.
pub fn render(name: &str, body: &str, eol: &str) -> String {
    let mut out = format!("{}{eol}", begin_marker(name));
    for line in body.lines() {
        out.push_str(line);
        out.push_str(eol);
    }
    out.push_str(&end_marker(name));
    out.push_str(eol);
    out
}

/// The text with block `name` holding exactly `body` (one directive a line; line endings are the
/// file's). An existing block is replaced where it is, when it is where [`Placement::of`] wants it,
/// else moved there; duplicates of it are dropped. Nothing outside rdock's blocks changes, except
/// that a last line without a line ending gets one when a block is appended after it.
///
/// The text's marker lines must pair up ([`check_markers`]; the file helpers refuse a file whose
/// markers do not): a begin marker without its end marker is read as ordinary text.
pub fn set_block(text: &str, name: &str, body: &str) -> String {
    let placement = Placement::of(body);
    let lines = Lines::new(text);
    let spans = lines.spans(name);
    let block = render(name, body, lines.eol);
    let inside = |i: usize| spans.iter().any(|&(a, b)| (a..=b).contains(&i));
    let keep: Vec<usize> = (0..lines.lines.len()).filter(|&i| !inside(i)).collect();
    // The first existing block stays where it is when that place is right.
    let at = match spans
        .first()
        .map(|span| keep.partition_point(|&i| i < span.0))
    {
        Some(at) if lines.in_place(&keep, at, placement) => at,
        _ => lines.insertion(&keep, placement),
    };
    let mut out = String::from(lines.bom);
    for &i in &keep[..at] {
        out.push_str(lines.lines[i]);
    }
    if !out.is_empty() && !out.ends_with('\n') && out != lines.bom {
        out.push_str(lines.eol);
    }
    out.push_str(&block);
    for &i in &keep[at..] {
        out.push_str(lines.lines[i]);
    }
    out
}

/// The text without block `name` (every copy of it). Nothing else changes.
pub fn remove_block(text: &str, name: &str) -> String {
    let lines = Lines::new(text);
    let spans = lines.spans(name);
    let mut out = String::from(lines.bom);
    for (i, line) in lines.lines.iter().enumerate() {
        if !spans.iter().any(|&(a, b)| (a..=b).contains(&i)) {
            out.push_str(line);
        }
    }
    out
}

/// Is block `name` in the text?
pub fn has_block(text: &str, name: &str) -> bool {
    !Lines::new(text).spans(name).is_empty()
}

/// The first value ssh would take for `keyword` for every host: the first line that sets it before
/// any `Host` or `Match` line (inside rdock's blocks or not), with its 1-based line number. Files
/// pulled in with `Include` are not read.
pub fn global_value(text: &str, keyword: &str) -> Option<(usize, Vec<String>)> {
    let keyword = keyword.to_ascii_lowercase();
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| Some((n + 1, directive(line)?)))
        .take_while(|(_, d)| !d.starts_section())
        .find(|(_, d)| d.keyword == keyword)
        .map(|(n, d)| (n, d.args))
}

/// Every `Include` argument in the global section (before any `Host` or `Match`).
pub fn global_includes(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(directive)
        .take_while(|d| !d.starts_section())
        .filter(|d| d.keyword == "include")
        .flat_map(|d| d.args)
        .collect()
}

/// rdock's marker lines must pair up: each begin marker followed by the end marker of the same
/// name, with no other marker between. rdock edits only such a file: with a marker on its own, it
/// could not tell its lines from yours.
pub fn check_markers(text: &str) -> Result<()> {
    let marker = |line: &str, prefix: &str, suffix: &str| -> Option<Result<String, ()>> {
        let rest = line.strip_prefix(prefix.trim_end())?;
        Some(match rest.strip_suffix(suffix) {
            Some(name) if !name.trim().is_empty() => Ok(name.trim().to_string()),
            _ => Err(()),
        })
    };
    let mut open: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim_start_matches(BOM).trim();
        if let Some(begin) = marker(line, BEGIN, BEGIN_END) {
            let Ok(name) = begin else {
                bail!("line {n} is an incomplete rdock marker: {line:?}");
            };
            if let Some((m, other)) = &open {
                bail!(
                    "line {n} begins rdock block {name} inside block {other} (begun on line {m})"
                );
            }
            open = Some((n, name));
        } else if let Some(end) = marker(line, END, END_END) {
            let Ok(name) = end else {
                bail!("line {n} is an incomplete rdock marker: {line:?}");
            };
            match open.take() {
                Some((_, begun)) if begun == name => {}
                Some((m, begun)) => {
                    bail!("line {n} ends rdock block {name}, but line {m} began block {begun}")
                }
                None => bail!("line {n} ends rdock block {name}, which was never begun"),
            }
        }
    }
    if let Some((m, name)) = open {
        bail!("line {m} begins rdock block {name}, which never ends");
    }
    Ok(())
}

/// Refuse what would break the file or rdock's markers: an empty or multi-line name, a marker in
/// the body, or a block of global options that also holds a `Host`/`Match` line (that line would
/// capture every option after the block).
pub fn check_block(name: &str, body: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        bail!("invalid block name {name:?}");
    }
    if body
        .lines()
        .any(|l| l.trim_start().starts_with(BEGIN) || l.trim_start().starts_with(END))
    {
        bail!("the body of block {name} holds an rdock marker line");
    }
    if Placement::of(body) == Placement::Global
        && body
            .lines()
            .filter_map(directive)
            .any(|d| d.starts_section())
    {
        bail!("block {name} mixes global options with a Host or Match section; start it with Host or Match, or leave those out");
    }
    Ok(())
}

/// The file's text, or "" when it does not exist.
pub fn read(path: &Path) -> Result<String> {
    match fsutil::read_optional(path, fsutil::MAX_TEXT_BYTES) {
        Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| {
            anyhow::anyhow!(
                "{} is not UTF-8 text; rdock leaves it as it is",
                path.display()
            )
        }),
        Ok(None) => Ok(String::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub fn unbalanced(path: &Path, e: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: {e}; rdock leaves the file as it is until its marker lines pair up again",
        path.display()
    )
}

/// Set block `name` in the file at `path` (see [`set_block`]). Returns whether the file changed;
/// an unchanged file is not written at all. A new file gets mode 0600, and a missing directory is
/// made 0700.
pub fn write_block(path: &Path, name: &str, body: &str) -> Result<bool> {
    check_block(name, body)?;
    let text = read(path)?;
    check_markers(&text).map_err(|e| unbalanced(path, e))?;
    let new = set_block(&text, name, body);
    if new == text {
        return Ok(false);
    }
    let target = fsutil::resolve_target(path)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fsutil::create_private_dir(dir)?;
    }
    fsutil::write_atomic(path, new.as_bytes(), 0o600)?;
    Ok(true)
}

/// Take block `name` out of the file at `path`. Returns whether the file changed; a missing file
/// or a file without the block is not touched.
pub fn remove_block_from_file(path: &Path, name: &str) -> Result<bool> {
    let text = read(path)?;
    check_markers(&text).map_err(|e| unbalanced(path, e))?;
    let new = remove_block(&text, name);
    if new == text {
        return Ok(false);
    }
    fsutil::write_atomic(path, new.as_bytes(), 0o600)?;
    Ok(true)
}

/// The body of the agent block for this OS, or None when nothing belongs there: the directives of
/// [`Platform::agent_config`], prefaced (on macOS) by `IgnoreUnknown` for the Apple-only options.
/// An `IgnoreUnknown` elsewhere in `text` keeps its patterns: ssh takes only the first
/// `IgnoreUnknown` it reads, and rdock's comes first.
pub fn agent_block_body(p: Platform, pageant: bool, text: &str) -> Option<String> {
    let directives = p.agent_config(pageant);
    if directives.is_empty() {
        return None;
    }
    let mut body = String::new();
    let apple_only = p.apple_only_options();
    if !apple_only.is_empty() {
        let mut patterns: Vec<String> = apple_only.iter().map(|s| s.to_string()).collect();
        let others = remove_block(text, AGENT_BLOCK);
        for pattern in others
            .lines()
            .filter_map(directive)
            .filter(|d| d.keyword == "ignoreunknown")
            .flat_map(|d| d.args)
            .flat_map(|a| a.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|a| !a.is_empty())
        {
            if !patterns.iter().any(|p| p.eq_ignore_ascii_case(&pattern)) {
                patterns.push(pattern);
            }
        }
        body.push_str(&format!("IgnoreUnknown {}\n", patterns.join(",")));
    }
    for (keyword, value) in directives {
        body.push_str(&format!("{keyword} {value}\n"));
    }
    Some(body)
}

/// Does a global `Include` name a file called `file` (in any directory)?
pub fn includes(text: &str, file: &str) -> bool {
    global_includes(text)
        .iter()
        .any(|a| file_name(a).eq_ignore_ascii_case(file_name(file)))
}

/// Is this directive in effect for every host? `Include` counts when a global `Include` names
/// the same file; other options when the first global value is this one.
pub fn in_effect(text: &str, keyword: &str, value: &str) -> Effect {
    if keyword.eq_ignore_ascii_case("include") {
        return if includes(text, value) {
            Effect::Yes
        } else {
            Effect::Missing
        };
    }
    match global_value(text, keyword) {
        Some((_, args)) if args.len() == 1 && args[0].eq_ignore_ascii_case(value) => Effect::Yes,
        Some((line, args)) => Effect::Overridden(line, args.join(" ")),
        None => Effect::Missing,
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    Yes,
    Missing,
    /// Set to something else, on this line.
    Overridden(usize, String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_line_names_a_host_by_pattern_but_not_by_a_bare_star() {
        let text = "Host *\n  User x\nHost box work-?? !work-99\n  Port 22\nHost *.lan\n";
        for (name, named) in [
            ("box", true),
            ("BOX", true),
            ("work-01", true),
            ("work-99", false),
            ("pi.lan", true),
            ("nearyl", false),
            ("box2", false),
        ] {
            assert_eq!(names_host(text, name), named, "{name}");
        }
    }

    /// As ssh's match_pattern: every `*` of a pattern is a wildcard, also where the name holds one.
    #[test]
    fn a_star_in_a_pattern_matches_any_run_even_one_with_stars() {
        assert!(glob("*?", "b*"));
        assert!(glob("*.lan", "*x.lan"));
        assert!(!glob("?*.lan", "*"));
    }

    #[test]
    fn directives_are_read_as_ssh_reads_them() {
        let d = directive("  HOST=\"my host\" other # note").unwrap();
        assert_eq!(d.keyword, "host");
        assert_eq!(d.args, ["my host", "other"]);
        let d = directive("AddKeysToAgent = yes").unwrap();
        assert_eq!(
            (d.keyword.as_str(), d.args.as_slice()),
            ("addkeystoagent", &["yes".to_string()][..])
        );
        assert_eq!(directive("   # comment"), None);
        assert_eq!(directive("\r"), None);
        assert!(directive("Host * !bastion").unwrap().is_catch_all());
        assert!(directive("match ALL").unwrap().is_catch_all());
        assert!(!directive("Host build-*").unwrap().is_catch_all());
        assert!(!directive("Match host x").unwrap().is_catch_all());
    }

    #[test]
    fn placement_follows_the_first_directive() {
        assert_eq!(Placement::of("AddKeysToAgent yes\n"), Placement::Global);
        assert_eq!(
            Placement::of("# why\nHost b\n  ControlMaster auto\n"),
            Placement::Host
        );
        assert_eq!(Placement::of("Match host b\n"), Placement::Host);
        assert_eq!(Placement::of(""), Placement::Global);
    }

    #[test]
    fn the_first_global_value_wins_and_host_sections_do_not_count() {
        let text = "User a\nAddKeysToAgent no\nAddKeysToAgent yes\nHost x\n  IdentityAgent y\n";
        assert_eq!(
            global_value(text, "addkeystoagent"),
            Some((2, vec!["no".into()]))
        );
        assert_eq!(global_value(text, "IdentityAgent"), None);
        assert_eq!(
            global_includes("Include a b\nHost x\nInclude c\n"),
            ["a", "b"]
        );
    }

    #[test]
    fn a_block_that_mixes_global_options_and_a_host_is_refused() {
        assert!(check_block("agent", "AddKeysToAgent yes\nHost x\n").is_err());
        assert!(check_block("agent", "# >>> rdock managed: x >>>\n").is_err());
        assert!(check_block("", "A b\n").is_err());
        assert!(check_block("a\nb", "A b\n").is_err());
        assert!(check_block("host:b", "Host b\n  User u\n").is_ok());
    }

    #[test]
    fn marker_lines_must_pair_up() {
        let b = |n: &str| begin_marker(n);
        let e = |n: &str| end_marker(n);
        let ok = format!(
            "{}\nA b\n{}\nHost x\n{}\n{}\n",
            b("agent"),
            e("agent"),
            b("h"),
            e("h")
        );
        assert!(check_markers(&ok).is_ok());
        assert!(check_markers("User me\n# >>> rdock managed\n").is_ok());
        for (text, says) in [
            (
                format!("User me\n{}\nHost x\n", b("agent")),
                "line 2 begins rdock block agent, which never ends",
            ),
            (
                format!("{}\n", e("agent")),
                "line 1 ends rdock block agent, which was never begun",
            ),
            (
                format!("{}\n{}\n{}\n", b("a"), b("h"), e("h")),
                "line 2 begins rdock block h inside block a (begun on line 1)",
            ),
            (
                format!("{}\n{}\n", b("a"), e("h")),
                "line 2 ends rdock block h, but line 1 began block a",
            ),
            (
                "# >>> rdock managed: agent\n".to_string(),
                "line 1 is an incomplete rdock marker",
            ),
        ] {
            let err = check_markers(&text).unwrap_err().to_string();
            assert!(err.starts_with(says), "{err}");
        }
    }
}
