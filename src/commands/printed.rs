//! `rdock completions SHELL` and `rdock man`: text made from the command line's own definition.
//! Each is made in memory first, then printed through `render::out`, so a write that fails
//! (`>/dev/full`) is an error with exit 1, not a panic inside the generator.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::render;

pub fn completions(shell: clap_complete::Shell) -> Result {
    let mut cmd = Cli::command();
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut cmd, "rdock", &mut text);
    print(text)
}

pub fn man() -> Result {
    let mut text = Vec::new();
    man_page(&mut text)
        .map_err(|e| Error::Failed(format!("error: cannot make the man page: {e}")))?;
    print(text)
}

fn print(text: Vec<u8>) -> Result {
    let text = String::from_utf8(text)
        .map_err(|e| Error::Failed(format!("error: the text made is not UTF-8: {e}")))?;
    render::out(&text);
    Ok(ExitCode::SUCCESS)
}

/// One page for everything: the top level's name, synopsis, description and options, then a
/// section per subcommand (its synopsis, description, options, examples and exit codes), then the
/// top level's examples. clap_mangen's list of subcommands would point at rdock-setup(1) and the
/// like, pages that do not exist: each subcommand's own section stands in for it.
pub fn man_page(w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("rdock {}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone());
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_description_section(&mut section)?;
        page.render_options_section(&mut section)?;
        page.render_extra_section(&mut section)?;
        let section = String::from_utf8_lossy(&section)
            .replacen(
                ".SH SYNOPSIS",
                &format!(".SH \"{}\"", name.to_uppercase()),
                1,
            )
            .replace(".SH DESCRIPTION\n", ".PP\n")
            .replace(".SH OPTIONS", ".SS Options")
            .replace(".SH EXTRA", ".SS \"\"");
        w.write_all(section.as_bytes())?;
    }
    let mut extra = Vec::new();
    man.render_extra_section(&mut extra)?;
    let extra =
        String::from_utf8_lossy(&extra).replace(".SH EXTRA", ".SH \"EXAMPLES AND EXIT CODES\"");
    w.write_all(extra.as_bytes())?;
    man.render_version_section(w)
}
