//! Rebuild when a message file changes: the Fluent files are compiled into the binary, and a
//! new file in `locales/` would otherwise go unnoticed until another change.

fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=assets");
}
