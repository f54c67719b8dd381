//! `rust-embed` compiles every file of `assets/ui/` into the crate, but a proc
//! macro cannot tell cargo that a *new* file appeared in the folder: this does,
//! so adding a page module rebuilds the crate instead of serving a stale UI.
fn main() {
    println!("cargo:rerun-if-changed=assets/ui");
}
