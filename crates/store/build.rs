// `sqlx::migrate!` embeds crates/store/migrations at compile time; a proc macro
// cannot ask cargo to watch a directory, so a new or edited migration would
// otherwise not rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=log_migrations");
}
