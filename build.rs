//! Exports the target triple this binary is built for, so `rdock --version` can name it
//! ("rdock 0.1.0 (x86_64-unknown-linux-gnu)"): bug reports and installers need to know which
//! release archive a user has.

fn main() {
    let target = std::env::var("TARGET").expect("cargo sets TARGET for build scripts");
    println!("cargo:rustc-env=RDOCK_TARGET={target}");
    println!("cargo:rerun-if-changed=build.rs");
}
